#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab run for real: the daemons a DLLL-CIAS node runs
# (keepalived, MooseFS, cron, sshd; rsyslog gives each lab node a /dev/log, attr marks its overlay dirs opaque, jq writes the shim call log), the gateway daemons whose checkers validate rendered configs
# (isc-dhcp-server, nginx, iptables, nftables, bind9-utils for named-checkzone), the linters, and a headless
# chromium (with a font) that renders the topology SVG of `cias diagram`.
# Idempotent: skips what is installed.
set -euo pipefail

packages=(
  keepalived
  moosefs-master moosefs-chunkserver moosefs-metalogger moosefs-client moosefs-cgiserv moosefs-cli
  openssh-server openssh-client fuse3 cron rsync rsyslog attr jq
  iproute2 iputils-ping procps psmisc util-linux xfsprogs e2fsprogs
  isc-dhcp-server nginx-light iptables nftables bind9-utils
  shellcheck
  chromium fonts-dejavu-core
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "install-system-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start daemons on the build host: the tests start their own, by PID.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
trap '((created_policy)) && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-deps: done"
