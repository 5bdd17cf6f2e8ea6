#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-join-cluster: join this node to the Proxmox VE cluster through the master (SPEC §7
# scenario 2), without any prompt.
#
# Usage: cias-join-cluster [--password-file <file>] [--master <address>] [--fingerprint <sha256>] [--help]
#   --password-file  file whose first line is the root password of the master (default: the file
#                    named by CIAS_ROOT_PASSWORD_FILE). Required: the password never appears on a
#                    command line; it reaches `pvecm add` on its standard input, which pvecm reads
#                    when it is not a terminal (REFERENCE 1.2).
#   --master         address of a cluster member (default CIAS_VIP, the master)
#   --fingerprint    SHA-256 fingerprint of that member's API certificate. Without it, the join
#                    information is fetched from the master over SSH (root keys are exchanged
#                    before a join): `pvesh get /cluster/config/join` names the answering node
#                    (preferred_node) with its address and fingerprint, and the join goes there.
#
# Idempotent: a node with /etc/pve/corosync.conf is in a cluster already and nothing happens.
# Refuses to join while the node has guests: Proxmox would refuse too (the VMIDs could collide).
#
# Exit codes: 0 joined (or already a member); 1 pvecm add failed; 2 usage (no password file, bad
# fingerprint); 3 not a Proxmox VE node; 4 refused (guests present); 5 busy; 7 configuration missing.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

password_file=${CIAS_ROOT_PASSWORD_FILE:-}
master=""
fingerprint=""
while (($# > 0)); do
  case $1 in
    --password-file | --master | --fingerprint)
      [[ -n ${2:-} ]] || die "$CIAS_EXIT_USAGE" "$1 needs a value"
      case $1 in
        --password-file) password_file=$2 ;;
        --master) master=$2 ;;
        --fingerprint) fingerprint=$2 ;;
      esac
      shift 2
      ;;
    *) die "$CIAS_EXIT_USAGE" "unknown argument $1 (see --help)" ;;
  esac
done

cias_load_config
require_commands pvecm qm flock
cias_lock_or_exit cluster "${CIAS_LOCK_WAIT_SEC:-3600}"
# pvecm refuses to run inside /etc/pve.
cd /

if [[ -f $CIAS_PVE_DIR/corosync.conf ]]; then
  log_info "already a member of cluster $(awk '$1 == "cluster_name:" { print $2; exit }' "$CIAS_PVE_DIR/corosync.conf"); nothing to do"
  exit 0
fi

[[ -n $password_file ]] ||
  die "$CIAS_EXIT_USAGE" "no root password file: pass --password-file <file> or set CIAS_ROOT_PASSWORD_FILE"
[[ -r $password_file && -s $password_file ]] ||
  die "$CIAS_EXIT_USAGE" "root password file $password_file is missing, unreadable or empty"
if [[ $(stat -c %a "$password_file") =~ [1-7]$ ]]; then
  log_warn "$password_file is readable by other users; it should be mode 0600"
fi

guests=$(qm list | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }' | paste -sd' ' -)
[[ -z $guests ]] ||
  die "$CIAS_EXIT_REFUSED" "this node has guests ($guests): a node joins a cluster empty (back them up, join, restore under new VMIDs)"

master=${master:-$CIAS_VIP}
if [[ -z $fingerprint ]]; then
  require_commands ssh jq
  log_info "fetching join information from $master"
  join_info=$(ssh -o BatchMode=yes -o ConnectTimeout=15 "root@$master" pvesh get /cluster/config/join --output-format json) ||
    die "$CIAS_EXIT_FAILED" "cannot read the join information from root@$master over SSH"
  read -r master fingerprint < <(jq -r '.preferred_node as $p | .nodelist[] | select(.name == $p) | "\(.pve_addr) \(.pve_fp)"' <<<"$join_info") || true
  [[ -n $master && -n $fingerprint ]] || die "$CIAS_EXIT_FAILED" "the join information from $master names no node address and fingerprint"
fi
[[ $fingerprint =~ ^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$ ]] ||
  die "$CIAS_EXIT_USAGE" "'$fingerprint' is not a SHA-256 fingerprint (32 colon-separated hex pairs)"

log_info "joining the cluster through $master (link0 $CIAS_NODE_IP)"
if ! head -n 1 "$password_file" | pvecm add "$master" --fingerprint "$fingerprint" --link0 "$CIAS_NODE_IP"; then
  die "$CIAS_EXIT_FAILED" "pvecm add $master failed"
fi
log_info "joined cluster $CIAS_CLUSTER_NAME"
