#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cias-prepare-disks: format and mount this node's MooseFS chunk disks at /data/<dev> (SPEC §4,
# §9 errata: only listed disks, never one holding data unless forced).
#
# Usage: cias-prepare-disks [--help]
#
# Reads /etc/cias/disks.conf (CIAS_DISKS_CONF), one disk per line, '#' for comments:
#   <device> <filesystem> <force>
#   /dev/sdb xfs 0
# device: a block device under /dev; filesystem: xfs or ext4; force: 1 allows wiping a device that
# already holds a filesystem or partition table, 0 refuses (exit 4). The mount point is
# /data/<device name> (/dev/sdb -> /data/sdb).
#
# For each disk, in order:
#  - refuse a device that is not a block device, or whose partitions are mounted (even forced:
#    that is a disk in use, maybe the system disk);
#  - a device that already carries the cias label (cias-data) and the wanted filesystem is a disk
#    prepared earlier: it is only (re)entered in fstab and mounted;
#  - any other signature (blkid -p: filesystem, partition table, RAID, LVM) refuses unless force=1,
#    which wipes it (wipefs -a) first;
#  - mkfs.<filesystem> -L cias-data, an fstab line "UUID=<uuid> /data/<dev> <fs>
#    defaults,noatime,nofail 0 2" (replacing any older line for that mount point; the previous
#    fstab is kept as fstab.prev), mount through that line, owner mfs:mfs for the chunkserver.
# Running it again changes nothing. Disks are handled one by one; a refused disk does not stop
# the others, but the exit code reports it.
#
# Environment: CIAS_DISKS_CONF (/etc/cias/disks.conf), CIAS_FSTAB (/etc/fstab), CIAS_DATA_ROOT
# (/data), and the paths of common.sh. Needs no cias.conf.
#
# Exit codes: 0 every disk ready; 1 a command failed; 3 a required command is missing; 4 a disk
# was refused; 5 busy; 7 disks.conf missing or invalid.
set -euo pipefail

CIAS_LIB=${CIAS_LIB:-/usr/local/lib/cias/common.sh}
# shellcheck source=common.sh
source "$CIAS_LIB"

cias_wants_help "$@" && cias_usage "$0"

DISKS_CONF=${CIAS_DISKS_CONF:-/etc/cias/disks.conf}
FSTAB=${CIAS_FSTAB:-/etc/fstab}
DATA_ROOT=${CIAS_DATA_ROOT:-/data}
readonly LABEL=cias-data

require_commands blkid wipefs lsblk findmnt mount flock
cias_lock_or_exit disks 600
[[ -r $DISKS_CONF ]] || die "$CIAS_EXIT_CONFIG" "cannot read $DISKS_CONF"

# Checks every line first: a typo must not leave half the disks formatted.
entries=()
mkfs_commands=()
line_number=0
while IFS= read -r line || [[ -n $line ]]; do
  line_number=$((line_number + 1))
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  read -r device filesystem force extra <<<"$line"
  [[ -z ${extra:-} && $device =~ ^/dev/[A-Za-z0-9][A-Za-z0-9_/.-]*$ && $device != *..* ]] ||
    die "$CIAS_EXIT_CONFIG" "$DISKS_CONF:$line_number: expected '<device under /dev> <xfs|ext4> <0|1>', got '$line'"
  [[ $filesystem == xfs || $filesystem == ext4 ]] ||
    die "$CIAS_EXIT_CONFIG" "$DISKS_CONF:$line_number: filesystem must be xfs or ext4, not '$filesystem'"
  [[ $force == 0 || $force == 1 ]] || die "$CIAS_EXIT_CONFIG" "$DISKS_CONF:$line_number: force must be 0 or 1, not '${force:-}'"
  entries+=("$device $filesystem $force")
  mkfs_commands+=("mkfs.$filesystem")
done <"$DISKS_CONF"
((${#entries[@]} > 0)) || { log_info "no disks listed in $DISKS_CONF"; exit 0; }
require_commands "${mkfs_commands[@]}"

# set_fstab_line <mount-point> <line>: the only line for that mount point, written atomically.
set_fstab_line() {
  local mount_point=$1 wanted=$2
  if [[ -e $FSTAB ]] && awk -v mp="$mount_point" -v line="$wanted" '$2 == mp && $0 == line { found = 1 } END { exit !found }' "$FSTAB" &&
    [[ $(awk -v mp="$mount_point" '$1 !~ /^#/ && $2 == mp' "$FSTAB" | wc -l) -eq 1 ]]; then
    return 0
  fi
  [[ -e $FSTAB ]] || : >"$FSTAB"
  cp -p "$FSTAB" "$FSTAB.prev"
  { awk -v mp="$mount_point" '$1 ~ /^#/ || $2 != mp' "$FSTAB"; printf '%s\n' "$wanted"; } | write_atomically "$FSTAB"
  log_info "fstab: $wanted"
}

# prepare_disk <device> <filesystem> <force>; returns 4 when refused.
prepare_disk() {
  local device=$1 filesystem=$2 force=$3 name mount_point signatures type label uuid
  name=${device##*/}
  mount_point="$DATA_ROOT/$name"
  if [[ ! -b $device ]]; then
    log_error "$device is not a block device; skipped"
    return "$CIAS_EXIT_REFUSED"
  fi
  if grep -qxF "$mount_point" <<<"$(findmnt -rn -S "$device" -o TARGET 2>/dev/null || true)"; then
    log_info "$device is mounted at $mount_point already"
    return 0
  fi
  if [[ -n $(lsblk -rno MOUNTPOINT "$device" | tr -d '[:space:]') ]]; then
    log_error "$device (or a partition of it) is mounted: a disk in use is never formatted; skipped"
    return "$CIAS_EXIT_REFUSED"
  fi

  type=$(blkid -p -s TYPE -o value "$device" 2>/dev/null || true)
  label=$(blkid -p -s LABEL -o value "$device" 2>/dev/null || true)
  if [[ $type == "$filesystem" && $label == "$LABEL" ]]; then
    log_info "$device already carries a $filesystem filesystem labelled $LABEL: keeping it"
  else
    signatures=$(wipefs --noheadings --output TYPE "$device" 2>/dev/null | paste -sd, - || true)
    if [[ -n $signatures ]]; then
      if [[ $force != 1 ]]; then
        log_error "$device already holds data ($signatures); refusing to format it. Set force to 1 for it in $DISKS_CONF if it really may be wiped"
        return "$CIAS_EXIT_REFUSED"
      fi
      log_warn "$device holds $signatures; wiping it as forced"
      wipefs -a -q "$device" || return "$CIAS_EXIT_FAILED"
    fi
    log_info "formatting $device as $filesystem"
    # No -f/-F: the device is blank now, and mkfs checks that once more by itself.
    case $filesystem in
      xfs) mkfs.xfs -q -L "$LABEL" "$device" || return "$CIAS_EXIT_FAILED" ;;
      ext4) mkfs.ext4 -q -L "$LABEL" "$device" </dev/null || return "$CIAS_EXIT_FAILED" ;;
    esac
  fi

  uuid=$(blkid -p -s UUID -o value "$device")
  [[ -n $uuid ]] || { log_error "no UUID on $device after formatting"; return "$CIAS_EXIT_FAILED"; }
  mkdir -p "$mount_point"
  set_fstab_line "$mount_point" "UUID=$uuid $mount_point $filesystem defaults,noatime,nofail,x-systemd.before=moosefs-chunkserver.service 0 2" || return "$CIAS_EXIT_FAILED"
  if ! findmnt -rn "$mount_point" >/dev/null; then
    mount --fstab "$FSTAB" "$mount_point" || return "$CIAS_EXIT_FAILED"
  fi
  if getent passwd mfs >/dev/null; then
    chown mfs:mfs "$mount_point"
  fi
  log_info "$device ready at $mount_point"
}

rc=0
for entry in "${entries[@]}"; do
  read -r device filesystem force <<<"$entry"
  result=0
  prepare_disk "$device" "$filesystem" "$force" || result=$?
  if ((result != 0 && (rc == 0 || result == CIAS_EXIT_REFUSED))); then
    rc=$result
  fi
done
exit "$rc"
