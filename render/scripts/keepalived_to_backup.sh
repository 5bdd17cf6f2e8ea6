#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# keepalived_to_backup.sh: this node is (no longer) master. keepalived runs it as notify_backup and
# notify_fault: at start-up, and when the VIPs move away (manual switch, a higher node taking over).
#
# Usage: keepalived_to_backup.sh [--help]
#
# A demoted master must stop its mfsmaster and mfscgiserv: the new master restores MooseFS from its
# metalogger (keepalived_to_master.sh), and a second mfsmaster holding stale metadata must not keep
# running beside it. Nothing is stopped while this node still holds CIAS_VIP (a transient state
# change). Idempotent: on a node that runs no mfsmaster it only logs.
#
# Exit codes: 0 done; 1 mfsmaster could not be stopped; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

MFS_MASTER_CFG=${CIAS_MFSMASTER_CFG:-/etc/mfs/mfsmaster.cfg}

cias_load_config
require_commands systemctl ip

if holds_vip; then
  log_info "keepalived reports BACKUP/FAULT but $CIAS_VIP is still here: leaving mfsmaster alone"
  exit 0
fi

if systemctl is-active --quiet moosefs-cgiserv; then
  systemctl stop moosefs-cgiserv || log_warn "moosefs-cgiserv did not stop"
fi
if ! systemctl is-active --quiet moosefs-master; then
  log_info "not master: no mfsmaster running here"
  exit 0
fi
log_info "not master any more: stopping mfsmaster (the new master restores from its metalogger)"
if ! systemctl stop moosefs-master && ! mfsmaster -c "$MFS_MASTER_CFG" stop >/dev/null 2>&1; then
  die "$CIAS_EXIT_FAILED" "mfsmaster could not be stopped on a node that is not master"
fi
notify "demoted" "$CIAS_NODE_NAME no longer holds $CIAS_VIP; its mfsmaster was stopped."
