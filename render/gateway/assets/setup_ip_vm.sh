#!/usr/bin/env bash
# SPEC §6: adds (or moves) the VM-management IP with index E (0..250). VMs with VMID E*1000+P get
# their ports P*100..P*100+99 forwarded on it. Usage: setup_ip_vm.sh <E> <ipv4>
# Idempotent: setting the current address again changes nothing.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

(($# == 2)) || { echo "usage: ${0##*/} <index 0..250> <ipv4>" >&2; exit 2; }
[[ $1 =~ ^(0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|250)$ ]] || cias_die "index '$1' is not in 0..250"
cias_load_conf
cias_set_address "vm-$1" "$2"
