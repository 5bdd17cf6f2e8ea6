#!/usr/bin/env bash
# SPEC §6: sets the gateway's NAS-management IP (NAS port forwards and web UI reverse proxy).
# Usage: setup_ip_nas.sh <ipv4>
# Idempotent: setting the current address again changes nothing.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

(($# == 1)) || { echo "usage: ${0##*/} <ipv4>" >&2; exit 2; }
cias_load_conf
cias_set_address nas "$1"
