import { Construct } from 'constructs';
import { NasModel, SshEndpoint } from '../model/cluster';
import { InstallBundleParams, shellQuote } from '../render/install-bundle';
import { HostPush, ProvisioningResourceType } from './host-push';
import { SshAccess } from './ssh-connection';

/** SPEC §1: a NAS holds backups, ISOs and templates, never VM disks. */
const ALLOWED_CONTENT: ReadonlySet<string> = new Set(['backup', 'iso', 'vztmpl']);

/**
 * Registers one NFS storage idempotently (REFERENCE §1.3), reading the current definition from
 * `/etc/pve/storage.cfg`: absent → `pvesm add nfs`; present with other content types → `pvesm set
 * --content`; unchanged → nothing. `server` and `export` are fixed options in Proxmox (`pvesm set`
 * cannot change them) and a storage of another type under the same ID is someone else's, so both
 * stop the push (exit 4) instead of being removed behind running backups. Exit 3: not a PVE node.
 * CIAS_PVE_DIR and CIAS_LOG_FILE let tests point it at scratch files.
 */
const REGISTER_NFS_STORAGE = String.raw`cias_nas_log() {
  local line
  line="$(date '+%Y-%m-%dT%H:%M:%S%z') $(hostname) cias-nas-storage: $*"
  printf '%s\n' "$line" >&2
  { printf '%s\n' "$line" >>"${'$'}{CIAS_LOG_FILE:-/var/log/cias.log}"; } 2>/dev/null || true
  logger -t cias -- "cias-nas-storage: $*" 2>/dev/null || true
}
# cias_storage_field <cfg> <id> <field>: "type" gives the section type, anything else a property value.
cias_storage_field() {
  [[ -r $1 ]] || return 0
  awk -v id="$2" -v field="$3" '
    /^[^[:space:]#]/ {
      in_section = ($2 == id)
      if (in_section && field == "type") { sub(/:$/, "", $1); print $1; exit }
      next
    }
    in_section && $1 == field { print $2; exit }' "$1"
}
cias_sorted_list() { tr ',' '\n' <<<"$1" | sed '/^$/d' | sort -u | paste -sd, -; }
cias_register_nfs_storage() {
  local id=$1 server=$2 export_path=$3 content=$4
  local cfg="${'$'}{CIAS_PVE_DIR:-/etc/pve}/storage.cfg" type current
  command -v pvesm >/dev/null || { cias_nas_log "pvesm not found: this is not a Proxmox VE node"; exit 3; }
  type=$(cias_storage_field "$cfg" "$id" type)
  if [[ -z $type ]]; then
    pvesm add nfs "$id" --server "$server" --export "$export_path" --content "$content"
    cias_nas_log "added NFS storage $id ($server:$export_path, content $content)"
  else
    [[ $type == nfs ]] || { cias_nas_log "storage $id exists with type $type, not nfs; not touching it"; exit 4; }
    current=$(cias_storage_field "$cfg" "$id" server)
    [[ $current == "$server" ]] || { cias_nas_log "storage $id points at server $current, not $server; Proxmox cannot change it in place: pvesm remove $id, then apply again"; exit 4; }
    current=$(cias_storage_field "$cfg" "$id" export)
    [[ $current == "$export_path" ]] || { cias_nas_log "storage $id exports $current, not $export_path; Proxmox cannot change it in place: pvesm remove $id, then apply again"; exit 4; }
    current=$(cias_storage_field "$cfg" "$id" content)
    if [[ $(cias_sorted_list "$current") != "$(cias_sorted_list "$content")" ]]; then
      pvesm set "$id" --content "$content"
      cias_nas_log "storage $id: content $current -> $content"
    else
      cias_nas_log "storage $id unchanged"
    fi
  fi
  pvesm status --storage "$id" >/dev/null 2>&1 || cias_nas_log "warning: storage $id is registered but not active (is $server reachable?)"
}`;

/** The bundle that registers one NAS: no files, only the idempotent registration on every run. */
export function nasStorageBundle(nas: NasModel): InstallBundleParams {
  const bad = nas.content.filter((type) => !ALLOWED_CONTENT.has(type));
  if (bad.length > 0 || nas.content.length === 0) {
    throw new Error(`NAS ${nas.fqdn}: content must be a non-empty subset of backup, iso, vztmpl (never VM images), got ${nas.content.join(',')}`);
  }
  const content = [...new Set(nas.content)].sort().join(',');
  const call = ['cias_register_nfs_storage', nas.fqdn, nas.ip, nas.exportPath, content].map((word, i) => (i === 0 ? word : shellQuote(word)));
  return { name: `nas/${nas.name}`, files: [], always: [REGISTER_NFS_STORAGE, call.join(' ')] };
}

export interface NasStorageProps {
  readonly nas: NasModel;
  /** Where `pvesm` runs: the master VIP (storage.cfg is cluster-wide, any node would do). */
  readonly master: SshEndpoint;
  readonly resourceType: ProvisioningResourceType;
  readonly ssh: SshAccess;
}

/**
 * A NAS's NFS export as Proxmox storage named after the NAS hostname (SPEC §2), for backups, ISOs and
 * templates. The push re-runs only when the NAS's definition changes.
 */
export class NasStorage extends Construct {
  readonly nas: NasModel;
  readonly push: HostPush;

  constructor(scope: Construct, id: string, props: NasStorageProps) {
    super(scope, id);
    this.nas = props.nas;
    this.push = new HostPush(this, 'storage', {
      resourceType: props.resourceType,
      host: props.master,
      ssh: props.ssh,
      bundle: nasStorageBundle(props.nas),
    });
  }
}
