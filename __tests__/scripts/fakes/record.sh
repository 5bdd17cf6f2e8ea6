# shellcheck shell=bash
# Shared by the test doubles in this directory: append one JSON line per call to $FAKE_LOG.
record_call() {
  jq -nc --arg cmd "${0##*/}" --arg node "${CIAS_SHIM_NODE:-}" '{cmd: $cmd, node: $node, argv: $ARGS.positional}' \
    --args -- "$@" >>"${FAKE_LOG:?FAKE_LOG is not set}"
}
FAKE_STATE=${FAKE_STATE:?FAKE_STATE is not set}
mkdir -p "$FAKE_STATE"
