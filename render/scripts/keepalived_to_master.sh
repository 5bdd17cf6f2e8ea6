#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# keepalived_to_master.sh: failover onto this node (SPEC §7 scenario 3). keepalived runs it as
# notify_master once the VIPs are here; running it by hand on the master is safe (idempotent).
#
# Usage: keepalived_to_master.sh [--help]
#
# Steps:
#  1. Guards: refuses (exit 4) on a node that may never be master (CIAS_CAN_BE_MASTER=0) and on a
#     node that does not hold CIAS_VIP. One failover at a time (lock "cluster", waits up to
#     CIAS_LOCK_WAIT_SEC, default 3600).
#  2. MooseFS master: a mfsmaster already running here dates from before this node became master
#     (nothing stops it on demotion), so it is stopped. The metalogger's files (metadata_ml*,
#     changelog_ml*) are copied into the master's DATA_PATH when the two differ, then
#     `mfsmaster -a -c <cfg> restore` rebuilds metadata.mfs without starting the daemon (never
#     mfsmetarestore: a stub in 3.0), and systemd starts moosefs-master and moosefs-cgiserv.
#  3. Guests, for each VMID in $CIAS_SHARED_DIR/pve_master_vmid.conf (written by
#     cias-export-vmids; without it, the cluster's own list), only with a quorate cluster:
#     - the gateway (CIAS_GATEWAY_VMID) on a live node moves here (`pvesh create
#       /nodes/<src>/qemu/<vmid>/migrate`, online when running) and runs here;
#     - other VMs on live nodes are left alone;
#     - a VM that is gone, or whose config sits on the previous master that is now down, is
#       recovered: its config moves from the dead node to the target (SPEC §8: otherwise the VMID
#       stays registered to the dead node and no restore is possible), then it starts from its
#       shared disks or is restored from backup (the gateway from CIAS_LOCAL_GATEWAY_DUMP onto this
#       node, others from the newest dump in MooseFS onto the least-loaded non-master node), and
#       starts when onboot=1. VMs on other dead nodes are left to cias-liveness (scenario 6).
#  4. Notifies the administrator.
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_MFSMASTER_CFG (/etc/mfs/mfsmaster.cfg),
# CIAS_MFSMETALOGGER_CFG (/etc/mfs/mfsmetalogger.cfg), CIAS_MFS_WAIT_SEC (120): how long to wait
# for the MooseFS mount to answer after the master starts.
#
# Exit codes: 0 done; 3 not a Proxmox VE node; 4 refused; 5 busy; 6 partly done (MooseFS master
# not restored, no quorum, or a VM not recovered); 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

MFS_MASTER_CFG=${CIAS_MFSMASTER_CFG:-/etc/mfs/mfsmaster.cfg}
MFS_METALOGGER_CFG=${CIAS_MFSMETALOGGER_CFG:-/etc/mfs/mfsmetalogger.cfg}
MFS_WAIT_SEC=${CIAS_MFS_WAIT_SEC:-120}
VMID_FILE_NAME=pve_master_vmid.conf

cias_load_config
if [[ $CIAS_CAN_BE_MASTER != 1 ]]; then
  notify "failover refused" "keepalived made $CIAS_NODE_NAME master, but it is below the hardware minimum (CIAS_CAN_BE_MASTER=0); check keepalived.conf"
  die "$CIAS_EXIT_REFUSED" "refusing to act as master: this node may never be master (CIAS_CAN_BE_MASTER=0)"
fi
require_commands pvecm pvesh qm qmrestore jq mfsmaster systemctl flock ip
holds_vip || die "$CIAS_EXIT_REFUSED" "refusing to act as master: $CIAS_VIP is not on a local interface"

# The manual switch waits on these two files: "started" when keepalived has invoked us, "last"
# (time and exit code) when we are done, whatever the outcome.
state_dir=$(cias_var_dir)
date +%s >"$state_dir/failover.started"
record_outcome() {
  printf '%s %s\n' "$(date +%s)" "$1" >"$state_dir/failover.last"
}
trap 'record_outcome $?' EXIT
cias_lock_or_exit cluster "${CIAS_LOCK_WAIT_SEC:-3600}"

cfg_data_path() {
  local path=""
  [[ -r $1 ]] && path=$(awk -F= '/^[[:space:]]*DATA_PATH[[:space:]]*=/ { gsub(/^[[:space:]]+|[[:space:]]+$/, "", $2); print $2; exit }' "$1")
  printf '%s\n' "${path:-/var/lib/mfs}"
}

mfs_master_running() {
  mfsmaster -c "$MFS_MASTER_CFG" test >/dev/null 2>&1
}

recover_mfs_master() {
  local master_dir metalogger_dir file copied=0
  master_dir=$(cfg_data_path "$MFS_MASTER_CFG")
  metalogger_dir=$(cfg_data_path "$MFS_METALOGGER_CFG")
  if mfs_master_running; then
    log_info "stopping the mfsmaster that ran here before this node became master (its metadata may be stale)"
    systemctl stop moosefs-master || mfsmaster -c "$MFS_MASTER_CFG" stop || true
  fi
  if [[ $metalogger_dir != "$master_dir" ]]; then
    shopt -s nullglob
    for file in "$metalogger_dir"/metadata_ml.mfs.back* "$metalogger_dir"/changelog_ml*.mfs; do
      cp -p "$file" "$master_dir/"
      copied=$((copied + 1))
    done
    shopt -u nullglob
    log_info "copied $copied metalogger file(s) from $metalogger_dir to $master_dir"
    chown mfs:mfs "$master_dir"/* 2>/dev/null || true
  fi
  if ! compgen -G "$master_dir/metadata*" >/dev/null; then
    log_error "no metadata file in $master_dir (no metalogger data either): refusing to start an empty MooseFS master, which would discard every chunk"
    return 1
  fi
  log_info "restoring MooseFS metadata: mfsmaster -a -c $MFS_MASTER_CFG restore"
  mfsmaster -a -c "$MFS_MASTER_CFG" restore || return 1
  systemctl start moosefs-master || return 1
  systemctl start moosefs-cgiserv || log_warn "moosefs-cgiserv did not start (web status on port 9425 unavailable)"
  return 0
}

# Waits until the MooseFS mount answers again (clients reconnect to the VIP by themselves).
wait_for_mfs() {
  local deadline=$((SECONDS + MFS_WAIT_SEC))
  while ((SECONDS < deadline)); do
    if mountpoint -q "$CIAS_MFS_MOUNT" && timeout 10 stat "$CIAS_SHARED_DIR" >/dev/null 2>&1; then
      return 0
    fi
    sleep 2
  done
  return 1
}

# "vmid node status onboot" lines, from the exported file or, without it, from the cluster.
vmid_list() {
  local file="$CIAS_SHARED_DIR/$VMID_FILE_NAME" vms
  if [[ -r $file ]]; then
    awk '!/^[[:space:]]*(#|$)/ && $1 ~ /^[0-9]+$/ { print $1, $2, $3, $4 }' "$file"
    return 0
  fi
  log_warn "$file is not readable; using the cluster's current VM list"
  vms=$(pve_resources vm)
  jq -r '.[] | select(.type == "qemu") | "\(.vmid) \(.node) \(.status // "unknown")"' <<<"$vms" |
    while read -r vmid node status; do
      conf=$(pve_vm_conf "$node" "$vmid")
      onboot=0
      [[ -f $conf ]] && onboot=$(pve_conf_onboot "$conf")
      printf '%s %s %s %s\n' "$vmid" "$node" "$status" "$onboot"
    done
}

# Who was master before: where the gateway lives, else who wrote the VMID list.
previous_master() {
  local vms=$1 location file="$CIAS_SHARED_DIR/$VMID_FILE_NAME"
  location=$(pve_vm_location "$CIAS_GATEWAY_VMID" "$vms")
  if [[ -n $location && ${location%% *} != "$CIAS_NODE_NAME" ]]; then
    printf '%s\n' "${location%% *}"
  elif [[ -r $file ]]; then
    awk '$1 == "#" && $2 == "exported-by" { print $3; exit }' "$file"
  fi
}

# handle_vm <vmid> <listed-node> <onboot> <vms-json> <nodes-json> <previous-master>; 1 = failed.
handle_vm() {
  local vmid=$1 listed_node=$2 onboot=$3 vms=$4 nodes=$5 previous=$6 location node status state target
  location=$(pve_vm_location "$vmid" "$vms")
  if [[ -n $location ]]; then
    node=${location%% *}
    status=${location#* }
    state=$(pve_node_state "$node" "$nodes")
    if [[ $state == online ]]; then
      ((vmid == CIAS_GATEWAY_VMID)) || return 0
      if [[ $node != "$CIAS_NODE_NAME" ]]; then
        pve_migrate_vm "$vmid" "$node" "$CIAS_NODE_NAME" "$([[ $status == running ]] && echo 1 || echo 0)" || return 1
        status=$(pve_vm_location "$vmid" | cut -d' ' -f2)
      fi
      [[ $status == running ]] || pve_start_vm "$CIAS_NODE_NAME" "$vmid" || return 1
      return 0
    fi
    if [[ $node != "$previous" && $vmid != "$CIAS_GATEWAY_VMID" ]]; then
      log_info "VM $vmid is on $node ($state), not the previous master: left to cias-liveness"
      return 0
    fi
    log_warn "VM $vmid is held by $node, which is $state"
  else
    node=""
    log_warn "VM $vmid (last seen on $listed_node) is gone from the cluster"
  fi
  if ((vmid == CIAS_GATEWAY_VMID)); then
    target=$CIAS_NODE_NAME
  else
    target=$(least_loaded_node "$CIAS_NODE_NAME" "$node" "$listed_node")
    if [[ -z $target ]]; then
      log_warn "no other online node for VM $vmid; recovering it on the master"
      target=$CIAS_NODE_NAME
    fi
  fi
  recover_vm "$vmid" "$node" "$target" "$onboot"
}

failed=()
log_info "becoming master: $CIAS_VIP is here"
if ! recover_mfs_master; then
  failed+=("MooseFS master")
fi
if ! wait_for_mfs; then
  log_warn "$CIAS_MFS_MOUNT did not answer within ${MFS_WAIT_SEC}s; continuing with what the cluster knows"
fi

if ! pve_is_quorate; then
  failed+=("guests: the cluster is not quorate")
  log_error "the Proxmox cluster is not quorate: /etc/pve is read-only, so no guest can be moved or restored. If the missing nodes are really down, 'pvecm expected <n>' makes the rest quorate; then run $0 again"
else
  vms=$(pve_resources vm)
  nodes=$(pve_resources node)
  previous=$(previous_master "$vms")
  log_info "previous master: ${previous:-unknown}"
  # The gateway first: it is the cluster's router.
  # fd 3: the pvesh/qm calls in the loop must not eat the list from stdin.
  while read -r -u 3 vmid node _status onboot; do
    if ! handle_vm "$vmid" "$node" "${onboot:-0}" "$vms" "$nodes" "$previous"; then
      failed+=("VM $vmid")
    fi
  done 3< <(vmid_list | awk -v gw="$CIAS_GATEWAY_VMID" '{ print ($1 == gw ? 0 : 1), $0 }' | sort -k1,1n -k2,2n | cut -d' ' -f2-)
fi

if ((${#failed[@]} > 0)); then
  notify "failover to $CIAS_NODE_NAME incomplete" "$CIAS_NODE_NAME holds $CIAS_VIP, but these steps failed: ${failed[*]}. See /var/log/cias.log."
  exit "$CIAS_EXIT_PARTIAL"
fi
notify "failover to $CIAS_NODE_NAME done" "$CIAS_NODE_NAME is the master: it holds $CIAS_VIP and $CIAS_MASTER_EXT_IP, runs mfsmaster and the gateway VM $CIAS_GATEWAY_VMID."
log_info "failover done"
