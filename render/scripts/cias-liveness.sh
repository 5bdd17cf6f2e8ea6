#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-liveness: the master checks that every node answers (SPEC §5), run by cron every 5 minutes
# on every node; on a node without CIAS_VIP it does nothing (exit 0).
#
# Usage: cias-liveness [--help]
#
# Pings every other node of /etc/cias/nodes.conf (2 echo requests, 2 s each) and stamps the time
# it last answered in /var/lib/cias/liveness/<node>.last-seen. A node this master has not seen
# yet starts its count now, so a fresh master never removes nodes at once. A node silent for
# CIAS_DEAD_AFTER_MIN minutes or more is handed to cias-delete-node (scenario 6) once: the
# attempt is recorded in <node>.deleted (time and exit code) and not repeated until the node
# answers again. Nothing is deleted while the Proxmox cluster is not quorate: then the silent
# nodes may well be the majority and this master the one cut off.
#
# Environment: CIAS_CONF and the paths of common.sh; CIAS_DELETE_NODE_SCRIPT
# (/usr/local/sbin/cias-delete-node).
#
# Exit codes: 0 done (or not the master); 3 a required command is missing; 5 already running;
# 6 a deletion failed; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"
# shellcheck source=pve.sh
source "${CIAS_LIB%/*}/pve.sh"

cias_wants_help "$@" && cias_usage "$0"

DELETE_NODE=${CIAS_DELETE_NODE_SCRIPT:-/usr/local/sbin/cias-delete-node}

cias_load_config
require_commands ping pvecm flock ip
if ! holds_vip; then
  exit 0
fi
cias_lock_or_exit liveness 0

stamps="$(cias_var_dir)/liveness"
mkdir -p "$stamps"
now=$(date +%s)
dead_after=$((CIAS_DEAD_AFTER_MIN * 60))
dead=()

while read -r -u 3 ip name _fqdn _can_be_master; do
  [[ $name == "$CIAS_NODE_NAME" ]] && continue
  if ping -n -q -c 2 -W 2 "$ip" >/dev/null 2>&1; then
    printf '%s\n' "$now" >"$stamps/$name.last-seen"
    if [[ -e $stamps/$name.deleted ]]; then
      log_warn "$name ($ip) answers again after cias-delete-node ran for it: check it never rejoins with its old identity"
      rm -f "$stamps/$name.deleted"
    fi
    continue
  fi
  [[ -s $stamps/$name.last-seen ]] || printf '%s\n' "$now" >"$stamps/$name.last-seen"
  silent=$((now - $(<"$stamps/$name.last-seen")))
  if ((silent >= dead_after)); then
    dead+=("$name")
  else
    log_info "$name ($ip) has not answered for $((silent / 60)) min (dead after $CIAS_DEAD_AFTER_MIN min)"
  fi
done 3< <(cias_nodes)

((${#dead[@]} > 0)) || exit 0
if ! pve_is_quorate; then
  log_error "silent for ${CIAS_DEAD_AFTER_MIN}+ min: ${dead[*]}; the cluster is not quorate, so this master may be the one cut off: deleting nobody"
  exit 0
fi

rc=0
for name in "${dead[@]}"; do
  if [[ -e $stamps/$name.deleted ]]; then
    log_info "$name is still silent; cias-delete-node already ran for it ($(<"$stamps/$name.deleted"))"
    continue
  fi
  log_warn "$name has not answered for ${CIAS_DEAD_AFTER_MIN}+ min: running $DELETE_NODE $name (scenario 6)"
  result=0
  "$DELETE_NODE" "$name" || result=$?
  printf '%s %s\n' "$(date +%s)" "$result" >"$stamps/$name.deleted"
  if ((result != 0)); then
    log_error "$DELETE_NODE $name exited $result"
    rc=$CIAS_EXIT_PARTIAL
  fi
done
exit "$rc"
