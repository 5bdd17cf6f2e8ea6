#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-bootstrap-cluster: create the Proxmox VE cluster, its storages and backup jobs (SPEC §4,
# §7 scenario 1). Run once on the bootstrap node; running it again changes nothing that is right.
#
# Usage: cias-bootstrap-cluster [--gateway-backup-schedule '<calendar>'] [--vm-backup-schedule '<calendar>'] [--help]
#   --gateway-backup-schedule  Proxmox calendar event of the gateway backup job (default 'mon 02:00')
#   --vm-backup-schedule       calendar event of the backup of every other VM (default 'sun 02:00')
#
# 1. `pvecm create $CIAS_CLUSTER_NAME --link0 $CIAS_NODE_IP`, unless /etc/pve/corosync.conf exists
#    (then the node is in a cluster: it must carry that name, or the script refuses).
# 2. Storages, both directory storages on CIAS_MFS_MOUNT, shared (MooseFS is the same on every node)
#    and only active while MooseFS is mounted (is_mountpoint), so nothing is ever written into the
#    empty mount point on the root disk:
#      CIAS_STORAGE_VM      content images,iso,vztmpl,backup,snippets   prune-backups keep-last=1
#      CIAS_STORAGE_BACKUP  content backup                              prune-backups keep-last=5
#    `maxfiles` is gone in PVE 9 (REFERENCE 1.3): retention is prune-backups. An existing storage
#    is updated with `pvesm set` (its path cannot change; a different path is refused).
# 3. Backup jobs in /etc/pve/jobs.cfg, by fixed ID (created once, then updated with `pvesh set`):
#      cias-gateway  vmid CIAS_GATEWAY_VMID -> CIAS_STORAGE_BACKUP, snapshot, compress 0
#      cias-vms      all but CIAS_GATEWAY_VMID -> CIAS_STORAGE_VM, snapshot, compress gzip
#    (SPEC says "gzip (best)"; vzdump has no gzip level option, so gzip it is.)
#
# Exit codes: 0 done; 1 a Proxmox command failed; 2 usage; 3 not a Proxmox VE node; 4 refused
# (this node is in another cluster, or a storage has another path); 5 busy; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

gateway_schedule='mon 02:00'
vm_schedule='sun 02:00'
while (($# > 0)); do
  case $1 in
    --gateway-backup-schedule | --vm-backup-schedule)
      [[ -n ${2:-} ]] || die "$CIAS_EXIT_USAGE" "$1 needs a calendar event, e.g. 'mon 02:00'"
      if [[ $1 == --gateway-backup-schedule ]]; then gateway_schedule=$2; else vm_schedule=$2; fi
      shift 2
      ;;
    *) die "$CIAS_EXIT_USAGE" "unknown argument $1 (see --help)" ;;
  esac
done

cias_load_config
require_commands pvecm pvesm pvesh flock
cias_lock_or_exit cluster "${CIAS_LOCK_WAIT_SEC:-3600}"
# pvecm refuses to run inside /etc/pve.
cd /

corosync_conf="$CIAS_PVE_DIR/corosync.conf"
if [[ -f $corosync_conf ]]; then
  existing=$(awk '$1 == "cluster_name:" { print $2; exit }' "$corosync_conf")
  [[ $existing == "$CIAS_CLUSTER_NAME" ]] ||
    die "$CIAS_EXIT_REFUSED" "this node is already in cluster '$existing', not '$CIAS_CLUSTER_NAME'; refusing to touch it"
  log_info "cluster $CIAS_CLUSTER_NAME exists"
else
  log_info "creating cluster $CIAS_CLUSTER_NAME (link0 $CIAS_NODE_IP)"
  pvecm create "$CIAS_CLUSTER_NAME" --link0 "$CIAS_NODE_IP" || die "$CIAS_EXIT_FAILED" "pvecm create failed"
fi

# storage_path <id>: the path of a storage in storage.cfg, empty when it is not defined.
storage_path() {
  awk -v id="$1" '
    /^[a-z0-9]+: / { split($0, h, ": "); in_section = (h[2] == id); next }
    in_section && $1 == "path" { print $2; exit }' "$CIAS_PVE_DIR/storage.cfg" 2>/dev/null || true
}

# ensure_dir_storage <id> <content> <keep-last>
ensure_dir_storage() {
  local id=$1 content=$2 keep=$3 path
  local options=(--content "$content" --shared 1 --is_mountpoint yes --prune-backups "keep-last=$keep")
  # storage.cfg, not `pvesm status`: a storage whose mount is missing is inactive, but it exists.
  path=$(storage_path "$id")
  if [[ -n $path ]]; then
    [[ $path == "$CIAS_MFS_MOUNT" ]] ||
      die "$CIAS_EXIT_REFUSED" "storage $id exists with path '${path:-?}', not $CIAS_MFS_MOUNT; a storage path cannot change: remove it by hand"
    log_info "storage $id exists; updating its options"
    pvesm set "$id" "${options[@]}" || die "$CIAS_EXIT_FAILED" "pvesm set $id failed"
  else
    log_info "adding storage $id (dir $CIAS_MFS_MOUNT, $content, keep-last=$keep)"
    pvesm add dir "$id" --path "$CIAS_MFS_MOUNT" "${options[@]}" || die "$CIAS_EXIT_FAILED" "pvesm add dir $id failed"
  fi
}

# ensure_backup_job <id> <options...>
ensure_backup_job() {
  local id=$1
  shift
  if pvesh get "/cluster/backup/$id" --output-format json >/dev/null 2>&1; then
    log_info "backup job $id exists; updating it"
    pvesh set "/cluster/backup/$id" "$@" || die "$CIAS_EXIT_FAILED" "pvesh set /cluster/backup/$id failed"
  else
    log_info "creating backup job $id"
    pvesh create /cluster/backup --id "$id" "$@" || die "$CIAS_EXIT_FAILED" "pvesh create /cluster/backup --id $id failed"
  fi
}

ensure_dir_storage "$CIAS_STORAGE_VM" images,iso,vztmpl,backup,snippets 1
ensure_dir_storage "$CIAS_STORAGE_BACKUP" backup 5

ensure_backup_job cias-gateway --vmid "$CIAS_GATEWAY_VMID" --storage "$CIAS_STORAGE_BACKUP" \
  --schedule "$gateway_schedule" --mode snapshot --compress 0 --enabled 1 \
  --comment "cias: gateway VM $CIAS_GATEWAY_VMID, weekly, uncompressed"
ensure_backup_job cias-vms --all 1 --exclude "$CIAS_GATEWAY_VMID" --storage "$CIAS_STORAGE_VM" \
  --schedule "$vm_schedule" --mode snapshot --compress gzip --enabled 1 \
  --comment "cias: every VM but the gateway, weekly, gzip"

log_info "cluster $CIAS_CLUSTER_NAME ready: storages $CIAS_STORAGE_VM, $CIAS_STORAGE_BACKUP; backup jobs cias-gateway, cias-vms"
