# shellcheck shell=bash
# cias shared shell library, installed as /usr/local/lib/cias/common.sh and sourced by every cias
# node script. It holds what every script needs: configuration, logging, locking, "do I hold the
# VIP", refusing clearly on a host that is not a Proxmox VE node, and notifications.
#
# Environment (all optional; the defaults are the production paths, tests point them elsewhere):
#   CIAS_CONF        /etc/cias/cias.conf     node configuration (shell assignments)
#   CIAS_NODES_CONF  /etc/cias/nodes.conf    cluster nodes: <ip> <name> <fqdn> <can_be_master>
#   CIAS_LOG_FILE    /var/log/cias.log       log file (in addition to syslog tag "cias")
#   CIAS_VAR_DIR     /var/lib/cias           local state (markers, liveness stamps)
#   CIAS_LOCK_DIR    /run/lock/cias          flock files
#   CIAS_PVE_DIR     /etc/pve                the Proxmox cluster filesystem
#   CIAS_SENDMAIL    sendmail on PATH        the mailer notices go through
#
# Exit codes shared by every script:
#   0 done (or nothing to do)      1 failed                 2 usage error
#   3 not a Proxmox VE node, or a required command is missing
#   4 refused by a safety guard    5 busy: another cias operation holds the lock
#   6 partly done: some items failed (details in the log)   7 configuration missing or invalid

# shellcheck disable=SC2034 # used by the scripts that source this library
readonly CIAS_EXIT_FAILED=1 CIAS_EXIT_USAGE=2 CIAS_EXIT_NOT_PVE=3 CIAS_EXIT_REFUSED=4
# shellcheck disable=SC2034
readonly CIAS_EXIT_BUSY=5 CIAS_EXIT_PARTIAL=6 CIAS_EXIT_CONFIG=7

CIAS_CONF=${CIAS_CONF:-/etc/cias/cias.conf}
CIAS_NODES_CONF=${CIAS_NODES_CONF:-/etc/cias/nodes.conf}
CIAS_LOG_FILE=${CIAS_LOG_FILE:-/var/log/cias.log}
CIAS_VAR_DIR=${CIAS_VAR_DIR:-/var/lib/cias}
CIAS_LOCK_DIR=${CIAS_LOCK_DIR:-/run/lock/cias}
CIAS_PVE_DIR=${CIAS_PVE_DIR:-/etc/pve}
CIAS_SCRIPT_NAME=${CIAS_SCRIPT_NAME:-${0##*/}}

# keepalived and cron start scripts with a short PATH; Proxmox and MooseFS tools live in sbin.
# Appended, not prepended, so a caller's PATH (test doubles first) still wins.
PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

# Every variable ARCHITECTURE.md lists for cias.conf; a script refuses to run when one is missing.
readonly CIAS_REQUIRED_VARIABLES=(
  CIAS_CLUSTER_NAME CIAS_DOMAIN CIAS_NODE_NAME CIAS_NODE_FQDN CIAS_NODE_IP CIAS_CAN_BE_MASTER
  CIAS_LAN_IF CIAS_WAN_IF CIAS_VIP CIAS_MASTER_EXT_IP CIAS_WAN_PREFIX CIAS_BOOTSTRAP_IP
  CIAS_GATEWAY_VMID CIAS_MFS_MOUNT CIAS_SHARED_DIR CIAS_STATE_DIR CIAS_UPLINK_PROBE
  CIAS_SHUTDOWN_DELAY_MIN CIAS_DEAD_AFTER_MIN CIAS_NOTIFY_EMAIL CIAS_STORAGE_VM
  CIAS_STORAGE_BACKUP CIAS_LOCAL_GATEWAY_DUMP
)

# The commands whose absence means "this host is not a Proxmox VE node".
readonly CIAS_PVE_COMMANDS=(pvecm pvesh pvesm qm qmrestore vzdump ha-manager)

cias_log() {
  local level=$1
  shift
  local message="$*" stamp
  stamp=$(date '+%Y-%m-%dT%H:%M:%S%z')
  local line="$stamp ${CIAS_NODE_NAME:-$(hostname)} ${CIAS_SCRIPT_NAME}[$$] $level: $message"
  printf '%s\n' "$line" >&2
  # Logging must never be the reason a failover stops: a missing log dir or syslog socket is ignored.
  { printf '%s\n' "$line" >>"$CIAS_LOG_FILE"; } 2>/dev/null || true
  logger -t cias -p "user.$level" -- "${CIAS_SCRIPT_NAME}[$$] $level: $message" 2>/dev/null || true
}
log_info() { cias_log info "$@"; }
log_warn() { cias_log warning "$@"; }
log_error() { cias_log err "$@"; }

# die <exit-code> <message...>
die() {
  local code=$1
  shift
  log_error "$@"
  exit "$code"
}

# Prints the comment block at the top of the calling script (its documentation) and exits 0.
cias_usage() {
  local script=${1:-$0}
  awk 'NR == 1 { next } /^#/ { if ($0 ~ /^# shellcheck/) next; sub(/^# ?/, ""); print; next } { exit }' "$script"
  exit 0
}

# Wants --help anywhere among the arguments?
cias_wants_help() {
  local arg
  for arg in "$@"; do
    [[ $arg == --help || $arg == -h ]] && return 0
  done
  return 1
}

cias_load_config() {
  [[ -r $CIAS_CONF ]] || die "$CIAS_EXIT_CONFIG" "cannot read $CIAS_CONF: this host is not set up as a cias node"
  # shellcheck source=/dev/null
  source "$CIAS_CONF"
  local name missing=()
  for name in "${CIAS_REQUIRED_VARIABLES[@]}"; do
    [[ -v $name ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) || die "$CIAS_EXIT_CONFIG" "$CIAS_CONF does not set: ${missing[*]}"
  [[ $CIAS_CAN_BE_MASTER == 0 || $CIAS_CAN_BE_MASTER == 1 ]] ||
    die "$CIAS_EXIT_CONFIG" "CIAS_CAN_BE_MASTER must be 0 or 1, not '$CIAS_CAN_BE_MASTER'"
  local number
  for number in CIAS_GATEWAY_VMID CIAS_SHUTDOWN_DELAY_MIN CIAS_DEAD_AFTER_MIN CIAS_WAN_PREFIX; do
    [[ ${!number} =~ ^[0-9]+$ ]] || die "$CIAS_EXIT_CONFIG" "$number must be a whole number, not '${!number}'"
  done
}

# require_commands <command...>: exit 3 with a clear message when any is missing.
require_commands() {
  local command missing=() not_pve=()
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  ((${#missing[@]} == 0)) && return 0
  for command in "${missing[@]}"; do
    [[ " ${CIAS_PVE_COMMANDS[*]} " == *" $command "* ]] && not_pve+=("$command")
  done
  if ((${#not_pve[@]} > 0)); then
    die "$CIAS_EXIT_NOT_PVE" "this is not a Proxmox VE node: ${not_pve[*]} not found (PATH=$PATH); run cias scripts on a Proxmox VE 8/9 node"
  fi
  die "$CIAS_EXIT_NOT_PVE" "required command(s) not found: ${missing[*]}; install them (Debian packages, e.g. jq) and retry"
}

# holds_vip: true when CIAS_VIP is on a local interface (this node is the master).
holds_vip() {
  ip -o -4 addr show 2>/dev/null | awk -v vip="$CIAS_VIP" '{ split($4, a, "/"); if (a[1] == vip) found = 1 } END { exit !found }'
}

# cias_lock <name> <wait-seconds>: take /run/lock/cias/<name>.lock for the rest of the process.
# Returns 1 when another process still holds it after the wait (0 = do not wait). A child started
# while the lock is held (the manual switch running the failover) does not wait for its parent.
cias_lock() {
  local name=$1 wait=$2 fd
  [[ ${CIAS_LOCKS_HELD:-} == *":$name:"* ]] && return 0
  mkdir -p "$CIAS_LOCK_DIR"
  exec {fd}>>"$CIAS_LOCK_DIR/$name.lock"
  if ((wait > 0)); then
    flock -w "$wait" "$fd" || return 1
  else
    flock -n "$fd" || return 1
  fi
  CIAS_LOCKS_HELD="${CIAS_LOCKS_HELD:-:}$name:"
  export CIAS_LOCKS_HELD
}

# cias_lock_or_exit <name> <wait-seconds>
cias_lock_or_exit() {
  cias_lock "$1" "$2" || die "$CIAS_EXIT_BUSY" "another cias operation holds the '$1' lock ($CIAS_LOCK_DIR/$1.lock); try again later"
}

# notify <subject> <body>: always logged; mailed only when CIAS_NOTIFY_EMAIL is set and a
# sendmail binary exists.
notify() {
  local subject="[cias $CIAS_CLUSTER_NAME] $1 ($CIAS_NODE_NAME)" body=$2 sendmail
  log_info "notice: $subject: ${body//$'\n'/ | }"
  if [[ -z $CIAS_NOTIFY_EMAIL ]]; then
    log_info "notice not mailed: CIAS_NOTIFY_EMAIL is empty"
    return 0
  fi
  sendmail=${CIAS_SENDMAIL:-$(command -v sendmail || true)}
  if [[ -z $sendmail || ! -x $sendmail ]]; then
    log_warn "notice not mailed to $CIAS_NOTIFY_EMAIL: no sendmail binary on this node"
    return 0
  fi
  if ! printf 'To: %s\nSubject: %s\nAuto-Submitted: auto-generated\n\n%s\n' "$CIAS_NOTIFY_EMAIL" "$subject" "$body" |
    "$sendmail" -t -oi; then
    log_warn "sendmail failed; the notice is only in the log"
  fi
}

# Lines of nodes.conf without comments: "<ip> <name> <fqdn> <can_be_master>".
cias_nodes() {
  [[ -r $CIAS_NODES_CONF ]] || die "$CIAS_EXIT_CONFIG" "cannot read $CIAS_NODES_CONF"
  awk '!/^[[:space:]]*(#|$)/ { print $1, $2, $3, $4 }' "$CIAS_NODES_CONF"
}

# Writes stdin to <file> atomically (temporary file in the same directory, then rename).
write_atomically() {
  local target=$1 tmp
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$(dirname "$target")/.${target##*/}.XXXXXX")
  if ! cat >"$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$target"
}

# The state directory for this script's markers.
cias_var_dir() {
  mkdir -p "$CIAS_VAR_DIR"
  printf '%s\n' "$CIAS_VAR_DIR"
}
