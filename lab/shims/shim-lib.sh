# shellcheck shell=bash
# Shared code of the Proxmox VE command shims (test doubles; see README.md in this directory).
# Sourced by pvecm, pvesm, pvesh, qm, qmrestore, vzdump, ha-manager and cias-shim-admin.
#
# Every call is appended to $CIAS_SHIM_LOG as one JSON line {ts, node, cmd, argv, cwd}. The fake
# cluster lives in $CIAS_SHIM_STATE, a directory shared by all lab nodes:
#   cluster/                  the cluster's /etc/pve once `pvecm create` ran: corosync.conf,
#                             storage.cfg, jobs.cfg, nodes/<node>/qemu-server/<vmid>.conf, ha/
#   local/<node>/             a node's own /etc/pve before it creates or joins the cluster
#   view/<node>               symlink: what /etc/pve shows on <node> (local/<node> or cluster)
#   hosts/<node>/{ip,maxmem,basemem,maxcpu,online,fingerprint,root_password}   machine facts
#   members                   "<nodeid> <name> <ip>" per cluster member; cluster-name; expected
#   vm-status/<vmid>          "running <node>" or "stopped" (real Proxmox: the QEMU process on a node)
# The node a shim runs on is $CIAS_SHIM_NODE (default: the short host name).
set -euo pipefail

SHIM_STATE=${CIAS_SHIM_STATE:-/var/lib/cias-lab/pve-state}
SHIM_LOG=${CIAS_SHIM_LOG:-/var/lib/cias-lab/shim-calls.log}
SHIM_NODE=${CIAS_SHIM_NODE:-$(hostname -s)}
SHIM_CMD=${0##*/}

readonly SHIM_MIB=1048576

shim_record_call() {
  mkdir -p "$(dirname "$SHIM_LOG")"
  jq -nc --arg ts "$(date -u '+%Y-%m-%dT%H:%M:%S.%3NZ')" --arg node "$SHIM_NODE" --arg cmd "$SHIM_CMD" --arg cwd "$PWD" \
    '{ts: $ts, node: $node, cmd: $cmd, argv: $ARGS.positional, cwd: $cwd}' --args -- "$@" >>"$SHIM_LOG"
}

# Proxmox's Perl CLIs print the error and exit 255 on die.
shim_die() {
  printf '%s\n' "$*" >&2
  exit 255
}

shim_usage_error() {
  printf '400 Parameter verification failed.\n%s\n' "$*" >&2
  exit 255
}

# One writer at a time: every shim call holds the state lock for its whole (short) run.
shim_lock() {
  mkdir -p "$SHIM_STATE"
  exec 9>>"$SHIM_STATE/.lock"
  flock -w 30 9 || shim_die "shim: state lock $SHIM_STATE/.lock busy"
}

shim_host_fact() {
  local file="$SHIM_STATE/hosts/$1/$2"
  [[ -r $file ]] && cat "$file" || printf '%s\n' "${3:-}"
}

shim_set_host_fact() {
  mkdir -p "$SHIM_STATE/hosts/$1"
  printf '%s\n' "$3" >"$SHIM_STATE/hosts/$1/$2"
}

# A sha256-shaped certificate fingerprint, stable per node.
shim_make_fingerprint() {
  printf 'cias-shim-certificate:%s' "$1" | sha256sum | cut -c1-64 | sed 's/../&:/g; s/:$//' | tr 'a-f' 'A-F'
}

# Registers the machine a shim runs on the first time it is seen, with its own /etc/pve.
shim_init_node() {
  local node=$1
  if [[ ! -d $SHIM_STATE/hosts/$node ]]; then
    shim_set_host_fact "$node" ip "${CIAS_SHIM_NODE_IP:-127.0.0.1}"
    shim_set_host_fact "$node" maxmem $((8192 * SHIM_MIB))
    shim_set_host_fact "$node" basemem $((1024 * SHIM_MIB))
    shim_set_host_fact "$node" maxcpu 4
    shim_set_host_fact "$node" online 1
    shim_set_host_fact "$node" fingerprint "$(shim_make_fingerprint "$node")"
  fi
  if [[ ! -L $SHIM_STATE/view/$node ]]; then
    mkdir -p "$SHIM_STATE/local/$node/nodes/$node/qemu-server" "$SHIM_STATE/view"
    [[ -e $SHIM_STATE/local/$node/storage.cfg ]] ||
      printf 'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n' >"$SHIM_STATE/local/$node/storage.cfg"
    ln -sfn "../local/$node" "$SHIM_STATE/view/$node"
  fi
}

# The directory standing for /etc/pve on <node> (default: this node).
shim_pve() {
  printf '%s/view/%s\n' "$SHIM_STATE" "${1:-$SHIM_NODE}"
}

shim_is_member() {
  [[ -r $SHIM_STATE/members ]] && awk -v n="$1" '$2 == n { found = 1 } END { exit !found }' "$SHIM_STATE/members"
}

shim_members() {
  [[ -r $SHIM_STATE/members ]] && awk '{ print $2 }' "$SHIM_STATE/members"
  return 0
}

shim_online() {
  [[ $(shim_host_fact "$1" online 1) == 1 ]]
}

# Resolves a node name or address to a member name.
shim_member_by_host() {
  local host=$1 name
  while read -r _id name ip; do
    if [[ $host == "$name" || $host == "$ip" || $host == "$(shim_host_fact "$name" ip)" ]]; then
      printf '%s\n' "$name"
      return 0
    fi
  done <"$SHIM_STATE/members"
  return 1
}

shim_quorate() {
  local total online=0 expected name
  total=$(shim_members | wc -l)
  ((total > 0)) || return 1
  expected=$(cat "$SHIM_STATE/expected" 2>/dev/null || echo "$total")
  while read -r name; do
    shim_online "$name" && online=$((online + 1))
  done < <(shim_members)
  ((online * 2 > expected))
}

shim_require_quorum() {
  shim_is_member "$SHIM_NODE" || return 0
  shim_quorate || shim_die "cluster not ready - no quorum?"
}

shim_write_corosync() {
  local file="$SHIM_STATE/cluster/corosync.conf" version=1
  [[ -r $file ]] && version=$(($(awk '$1 == "config_version:" { print $2 }' "$file") + 1))
  {
    printf 'logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n'
    while read -r id name ip; do
      printf '  node {\n    name: %s\n    nodeid: %s\n    quorum_votes: 1\n    ring0_addr: %s\n  }\n' "$name" "$id" "$ip"
    done <"$SHIM_STATE/members"
    printf '}\n\nquorum {\n  provider: corosync_votequorum\n}\n\ntotem {\n  cluster_name: %s\n  config_version: %s\n' \
      "$(cat "$SHIM_STATE/cluster-name")" "$version"
    printf '  interface {\n    linknumber: 0\n  }\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n'
  } >"$file.new"
  mv -f "$file.new" "$file"
}

# Owner node of a VMID as <node> sees the cluster (its /etc/pve), or nothing.
shim_vm_owner() {
  local vmid=$1 view conf
  view=$(shim_pve "${2:-$SHIM_NODE}")
  for conf in "$view"/nodes/*/qemu-server/"$vmid".conf; do
    [[ -f $conf ]] || continue
    conf=${conf%/qemu-server/*}
    printf '%s\n' "${conf##*/}"
    return 0
  done
  return 1
}

shim_conf() {
  printf '%s/nodes/%s/qemu-server/%s.conf\n' "$(shim_pve "$1")" "$1" "$2"
}

# Value of <key> in the main section of a VM config.
shim_conf_value() {
  awk -v key="$2" '/^\[/ { exit } index($0, key ": ") == 1 { print substr($0, length(key) + 3); exit }' "$1"
}

# shim_vm_status <vmid> <node>: running only while the VM's process runs on that node; a VM whose
# node died, or whose config moved elsewhere, is not running there.
shim_vm_status() {
  [[ $(cat "$SHIM_STATE/vm-status/$1" 2>/dev/null) == "running $2" ]] && echo running || echo stopped
}

# shim_set_vm_status <vmid> running <node> | shim_set_vm_status <vmid> stopped
shim_set_vm_status() {
  mkdir -p "$SHIM_STATE/vm-status"
  printf '%s\n' "$2${3:+ $3}" >"$SHIM_STATE/vm-status/$1"
}

# Bytes of RAM in use on a node: its base load plus every running VM it owns.
shim_node_mem() {
  local node=$1 total conf vmid memory
  total=$(shim_host_fact "$node" basemem $((1024 * SHIM_MIB)))
  for conf in "$(shim_pve "$node")/nodes/$node/qemu-server/"*.conf; do
    [[ -f $conf ]] || continue
    vmid=${conf##*/}
    vmid=${vmid%.conf}
    [[ $(shim_vm_status "$vmid" "$node") == running ]] || continue
    memory=$(shim_conf_value "$conf" memory)
    total=$((total + ${memory:-512} * SHIM_MIB))
  done
  printf '%s\n' "$total"
}

# The node an API path is proxied to must be a live member (or this node).
shim_require_reachable() {
  local node=$1
  [[ $node == "$SHIM_NODE" ]] && return 0
  shim_is_member "$node" || shim_die "hostname lookup '$node' failed - failed to get address info for: $node: Name or service not known"
  shim_online "$node" || shim_die "500 Can't connect to $(shim_host_fact "$node" ip):8006 (No route to host)"
}

shim_require_local_vm() {
  local node=$1 vmid=$2 conf
  conf=$(shim_conf "$node" "$vmid")
  [[ -f $conf ]] || shim_die "Configuration file 'nodes/$node/qemu-server/$vmid.conf' does not exist"
  local lock
  lock=$(shim_conf_value "$conf" lock)
  [[ -z $lock ]] || shim_die "VM $vmid is locked ($lock)"
}

shim_vm_start() {
  local node=$1 vmid=$2
  shim_require_local_vm "$node" "$vmid"
  [[ $(shim_vm_status "$vmid" "$node") != running ]] || shim_die "VM $vmid already running"
  shim_set_vm_status "$vmid" running "$node"
}

shim_vm_stop() {
  shim_require_local_vm "$1" "$2"
  shim_set_vm_status "$2" stopped
}

# shim_vm_migrate <source> <vmid> <target> <online 0/1>
shim_vm_migrate() {
  local source=$1 vmid=$2 target=$3 online=$4
  shim_require_local_vm "$source" "$vmid"
  [[ $target != "$source" ]] || shim_die "target is local node."
  shim_is_member "$target" || shim_die "no such cluster node '$target'"
  shim_online "$target" || shim_die "target node '$target' is not online"
  local running=0
  [[ $(shim_vm_status "$vmid" "$source") == running ]] && running=1
  if ((running)) && [[ $online != 1 ]]; then
    shim_die "can't migrate running VM without --online"
  fi
  mkdir -p "$(dirname "$(shim_conf "$target" "$vmid")")"
  mv "$(shim_conf "$source" "$vmid")" "$(shim_conf "$target" "$vmid")"
  ((running)) && shim_set_vm_status "$vmid" running "$target"
  printf 'migration finished successfully (VM %s: %s -> %s)\n' "$vmid" "$source" "$target"
}

# Storage section value from storage.cfg as <node> sees it.
shim_storage_value() {
  awk -v id="$2" -v key="$3" '
    /^[a-z0-9]+: / { split($0, h, ": "); in_section = (h[2] == id); next }
    in_section && $1 == key { sub(/^[ \t]*[^ \t]+[ \t]+/, ""); print; exit }' "$(shim_pve "$1")/storage.cfg"
}

shim_storage_exists() {
  grep -Eq "^[a-z0-9]+: $2\$" "$(shim_pve "$1")/storage.cfg" 2>/dev/null
}

# File path of an archive: a path, or a volume ID <storage>:backup/<file> of a path-based storage.
shim_archive_path() {
  local node=$1 archive=$2 storage path
  if [[ $archive == /* ]]; then
    printf '%s\n' "$archive"
    return 0
  fi
  [[ $archive == *:backup/* ]] || shim_die "unable to parse volume ID '$archive'"
  storage=${archive%%:*}
  shim_storage_exists "$node" "$storage" || shim_die "storage '$storage' does not exist"
  path=$(shim_storage_value "$node" "$storage" path)
  printf '%s/dump/%s\n' "$path" "${archive#*:backup/}"
}

# shim_restore <node> <archive> <vmid> <storage> <force> <start>: the shim's "vma" archives are the
# VM config as text (written by the vzdump shim); anything else restores as a minimal config.
shim_restore() {
  local node=$1 archive=$2 vmid=$3 storage=$4 force=$5 start=$6 path owner conf
  shim_require_quorum
  path=$(shim_archive_path "$node" "$archive")
  [[ -r $path ]] || shim_die "unable to restore VM $vmid - archive '$archive' does not exist"
  if owner=$(shim_vm_owner "$vmid" "$node"); then
    [[ $owner == "$node" ]] || shim_die "unable to restore VM $vmid - VM $vmid already exists on node '$owner'"
    [[ $force == 1 ]] || shim_die "unable to restore VM $vmid - unable to create VM $vmid: config file already exists"
    [[ $(shim_vm_status "$vmid" "$node") != running ]] || shim_die "unable to restore VM $vmid - vm is running"
  fi
  conf=$(shim_conf "$node" "$vmid")
  mkdir -p "$(dirname "$conf")"
  if LC_ALL=C grep -qvE '^([a-z][a-z0-9_-]*: .*|#.*|\[.*\]|)$' "$path"; then
    printf 'name: restored-%s\nmemory: 512\nscsi0: %s:vm-%s-disk-0,size=4G\n' "$vmid" "${storage:-local}" "$vmid" >"$conf.new"
  else
    awk -v storage="$storage" -v vmid="$vmid" '
      /^\[/ { exit }
      /^lock: / { next }
      storage != "" && /^(ide|sata|scsi|virtio|efidisk|tpmstate)[0-9]+: / && $0 !~ /media=cdrom/ {
        key = substr($0, 1, index($0, ": ") + 1)
        rest = substr($0, index($0, ": ") + 2)
        if (rest ~ /^[A-Za-z0-9._-]+:/) rest = storage ":" substr(rest, index(rest, ":") + 1)
        print key rest
        next
      }
      { print }' "$path" >"$conf.new"
  fi
  mv -f "$conf.new" "$conf"
  shim_set_vm_status "$vmid" stopped
  printf 'restore vma archive: %s\nrestore of VM %s on %s finished\n' "$path" "$vmid" "$node"
  if [[ $start == 1 ]]; then
    shim_set_vm_status "$vmid" running "$node"
  fi
}

# Parses "--key value" pairs into the associative array named by $1 (flags given without a value
# are not used by Proxmox CLIs: every option takes one).
shim_parse_options() {
  local -n into=$1
  shift
  while (($# > 0)); do
    [[ $1 == --* ]] || shim_usage_error "unexpected argument '$1'"
    (($# >= 2)) || shim_usage_error "${1#--}: missing value"
    # shellcheck disable=SC2034 # the caller's array, through the nameref
    into[${1#--}]=$2
    shift 2
  done
}
