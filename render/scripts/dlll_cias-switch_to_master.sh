#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dlll_cias-switch_to_master.sh: make this node the master on purpose (SPEC §7 scenario 4).
#
# Usage: dlll_cias-switch_to_master.sh [--help]
#
# Swaps /etc/keepalived/keepalived-force-master.conf in as keepalived.conf (VRRP priority 254 and
# preemption: it beats every normal node), reloads keepalived and waits (bounded) until CIAS_VIP is
# here. keepalived then runs keepalived_to_master.sh (scenario 3) as notify_master; this script
# waits for that run to finish, or runs it itself when keepalived did not start it within the
# grace period. Finally the normal keepalived.conf goes back and keepalived is RELOADED, not
# restarted: the instance keeps the VIPs, the other nodes are nopreempt, while a restart would send
# a priority-0 advert and hand the VIPs straight to another node. The normal file is restored even
# when a step fails; a copy waits in keepalived.conf.cias-normal until then, so an interrupted run
# is repaired by the next one.
#
# Refuses on a node that may never be master (CIAS_CAN_BE_MASTER=0).
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_KEEPALIVED_DIR (/etc/keepalived);
# CIAS_FAILOVER_SCRIPT (/usr/local/sbin/keepalived_to_master.sh); CIAS_SWITCH_VIP_TIMEOUT_SEC (60);
# CIAS_SWITCH_NOTIFY_GRACE_SEC (30): how long keepalived gets to start the failover;
# CIAS_SWITCH_FAILOVER_TIMEOUT_SEC (3600): how long the failover may take.
#
# Exit codes: 0 done (or already master); 1 the VIP did not arrive or the failover did not finish
# in time; 3 a required command is missing; 4 refused; 5 another switch is running; 6 the failover
# finished partly; 7 configuration (or the force-master file) missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

KEEPALIVED_DIR=${CIAS_KEEPALIVED_DIR:-/etc/keepalived}
FAILOVER_SCRIPT=${CIAS_FAILOVER_SCRIPT:-/usr/local/sbin/keepalived_to_master.sh}
VIP_TIMEOUT=${CIAS_SWITCH_VIP_TIMEOUT_SEC:-60}
NOTIFY_GRACE=${CIAS_SWITCH_NOTIFY_GRACE_SEC:-30}
FAILOVER_TIMEOUT=${CIAS_SWITCH_FAILOVER_TIMEOUT_SEC:-3600}

cias_load_config
[[ $CIAS_CAN_BE_MASTER == 1 ]] ||
  die "$CIAS_EXIT_REFUSED" "refusing the switch: this node is below the hardware minimum and may never be master (CIAS_CAN_BE_MASTER=0)"
require_commands systemctl flock ip
cias_lock_or_exit switch 0

if holds_vip; then
  log_info "$CIAS_VIP is already here: this node is the master, nothing to switch"
  exit 0
fi

active_conf=$KEEPALIVED_DIR/keepalived.conf
force_conf=$KEEPALIVED_DIR/keepalived-force-master.conf
saved_conf=$KEEPALIVED_DIR/keepalived.conf.cias-normal
[[ -s $force_conf ]] || die "$CIAS_EXIT_CONFIG" "$force_conf is missing: cannot force this node to win the election"
[[ -x $FAILOVER_SCRIPT ]] || die "$CIAS_EXIT_CONFIG" "$FAILOVER_SCRIPT is missing or not executable"

reload_keepalived() {
  if systemctl is-active --quiet keepalived; then
    systemctl reload keepalived
  else
    systemctl start keepalived
  fi
}

restore_normal_conf() {
  [[ -f $saved_conf ]] || return 0
  write_atomically "$active_conf" <"$saved_conf"
  rm -f "$saved_conf"
  log_info "normal keepalived.conf restored; reloading keepalived"
  reload_keepalived || log_error "keepalived reload failed: check 'systemctl status keepalived'"
}

# A saved copy means an earlier switch was interrupted: the active file may be the force-master one.
if [[ -f $saved_conf ]]; then
  log_warn "$saved_conf exists from an interrupted switch; it stays the normal configuration"
else
  cp -p "$active_conf" "$saved_conf"
fi
trap restore_normal_conf EXIT

state_dir=$(cias_var_dir)
switch_started=$(date +%s)
write_atomically "$active_conf" <"$force_conf"
log_info "force-master configuration in place; reloading keepalived"
reload_keepalived

deadline=$((SECONDS + VIP_TIMEOUT))
until holds_vip; do
  ((SECONDS < deadline)) || die "$CIAS_EXIT_FAILED" "$CIAS_VIP did not come here within ${VIP_TIMEOUT}s; is keepalived running with the force-master file?"
  sleep 1
done
log_info "$CIAS_VIP is here"

# stamp_at_least <file> <epoch>: the file's first field is a time at or after <epoch>.
stamp_at_least() {
  [[ -r $1 ]] && (($(cut -d' ' -f1 "$1") >= $2))
}

deadline=$((SECONDS + NOTIFY_GRACE))
until stamp_at_least "$state_dir/failover.started" "$switch_started"; do
  if ((SECONDS >= deadline)); then
    log_warn "keepalived did not start $FAILOVER_SCRIPT within ${NOTIFY_GRACE}s; running it now"
    "$FAILOVER_SCRIPT" || true
    break
  fi
  sleep 1
done

deadline=$((SECONDS + FAILOVER_TIMEOUT))
until stamp_at_least "$state_dir/failover.last" "$switch_started"; do
  ((SECONDS < deadline)) || die "$CIAS_EXIT_FAILED" "the failover did not finish within ${FAILOVER_TIMEOUT}s; see /var/log/cias.log"
  sleep 2
done
failover_rc=$(cut -d' ' -f2 "$state_dir/failover.last")
if ((failover_rc != 0)); then
  log_error "the failover ended with exit code $failover_rc"
  exit "$CIAS_EXIT_PARTIAL"
fi
log_info "switch done: this node is the master"
