# shellcheck shell=bash
# Sourced by every cias gateway script: paths, configuration, logging, locking, checks.
# Paths can be overridden from the environment; the tests run the scripts against scratch directories.

CIAS_GATEWAY_CONF=${CIAS_GATEWAY_CONF:-/etc/cias/gateway.conf}
CIAS_GATEWAY_ETC=${CIAS_GATEWAY_ETC:-/etc/cias/gateway}
CIAS_GATEWAY_LIB=${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}
CIAS_STATE_DIR=${CIAS_STATE_DIR:-/var/lib/cias}
CIAS_LOG_FILE=${CIAS_LOG_FILE:-/var/log/cias.log}
CIAS_LOCK_DIR=${CIAS_LOCK_DIR:-/run/lock}
CIAS_ZENTYAL_ETC=${CIAS_ZENTYAL_ETC:-/etc/zentyal}
CIAS_BIND_ETC=${CIAS_BIND_ETC:-/etc/bind}
CIAS_NGINX_SITE=${CIAS_NGINX_SITE:-/etc/nginx/conf.d/cias-gateway.conf}

cias_script=${0##*/}

cias_log() {
  logger -t cias -- "${cias_script}: $*" 2>/dev/null || true
  printf '%s %s[%d]: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$cias_script" "$$" "$*" >>"$CIAS_LOG_FILE" 2>/dev/null || true
}

cias_die() {
  cias_log "error: $*"
  printf '%s: %s\n' "$cias_script" "$*" >&2
  exit 1
}

cias_load_conf() {
  [[ -r $CIAS_GATEWAY_CONF ]] || cias_die "cannot read $CIAS_GATEWAY_CONF"
  # shellcheck source=/dev/null
  source "$CIAS_GATEWAY_CONF"
}

# cias_with_lock NAME COMMAND...: runs COMMAND holding /run/lock/cias-gateway-NAME.lock. Scripts never
# call another locking script while they hold a lock, so the locks cannot deadlock.
cias_with_lock() {
  local name=$1 fd
  shift
  mkdir -p "$CIAS_LOCK_DIR"
  exec {fd}>"$CIAS_LOCK_DIR/cias-gateway-$name.lock"
  flock -w 300 "$fd" || cias_die "timed out waiting for the $name lock"
  "$@"
  exec {fd}>&-
}

cias_is_ipv4() {
  local octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
  [[ $1 =~ ^$octet\.$octet\.$octet\.$octet$ ]]
}

# cias_install_file SOURCE TARGET: atomic replace, keeping the previous version as TARGET.prev.
cias_install_file() {
  local source=$1 target=$2 tmp
  tmp=$(mktemp "$(dirname "$target")/.cias.XXXXXX")
  cat "$source" >"$tmp"
  chmod 0644 "$tmp"
  [[ -e $target ]] && cp -p "$target" "$target.prev"
  mv -f "$tmp" "$target"
}

# cias_set_address ROLE IP: records the WAN address of ROLE (proxmox, nas, vm-<E>) in addresses.conf,
# replacing the role's previous address, then puts the addresses on the interface. Refuses an address
# another role holds.
cias_set_address() {
  local role=$1 ip=$2
  cias_is_ipv4 "$ip" || cias_die "'$ip' is not an IPv4 address"
  cias_with_lock addresses-file _cias_write_address "$role" "$ip"
  "$CIAS_GATEWAY_LIB/apply-addresses.sh"
}

_cias_write_address() {
  local role=$1 ip=$2 file="$CIAS_GATEWAY_ETC/addresses.conf" tmp other_role other_ip rest
  mkdir -p "$CIAS_GATEWAY_ETC"
  [[ -e $file ]] || printf '# role address (cias gateway WAN addresses; see setup_ip_*.sh)\n' >"$file"
  while read -r other_role other_ip rest; do
    [[ -z $other_role || $other_role == \#* || $other_role == "$role" ]] && continue
    [[ $other_ip != "$ip" ]] || cias_die "$ip is already the $other_role address"
  done <"$file"
  tmp=$(mktemp "$CIAS_GATEWAY_ETC/.addresses.XXXXXX")
  awk -v role="$role" '$1 != role' "$file" >"$tmp"
  printf '%s %s\n' "$role" "$ip" >>"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$file"
  cias_log "$role address set to $ip"
}
