#!/usr/bin/env bash
# SPEC §6: sets the gateway's Proxmox-management IP (also the Zentyal web UI and the DNS delegation
# address; the primary WAN address). Usage: setup_ip_proxmox.sh <ipv4>
# Idempotent: setting the current address again changes nothing.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

(($# == 1)) || { echo "usage: ${0##*/} <ipv4>" >&2; exit 2; }
cias_load_conf
cias_set_address proxmox "$1"
