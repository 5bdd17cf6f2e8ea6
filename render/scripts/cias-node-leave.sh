#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-node-leave: this node leaves the cluster for good (SPEC §7 scenario 5).
#
# Usage: cias-node-leave [--no-poweroff] [--help]
#
# 1. Every VM here except the gateway migrates (online when running) to the least-loaded (free
#    RAM) node that is neither this node nor the master.
# 2. On the master: keepalived is stopped, not restarted, so the VIPs move to another node for
#    certain (a node that is leaving must not win the election again), and mfsmaster stops. The new
#    master's failover moves the gateway VM away; this script polls every CIAS_LEAVE_POLL_SEC
#    (300, SPEC: 5 min) until it has, for at most CIAS_LEAVE_TIMEOUT_MIN (120). If it never moves,
#    keepalived starts again here and the node stays (exit 6).
# 3. A Proxmox node cannot remove itself (`pvecm delnode` runs on a remaining member, after the node
#    is off). So it asks the master over SSH to run `cias-delete-node <this node> --wait-offline 30`
#    in the background, which waits until this node stops answering and then deletes it.
# 4. Notifies the administrator and powers off in one minute (`shutdown -h +1`), unless
#    --no-poweroff is given.
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_REMOTE_SBIN (/usr/local/sbin): where
# cias scripts live on the master; CIAS_LEAVE_POLL_SEC; CIAS_LEAVE_TIMEOUT_MIN.
#
# Exit codes: 0 left; 1 a migration failed (the node stays); 2 usage; 3 not a Proxmox VE node;
# 5 busy; 6 the cluster is not quorate, no node can take the VMs, or the gateway did not move;
# 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

poweroff=1
for arg in "$@"; do
  case $arg in
    --no-poweroff) poweroff=0 ;;
    *) die "$CIAS_EXIT_USAGE" "unknown argument $arg (see --help)" ;;
  esac
done

REMOTE_SBIN=${CIAS_REMOTE_SBIN:-/usr/local/sbin}
POLL_SEC=${CIAS_LEAVE_POLL_SEC:-300}
TIMEOUT_MIN=${CIAS_LEAVE_TIMEOUT_MIN:-120}

cias_load_config
require_commands pvecm pvesh jq flock ip ssh systemctl shutdown
cias_lock_or_exit cluster "${CIAS_LOCK_WAIT_SEC:-3600}"
pve_is_quorate || die "$CIAS_EXIT_PARTIAL" "the cluster is not quorate: no VM can move, so this node does not leave"

me=$CIAS_NODE_NAME
was_master=0
holds_vip && was_master=1
master=$(current_master_node)
log_info "leaving the cluster (master now: ${master:-unknown})"

vms=$(pve_resources vm)
while read -r -u 3 vmid status; do
  ((vmid == CIAS_GATEWAY_VMID)) && continue
  target=$(least_loaded_node "$me" "$master")
  [[ -n $target ]] || die "$CIAS_EXIT_PARTIAL" "no online node other than this one and the master can take VM $vmid; not leaving"
  pve_migrate_vm "$vmid" "$me" "$target" "$([[ $status == running ]] && echo 1 || echo 0)" ||
    die "$CIAS_EXIT_FAILED" "migrating VM $vmid to $target failed; not leaving"
done 3< <(jq -r --arg me "$me" '.[] | select(.type == "qemu" and .node == $me) | "\(.vmid) \(.status // "unknown")"' <<<"$vms")

gateway_here() {
  [[ $(pve_vm_location "$CIAS_GATEWAY_VMID" | cut -d' ' -f1) == "$me" ]]
}

if ((was_master)); then
  log_info "handing over the master role: stopping keepalived and mfsmaster"
  systemctl stop keepalived
  systemctl stop moosefs-cgiserv moosefs-master || log_warn "stopping MooseFS master services failed"
  deadline=$((SECONDS + TIMEOUT_MIN * 60))
  while gateway_here; do
    if ((SECONDS >= deadline)); then
      log_error "the gateway VM $CIAS_GATEWAY_VMID is still here after $TIMEOUT_MIN min: no new master took over; starting keepalived again"
      systemctl start keepalived || true
      notify "node $me did not leave" "No other node took over the master role within $TIMEOUT_MIN min; $me keeps it."
      exit "$CIAS_EXIT_PARTIAL"
    fi
    log_info "waiting for the new master to move the gateway VM $CIAS_GATEWAY_VMID away (next check in ${POLL_SEC}s)"
    sleep "$POLL_SEC"
  done
elif gateway_here; then
  log_warn "the gateway VM $CIAS_GATEWAY_VMID runs here but this node is not the master; the next failover will restore it"
fi

log_info "asking the master to remove $me once it is off"
if ! ssh -o BatchMode=yes -o ConnectTimeout=15 "root@$CIAS_VIP" \
  "setsid -f $REMOTE_SBIN/cias-delete-node $me --wait-offline 30 </dev/null >/dev/null 2>&1"; then
  log_error "could not reach the master at $CIAS_VIP: after power-off, run 'cias-delete-node $me' on the master"
fi
notify "node $me leaves the cluster" "$me moved its VMs away$( ((was_master)) && echo ' and handed over the master role') and $( ((poweroff)) && echo 'powers off in one minute' || echo 'stays powered on (--no-poweroff)'). The master removes it from the Proxmox cluster once it is off."
if ((poweroff)); then
  shutdown -h +1 "cias: $me leaves the cluster"
fi
log_info "left the cluster"
