#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-delete-node: remove a node from the cluster (SPEC §7 scenario 6). Run on the master (the
# node holding CIAS_VIP); cias-liveness runs it for a node silent for CIAS_DEAD_AFTER_MIN minutes.
#
# Usage: cias-delete-node <node-name> [--wait-offline <minutes>] [--help]
#
# - If the node still answers (ping), it leaves by itself: `ssh root@<node> cias-node-leave`
#   (scenario 5), which migrates its VMs away, asks the master to delete it and powers it off.
# - With --wait-offline, it first waits up to <minutes> for the node to stop answering (what
#   cias-node-leave asks for just before it powers off); a node that keeps answering is not deleted.
# - A silent node: with a quorate cluster, every VM whose config sits in
#   /etc/pve/nodes/<node>/qemu-server is recovered: the config moves to a live node (the gateway to
#   this master, others to the least-loaded non-master node), the VM starts there from its shared
#   disks or is restored from the newest backup in MooseFS, and starts when onboot=1. Then
#   `pvecm delnode <node>` removes it from corosync (skipped when it is no longer a member, so
#   running this twice is safe) and the administrator is notified. Its leftover directory
#   /etc/pve/nodes/<node> stays for inspection, as in the Proxmox documentation.
# The node's name and address are never to be reused (SPEC §2).
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_REMOTE_SBIN (/usr/local/sbin): where
# cias scripts live on the other node.
#
# Exit codes: 0 done; 1 failed (delnode failed, node kept answering); 2 usage; 3 not a Proxmox VE
# node; 4 refused (not the master, or this node itself); 5 busy; 6 partly done (a VM not
# recovered, or the cluster not quorate); 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

REMOTE_SBIN=${CIAS_REMOTE_SBIN:-/usr/local/sbin}
node=""
wait_offline_min=0
while (($# > 0)); do
  case $1 in
    --wait-offline)
      [[ ${2:-} =~ ^[0-9]+$ ]] || die "$CIAS_EXIT_USAGE" "--wait-offline needs a number of minutes"
      wait_offline_min=$2
      shift 2
      ;;
    -*) die "$CIAS_EXIT_USAGE" "unknown option $1 (see --help)" ;;
    *)
      [[ -z $node ]] || die "$CIAS_EXIT_USAGE" "one node name only (see --help)"
      node=$1
      shift
      ;;
  esac
done
[[ -n $node ]] || die "$CIAS_EXIT_USAGE" "usage: cias-delete-node <node-name> [--wait-offline <minutes>]"
[[ $node =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$ ]] || die "$CIAS_EXIT_USAGE" "'$node' is not a Proxmox node name"

cias_load_config
require_commands pvecm pvesh qmrestore jq flock ip ping
[[ $node != "$CIAS_NODE_NAME" ]] ||
  die "$CIAS_EXIT_REFUSED" "a node cannot delete itself; run cias-node-leave on it, or cias-delete-node on the master"
holds_vip || die "$CIAS_EXIT_REFUSED" "run cias-delete-node on the master: $CIAS_VIP is not on this node"
cias_lock_or_exit cluster "${CIAS_LOCK_WAIT_SEC:-3600}"

# The node's address: nodes.conf, else its corosync link (a node already dropped from cluster.yaml).
node_ip() {
  local ip
  ip=$(cias_nodes | awk -v n="$node" '$2 == n { print $1; exit }')
  if [[ -z $ip && -r $CIAS_PVE_DIR/corosync.conf ]]; then
    ip=$(awk -v n="$node" '$1 == "name:" { name = $2 } $1 == "ring0_addr:" && name == n { print $2; exit }' "$CIAS_PVE_DIR/corosync.conf")
  fi
  printf '%s\n' "$ip"
}

is_member() {
  [[ -r $CIAS_PVE_DIR/corosync.conf ]] &&
    awk -v n="$node" '$1 == "name:" && $2 == n { found = 1 } END { exit !found }' "$CIAS_PVE_DIR/corosync.conf"
}

answers() {
  [[ -n $ip ]] && ping -n -q -c 2 -W 2 "$ip" >/dev/null 2>&1
}

ip=$(node_ip)
[[ -n $ip ]] || log_warn "no address known for $node (not in nodes.conf or corosync.conf): treating it as silent"

if ((wait_offline_min > 0)); then
  deadline=$((SECONDS + wait_offline_min * 60))
  while answers; do
    ((SECONDS < deadline)) || die "$CIAS_EXIT_FAILED" "$node ($ip) still answers after $wait_offline_min min; not deleting it"
    sleep 10
  done
elif answers; then
  log_info "$node ($ip) answers: asking it to leave the cluster itself (cias-node-leave)"
  require_commands ssh
  ssh -o BatchMode=yes -o ConnectTimeout=15 "root@$ip" "$REMOTE_SBIN/cias-node-leave" ||
    die "$CIAS_EXIT_FAILED" "cias-node-leave on $node failed; see /var/log/cias.log there"
  exit 0
fi

pve_is_quorate ||
  die "$CIAS_EXIT_PARTIAL" "the cluster is not quorate: cannot move the VMs of $node or remove it. If the missing nodes are really down, 'pvecm expected <n>' makes the rest quorate"

failed=()
shopt -s nullglob
configs=("$CIAS_PVE_DIR/nodes/$node/qemu-server/"*.conf)
shopt -u nullglob
for conf in "${configs[@]}"; do
  vmid=${conf##*/}
  vmid=${vmid%.conf}
  if ((vmid == CIAS_GATEWAY_VMID)); then
    target=$CIAS_NODE_NAME
  else
    target=$(least_loaded_node "$CIAS_NODE_NAME" "$node")
    if [[ -z $target ]]; then
      log_warn "no other online node for VM $vmid; recovering it on the master"
      target=$CIAS_NODE_NAME
    fi
  fi
  log_info "recovering VM $vmid of $node on $target"
  recover_vm "$vmid" "$node" "$target" "$(pve_conf_onboot "$conf")" || failed+=("VM $vmid")
done

if is_member; then
  log_info "removing $node from the cluster: pvecm delnode $node"
  pvecm delnode "$node" || die "$CIAS_EXIT_FAILED" "pvecm delnode $node failed"
else
  log_info "$node is no longer a cluster member"
fi

if ((${#failed[@]} > 0)); then
  notify "node $node deleted, VMs missing" "$node was removed from the cluster, but these could not be recovered: ${failed[*]}. See /var/log/cias.log on $CIAS_NODE_NAME."
  exit "$CIAS_EXIT_PARTIAL"
fi
notify "node $node deleted" "$node stopped answering and was removed from the cluster; its ${#configs[@]} VM(s) run elsewhere now. Never reuse its name or address ($ip)."
