#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-gateway-backup-copy: keep a local copy of the newest gateway backup (SPEC §4: Mondays
# 04:00), so a new master can restore the gateway VM even before MooseFS serves again.
#
# Usage: cias-gateway-backup-copy [--help]
#
# Copies the newest $CIAS_MFS_MOUNT/dump/vzdump-qemu-<CIAS_GATEWAY_VMID>-*.vma[.gz|.lzo|.zst]
# (standard vzdump names; the timestamp in the name orders them) to CIAS_LOCAL_GATEWAY_DUMP, an
# uncompressed .vma: compressed dumps are decompressed on the way (gzip, lzop or zstd must then be
# installed). The copy goes to a temporary file beside the target and is renamed over it, so the
# local copy is never half written. Copying the same dump again is skipped (the source name and
# size are recorded in /var/lib/cias/gateway-dump.source).
#
# Exit codes: 0 copied (or already current); 1 no dump found or the copy failed; 3 a required
# command is missing; 5 already running; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

cias_load_config
require_commands flock
cias_lock_or_exit gateway-backup-copy 0

mountpoint -q "$CIAS_MFS_MOUNT" || die "$CIAS_EXIT_FAILED" "$CIAS_MFS_MOUNT is not mounted: no gateway dump to copy"
source_dump=$(newest_dump "$CIAS_GATEWAY_VMID")
[[ -n $source_dump ]] ||
  die "$CIAS_EXIT_FAILED" "no gateway dump (vzdump-qemu-$CIAS_GATEWAY_VMID-*) in $CIAS_MFS_MOUNT/dump; has the gateway backup job run?"

marker="$(cias_var_dir)/gateway-dump.source"
identity="${source_dump##*/} $(stat -c %s "$source_dump")"
if [[ -s $CIAS_LOCAL_GATEWAY_DUMP && -r $marker && $(<"$marker") == "$identity" ]]; then
  log_info "$CIAS_LOCAL_GATEWAY_DUMP is already a copy of ${source_dump##*/}"
  exit 0
fi

case $source_dump in
  *.vma) decompress=(cat) ;;
  *.vma.gz) decompress=(gzip -dc) ;;
  *.vma.lzo) decompress=(lzop -dc) ;;
  *.vma.zst) decompress=(zstd -qdc) ;;
  *) die "$CIAS_EXIT_FAILED" "unexpected dump name $source_dump" ;;
esac
require_commands "${decompress[0]}"

target_dir=$(dirname "$CIAS_LOCAL_GATEWAY_DUMP")
mkdir -p "$target_dir"
tmp=$(mktemp "$target_dir/.${CIAS_LOCAL_GATEWAY_DUMP##*/}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
log_info "copying ${source_dump##*/} to $CIAS_LOCAL_GATEWAY_DUMP"
"${decompress[@]}" "$source_dump" >"$tmp" || die "$CIAS_EXIT_FAILED" "reading $source_dump failed"
if [[ ${decompress[0]} == cat ]] && (($(stat -c %s "$tmp") != $(stat -c %s "$source_dump"))); then
  die "$CIAS_EXIT_FAILED" "the copy of $source_dump is incomplete"
fi
[[ -s $tmp ]] || die "$CIAS_EXIT_FAILED" "$source_dump is empty"
chmod 0600 "$tmp"
mv -f "$tmp" "$CIAS_LOCAL_GATEWAY_DUMP"
trap - EXIT
printf '%s\n' "$identity" >"$marker"
log_info "local gateway backup updated from ${source_dump##*/}"
