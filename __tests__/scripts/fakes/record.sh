# shellcheck shell=bash
# Shared by the test doubles in this directory: append one JSON line per call to $FAKE_LOG.
record_call() {
  jq -nc --arg cmd "${0##*/}" --arg node "${CIAS_SHIM_NODE:-}" '{cmd: $cmd, node: $node, argv: $ARGS.positional}' \
    --args -- "$@" >>"${FAKE_LOG:?FAKE_LOG is not set}"
}
FAKE_STATE=${FAKE_STATE:?FAKE_STATE is not set}
mkdir -p "$FAKE_STATE/units"
# Units listed in $FAKE_ACTIVE_UNITS are active from the first call of any double on.
if [[ ! -e $FAKE_STATE/units.initialised ]]; then
  for unit in ${FAKE_ACTIVE_UNITS:-}; do touch "$FAKE_STATE/units/$unit"; done
  touch "$FAKE_STATE/units.initialised"
fi
