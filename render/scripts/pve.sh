# shellcheck shell=bash
# cias Proxmox VE helpers, installed as /usr/local/lib/cias/pve.sh next to common.sh (source that
# first). Queries go through `pvesh ... --output-format json` and jq; VM configuration is read from
# and moved within the cluster filesystem ($CIAS_PVE_DIR, normally /etc/pve), whose layout is
# documented: nodes/<node>/qemu-server/<vmid>.conf (REFERENCE 1.9).
#
# Actions on another node go through the API path of that node (`pvesh create /nodes/<node>/...`),
# which Proxmox forwards to the node; `qm` only acts on guests of the local node.

# JSON array of /cluster/resources entries of one type (node, vm, storage).
pve_resources() {
  pvesh get /cluster/resources --type "$1" --output-format json
}

# pve_node_state <node> [nodes-json]: online, offline, unknown, or absent (not a cluster node).
pve_node_state() {
  local node=$1 json=${2:-}
  [[ -n $json ]] || json=$(pve_resources node)
  jq -r --arg n "$node" '[.[] | select(.type == "node" and .node == $n)][0].status // "absent"' <<<"$json"
}

# pve_vm_location <vmid> [vms-json]: "<node> <status>" of the qemu guest, or nothing.
pve_vm_location() {
  local vmid=$1 json=${2:-}
  [[ -n $json ]] || json=$(pve_resources vm)
  jq -r --argjson id "$vmid" 'first(.[] | select(.type == "qemu" and .vmid == $id) | "\(.node) \(.status // "unknown")") // empty' <<<"$json"
}

# least_loaded_node <excluded-node...>: the online node with the most free RAM (maxmem - mem),
# ties broken by name; prints nothing when no node qualifies.
least_loaded_node() {
  local excluded
  excluded=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  pve_resources node | jq -r --argjson ex "$excluded" '
    [ .[]
      | select(.type == "node" and .status == "online" and .maxmem != null)
      | select(.node as $n | $ex | index($n) | not) ]
    | sort_by(-(.maxmem - (.mem // 0)), .node)
    | .[0].node // empty'
}

# The node that runs the master role: this node when it holds the VIP, else the node of the
# gateway VM (the master runs it, SPEC §5). Prints nothing when neither is known.
current_master_node() {
  if holds_vip; then
    printf '%s\n' "$CIAS_NODE_NAME"
    return 0
  fi
  local location
  location=$(pve_vm_location "$CIAS_GATEWAY_VMID")
  [[ -n $location ]] && printf '%s\n' "${location%% *}"
  return 0
}

# True when pvecm reports the cluster as quorate (pmxcfs is read-only otherwise).
pve_is_quorate() {
  local status
  # Captured first: `grep -q` closing the pipe early would fail the pipeline under pipefail.
  status=$(pvecm status 2>/dev/null) || return 1
  grep -Eq '^Quorate:[[:space:]]+Yes' <<<"$status"
}

pve_vm_conf() {
  printf '%s/nodes/%s/qemu-server/%s.conf\n' "$CIAS_PVE_DIR" "$1" "$2"
}

# pve_conf_value <conf-file> <key>: value in the main section (snapshots follow a [name] line).
pve_conf_value() {
  awk -v key="$2" '/^\[/ { exit } index($0, key ": ") == 1 { print substr($0, length(key) + 3); exit }' "$1"
}

# pve_conf_onboot <conf-file>: 1 or 0.
pve_conf_onboot() {
  [[ $(pve_conf_value "$1" onboot) == 1 ]] && echo 1 || echo 0
}

# True when the storage is shared between nodes: types that are shared by nature, or "shared 1".
pve_storage_is_shared() {
  local storage=$1
  awk -v id="$storage" '
    /^[a-z0-9]+: / { split($0, h, ": "); in_section = (h[2] == id); if (in_section) type = h[1]; next }
    in_section && $1 == "shared" && $2 == "1" { shared = 1 }
    END {
      if (type ~ /^(nfs|cifs|cephfs|rbd|glusterfs|iscsi|iscsidirect|pbs|esxi)$/) shared = 1
      exit !shared
    }' "$CIAS_PVE_DIR/storage.cfg"
}

# True when every disk of the VM config lives on shared storage (so another node can start it).
pve_conf_disks_shared() {
  local conf=$1 volume storage
  while read -r volume; do
    [[ -n $volume ]] || continue
    [[ $volume == /* || $volume != *:* ]] && return 1
    storage=${volume%%:*}
    pve_storage_is_shared "$storage" || return 1
  done < <(awk '
    /^\[/ { exit }
    /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)[0-9]+: / {
      value = substr($0, index($0, ": ") + 2)
      if (value ~ /media=cdrom/) next
      split(value, parts, ",")
      if (parts[1] == "none" || parts[1] == "cdrom") next
      print parts[1]
    }' "$conf")
  return 0
}

# newest_dump <vmid>: the newest vzdump archive of the VM in $CIAS_MFS_MOUNT/dump (standard names
# only: vzdump-qemu-<vmid>-YYYY_MM_DD-hh_mm_ss.vma[.gz|.lzo|.zst]); the timestamp sorts by name.
newest_dump() {
  local vmid=$1 dir="$CIAS_MFS_MOUNT/dump"
  [[ -d $dir ]] || return 0
  find "$dir" -maxdepth 1 -type f -name "vzdump-qemu-$vmid-*" -printf '%f\n' |
    { grep -E "^vzdump-qemu-$vmid-[0-9]{4}_[0-9]{2}_[0-9]{2}-[0-9]{2}_[0-9]{2}_[0-9]{2}\.vma(\.(gz|lzo|zst))?$" || true; } |
    sort | tail -n 1 | sed "s|^|$dir/|"
}

pve_start_vm() {
  local node=$1 vmid=$2
  log_info "starting VM $vmid on $node"
  pvesh create "/nodes/$node/qemu/$vmid/status/start"
}

# pve_migrate_vm <vmid> <source-node> <target-node> <running 0/1>
pve_migrate_vm() {
  local vmid=$1 source=$2 target=$3 running=$4 online=()
  ((running)) && online=(--online 1)
  log_info "migrating VM $vmid from $source to $target${online[*]:+ (online)}"
  pvesh create "/nodes/$source/qemu/$vmid/migrate" --target "$target" "${online[@]}"
}

# pve_take_over_config <vmid> <from-node> <to-node>: move the config of a guest whose node is down
# to a live node, the documented recovery for guests of a failed node (REFERENCE 1.9). Until the
# file moves, the VMID stays registered to the dead node and every restore or start elsewhere dies
# with "VM <vmid> already exists on node '<dead>'" (SPEC §8). Needs a quorate cluster.
pve_take_over_config() {
  local vmid=$1 from=$2 to=$3 source target
  source=$(pve_vm_conf "$from" "$vmid")
  target=$(pve_vm_conf "$to" "$vmid")
  [[ -f $source ]] || return 0
  log_warn "moving the config of VM $vmid from the unreachable node $from to $to"
  mkdir -p "$(dirname "$target")"
  mv "$source" "$target"
  # A lock (backup, migrate...) belongs to an operation of the dead node that will never finish; it
  # would block every start and restore ("VM is locked").
  if [[ -n $(pve_conf_value "$target" lock) ]]; then
    log_warn "VM $vmid: clearing the stale lock '$(pve_conf_value "$target" lock)' left by $from"
    awk '/^\[/ { main_done = 1 } main_done || index($0, "lock: ") != 1 { print }' "$target" >"$target.cias-new"
    cat "$target.cias-new" >"$target"
    rm -f "$target.cias-new"
  fi
}

# pve_restore_vm <vmid> <target-node> <archive>: restore over whatever config the target holds.
# A file path is restored with qmrestore on this node; anything else is a volume ID handed to the
# target node's API (the create call with `archive` is the API form of qmrestore).
pve_restore_vm() {
  local vmid=$1 target=$2 archive=$3
  log_info "restoring VM $vmid on $target from $archive"
  if [[ $target == "$CIAS_NODE_NAME" && $archive == /* ]]; then
    qmrestore "$archive" "$vmid" --storage "$CIAS_STORAGE_VM" --force 1
  else
    pvesh create "/nodes/$target/qemu" --vmid "$vmid" --archive "$archive" --storage "$CIAS_STORAGE_VM" --force 1
  fi
}

# The archive to restore a lost VM from: the gateway prefers the weekly local copy (it does not
# need MooseFS); every VM falls back to the newest dump in MooseFS, as a volume of the backup storage.
pve_restore_source() {
  local vmid=$1 dump
  if ((vmid == CIAS_GATEWAY_VMID)) && [[ -s $CIAS_LOCAL_GATEWAY_DUMP ]]; then
    printf '%s\n' "$CIAS_LOCAL_GATEWAY_DUMP"
    return 0
  fi
  dump=$(newest_dump "$vmid")
  [[ -n $dump ]] || return 1
  printf '%s:backup/%s\n' "$CIAS_STORAGE_BACKUP" "${dump##*/}"
}

# recover_vm <vmid> <lost-on-node or ""> <target-node> <onboot-hint 0/1>
# A VM whose config still sits on a dead node is adopted by the target: the config moves, and when
# every disk is on shared storage (MooseFS) the VM simply starts there, with data newer than any
# backup. Otherwise, or when it fails to start, or when the VM is gone altogether, it is restored
# from backup onto the target. Started afterwards when onboot=1 (and always for the gateway).
recover_vm() {
  local vmid=$1 lost_on=$2 target=$3 onboot=$4 conf archive started=0
  conf=$(pve_vm_conf "$target" "$vmid")
  if [[ -n $lost_on && $lost_on != "$target" ]]; then
    pve_take_over_config "$vmid" "$lost_on" "$target" || return 1
  fi
  if [[ -f $conf ]]; then
    onboot=$(pve_conf_onboot "$conf")
    if pve_conf_disks_shared "$conf"; then
      log_info "VM $vmid: every disk is on shared storage; adopting it on $target without a restore"
      if ((onboot)) || ((vmid == CIAS_GATEWAY_VMID)); then
        if pve_start_vm "$target" "$vmid"; then
          started=1
        else
          log_warn "VM $vmid did not start from its shared disks; restoring it from backup instead"
        fi
      else
        return 0
      fi
    fi
  fi
  if ((started == 0)); then
    if ! archive=$(pve_restore_source "$vmid"); then
      log_error "VM $vmid: no backup found (local copy $CIAS_LOCAL_GATEWAY_DUMP, $CIAS_MFS_MOUNT/dump); cannot restore it"
      return 1
    fi
    pve_restore_vm "$vmid" "$target" "$archive" || return 1
    [[ -f $conf ]] && onboot=$(pve_conf_onboot "$conf")
    if ((onboot)) || ((vmid == CIAS_GATEWAY_VMID)); then
      pve_start_vm "$target" "$vmid" || return 1
    fi
  fi
  return 0
}
