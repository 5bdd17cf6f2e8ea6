#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-export-vmids: the master writes the list of every VM in the cluster to
# $CIAS_SHARED_DIR/pve_master_vmid.conf (SPEC §5), which the next master's failover reads.
# Cron runs it on every node; on a node without CIAS_VIP it does nothing (exit 0).
#
# Usage: cias-export-vmids [--help]
#
# File format (one VM per line, fields separated by one space; '#' lines are comments):
#   # cias pve_master_vmid v1
#   # exported-by <node> <epoch> <ISO-8601 time>
#   # vmid node status onboot
#   <vmid> <node> <status> <onboot>
# status is what /cluster/resources says (running, stopped, unknown...); onboot is 0 or 1, read
# from the VM's config in /etc/pve/nodes/<node>/qemu-server/<vmid>.conf. Lines are sorted by VMID.
# The file is written to a temporary name in the same directory and renamed, so a reader never
# sees half a list. It is only written when MooseFS is mounted at CIAS_MFS_MOUNT: otherwise it
# would go to the local disk under the empty mount point, where no other node can read it.
#
# Exit codes: 0 written (or not the master); 1 failed; 3 not a Proxmox VE node; 5 already
# running; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

cias_load_config
require_commands pvesh jq flock ip
if ! holds_vip; then
  exit 0
fi
cias_lock_or_exit export-vmids 0
mountpoint -q "$CIAS_MFS_MOUNT" || die "$CIAS_EXIT_FAILED" "$CIAS_MFS_MOUNT is not mounted; not writing the VMID list"

vms=$(pve_resources vm)
target="$CIAS_SHARED_DIR/pve_master_vmid.conf"
{
  printf '# cias pve_master_vmid v1\n'
  printf '# exported-by %s %s %s\n' "$CIAS_NODE_NAME" "$(date +%s)" "$(date '+%Y-%m-%dT%H:%M:%S%z')"
  printf '# vmid node status onboot\n'
  while read -r vmid node status; do
    conf=$(pve_vm_conf "$node" "$vmid")
    onboot=0
    [[ -f $conf ]] && onboot=$(pve_conf_onboot "$conf")
    printf '%s %s %s %s\n' "$vmid" "$node" "$status" "$onboot"
  done < <(jq -r '[.[] | select(.type == "qemu")] | sort_by(.vmid)[] | "\(.vmid) \(.node) \(.status // "unknown")"' <<<"$vms")
} | write_atomically "$target"
count=$(grep -cv '^#' "$target" || true)
log_info "exported $count VM(s) to $target"
