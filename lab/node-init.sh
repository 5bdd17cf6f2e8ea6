#!/usr/bin/env bash
# PID 1 of a cias lab node. Started by lab/node-host.ts as
#   ip netns exec cias-lab-<node> unshare --mount --uts --ipc --pid --fork --propagation private -- node-init.sh
# so it runs in the node's network namespace and in fresh mount, UTS, IPC and PID namespaces.
#
# It builds the node's root filesystem — an overlay of the host root (read-only lower layer, below the
# lab's command shims) with a per-node upper directory, a private /dev, /run, /tmp, /proc and /sys —
# pivots into it, then boots: `systemctl start multi-user.target` (the lab's systemctl starts the
# enabled units and mounts fstab). Other processes join with `nsenter -t <this pid> -m -u -i -n -p`.
#
# Signals: SIGTERM = power off (units stopped, links down, PID 1 exits, the kernel ends the rest);
# SIGUSR1 = reboot (units stopped, fresh /run and /tmp, boot again). SIGKILL from outside = power cut.
set -euo pipefail

: "${CIAS_LAB_NODE_NAME:?}" "${CIAS_LAB_UPPER:?}" "${CIAS_LAB_WORK:?}" "${CIAS_LAB_ROOT:?}"
: "${CIAS_LAB_LAYER:?}" "${CIAS_LAB_LAYER_MOUNT:?}" "${CIAS_LAB_SHARED:?}" "${CIAS_LAB_SHARED_MOUNT:?}" "${CIAS_LAB_BOOTED_MARKER:?}"

log() {
  printf '%s cias-lab-init[%s]: %s\n' "$(date '+%F %T')" "$CIAS_LAB_NODE_NAME" "$*"
}

# Device nodes are bind mounts of the host's: a node gets null, zero, random, tty and fuse, its own
# pty instance and shared memory, and its own /dev/log (rsyslog creates it).
populate_dev() {
  local dev=$1 name
  mount -t tmpfs -o mode=0755,size=1m,nosuid tmpfs "$dev"
  for name in null zero full random urandom tty fuse; do
    [[ -e /dev/$name ]] || continue
    : >"$dev/$name"
    mount --bind "/dev/$name" "$dev/$name"
  done
  # The node's disks (loop devices on the host), under their cluster.yaml name and their own name.
  local disk name_in_node loop
  for disk in ${CIAS_LAB_DISKS:-}; do
    name_in_node=${disk%%:*}
    loop=${disk#*:}
    [[ -b $loop ]] || { log "disk $name_in_node: $loop is not a block device"; return 1; }
    : >"$dev/$name_in_node"
    mount --bind "$loop" "$dev/$name_in_node"
    : >"$dev/${loop#/dev/}"
    mount --bind "$loop" "$dev/${loop#/dev/}"
  done
  mkdir -m 0755 "$dev/pts"
  mkdir -m 1777 "$dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$dev/pts"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$dev/shm"
  ln -s pts/ptmx "$dev/ptmx"
  ln -s /proc/self/fd "$dev/fd"
  ln -s /proc/self/fd/0 "$dev/stdin"
  ln -s /proc/self/fd/1 "$dev/stdout"
  ln -s /proc/self/fd/2 "$dev/stderr"
}

mount_volatile() {
  local root=$1
  mount -t tmpfs -o mode=0755,size=64m,nosuid,nodev tmpfs "$root/run"
  mount -t tmpfs -o mode=1777,size=1g,nosuid,nodev tmpfs "$root/tmp"
}

assemble_root() {
  local root=$CIAS_LAB_ROOT
  mount --make-rprivate /
  mkdir -p "$root" "$CIAS_LAB_LAYER_MOUNT"
  # overlayfs refuses a lower layer inside another lower layer (the host root): the shim layer is
  # copied onto a tmpfs of its own first.
  mount -t tmpfs -o mode=0755,size=64m tmpfs "$CIAS_LAB_LAYER_MOUNT"
  cp -a "$CIAS_LAB_LAYER/." "$CIAS_LAB_LAYER_MOUNT/"
  mount -t overlay overlay \
    -o "lowerdir=$CIAS_LAB_LAYER_MOUNT:/,upperdir=$CIAS_LAB_UPPER,workdir=$CIAS_LAB_WORK" "$root"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount -t sysfs -o nosuid,nodev,noexec sysfs "$root/sys"
  mount_volatile "$root"
  populate_dev "$root/dev"
  # The host's lab directory (every node's upper layer) stays hidden: only the shared part is seen.
  mkdir -p "$root$CIAS_LAB_SHARED_MOUNT"
  mount --bind "$CIAS_LAB_SHARED" "$root$CIAS_LAB_SHARED_MOUNT"
  cd "$root"
  pivot_root . .
  umount -l .
  cd /
}

boot() {
  hostname "$CIAS_LAB_NODE_NAME"
  mkdir -p /run/lock /run/cias-lab
  chmod 1777 /run/lock
  log "booting"
  systemctl start multi-user.target || log "some boot units failed (see systemctl status)"
  : >"$CIAS_LAB_BOOTED_MARKER"
  log "booted"
}

# Stops units the way shutdown does, then ends whatever is left (sessions, cron jobs, helpers).
halt_processes() {
  local attempt
  systemctl lab-halt || log "stopping units failed"
  kill -TERM -1 2>/dev/null || true
  for attempt in {1..50}; do
    (($(other_processes) == 0)) && break
    sleep 0.1
  done
  ((attempt < 50)) || log "processes left after 5 s get SIGKILL"
  kill -KILL -1 2>/dev/null || true
}

# Live processes in this PID namespace other than PID 1 and the subshell counting them.
other_processes() {
  local count=0 entry stat
  for entry in /proc/[0-9]*; do
    [[ ${entry#/proc/} == 1 || ${entry#/proc/} == "$BASHPID" ]] && continue
    { read -r stat <"$entry/stat"; } 2>/dev/null || continue
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]] && continue
    count=$((count + 1))
  done
  printf '%s\n' "$count"
}

links_down() {
  local link name
  for link in /sys/class/net/*; do
    name=${link##*/}
    [[ $name == lo ]] || ip link set dev "$name" down || true
  done
}

power_off() {
  log "power off"
  halt_processes
  links_down
  log "off"
  exit 0
}

reboot_node() {
  log "reboot"
  halt_processes
  umount /tmp /run || true
  mount_volatile ""
  boot
}

assemble_root
trap power_off TERM INT
trap reboot_node USR1
boot
while :; do
  sleep 2147483647 &
  wait $! || true
done
