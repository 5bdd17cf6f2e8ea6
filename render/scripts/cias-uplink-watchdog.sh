#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-uplink-watchdog: power/uplink watchdog (SPEC §4), run by cron every 3 minutes on every node.
#
# Usage: cias-uplink-watchdog [--help]
#
# Pings CIAS_UPLINK_PROBE (3 echo requests, 2 s each; one answer is enough).
#  - Unreachable: schedules `shutdown -h +CIAS_SHUTDOWN_DELAY_MIN` once. A new `shutdown +N`
#    replaces the pending one (REFERENCE 5.2), so running it every 3 minutes would keep pushing the
#    power-off away; the watchdog records its schedule in /var/lib/cias/uplink-watchdog.scheduled
#    (with the boot id, since a reboot clears pending shutdowns) and does not schedule again while
#    it stands. A shutdown someone else scheduled (/run/systemd/shutdown/scheduled) is left alone.
#  - Reachable again: cancels its own pending shutdown with `shutdown -c` and forgets it.
# A delayed shutdown needs systemd-logind: without it, `shutdown +N` powers off immediately
# (REFERENCE 5.2), so the watchdog refuses to schedule when logind is not active.
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_SHUTDOWN_SCHEDULE_FILE
# (/run/systemd/shutdown/scheduled); CIAS_BOOT_ID_FILE (/proc/sys/kernel/random/boot_id).
#
# Exit codes: 0 done; 1 scheduling or cancelling failed; 3 a required command is missing;
# 4 refused (logind not running); 5 already running; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

SYSTEMD_SCHEDULE=${CIAS_SHUTDOWN_SCHEDULE_FILE:-/run/systemd/shutdown/scheduled}
BOOT_ID_FILE=${CIAS_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}

cias_load_config
require_commands ping shutdown systemctl flock
cias_lock_or_exit uplink-watchdog 0

state="$(cias_var_dir)/uplink-watchdog.scheduled"
boot_id=$(cat "$BOOT_ID_FILE")

# True when this boot has a shutdown scheduled by the watchdog.
scheduled_by_us() {
  [[ -r $state ]] && [[ $(awk '{ print $1 }' "$state") == "$boot_id" ]]
}

if ping -n -q -c 3 -W 2 "$CIAS_UPLINK_PROBE" >/dev/null 2>&1; then
  if scheduled_by_us; then
    log_info "uplink probe $CIAS_UPLINK_PROBE answers again: cancelling the pending shutdown"
    shutdown -c "cias: uplink back, shutdown cancelled" || die "$CIAS_EXIT_FAILED" "shutdown -c failed"
    notify "uplink back, shutdown cancelled" "$CIAS_UPLINK_PROBE answers again; the shutdown scheduled by cias-uplink-watchdog was cancelled."
  fi
  # Also forgets a schedule from an earlier boot.
  rm -f "$state"
  exit 0
fi

if scheduled_by_us; then
  log_info "uplink probe $CIAS_UPLINK_PROBE still unreachable; shutdown already scheduled ($(cut -d' ' -f2- "$state"))"
  exit 0
fi
if [[ -e $SYSTEMD_SCHEDULE ]]; then
  log_warn "uplink probe $CIAS_UPLINK_PROBE unreachable, but a shutdown is already scheduled by someone else ($SYSTEMD_SCHEDULE); leaving it"
  exit 0
fi
systemctl is-active --quiet systemd-logind ||
  die "$CIAS_EXIT_REFUSED" "uplink probe $CIAS_UPLINK_PROBE unreachable, but systemd-logind is not running: 'shutdown +$CIAS_SHUTDOWN_DELAY_MIN' would power off at once, so nothing is scheduled"

log_warn "uplink probe $CIAS_UPLINK_PROBE unreachable: scheduling shutdown in $CIAS_SHUTDOWN_DELAY_MIN minutes"
shutdown -h "+$CIAS_SHUTDOWN_DELAY_MIN" "cias: uplink probe $CIAS_UPLINK_PROBE unreachable" ||
  die "$CIAS_EXIT_FAILED" "shutdown -h +$CIAS_SHUTDOWN_DELAY_MIN failed"
printf '%s %s\n' "$boot_id" "$(date -d "+$CIAS_SHUTDOWN_DELAY_MIN minutes" '+%Y-%m-%dT%H:%M:%S%z')" >"$state"
notify "uplink down, shutdown scheduled" "$CIAS_UPLINK_PROBE did not answer; $CIAS_NODE_NAME powers off in $CIAS_SHUTDOWN_DELAY_MIN minutes unless it answers again."
