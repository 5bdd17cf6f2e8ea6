#!/usr/bin/env bash
# Adds the cias zone include to bind's named.conf.local. Zentyal's DNS module rewrites that file on
# every restart, so this runs from /etc/zentyal/hooks/dns.postsetconf: after Zentyal has written its
# files and before bind starts. A zone that does not load is left out (bind keeps serving Zentyal's
# own zones) and the failure is logged.
# Idempotent: the include line is added once.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

local_conf="$CIAS_BIND_ETC/named.conf.local"
include_file="$CIAS_BIND_ETC/cias/named.conf.cias"
include_line="include \"$include_file\";"

apply() {
  if [[ ! -r $include_file ]]; then
    cias_log "no $include_file; bind serves Zentyal's zones only"
    return 0
  fi
  if command -v named-checkconf >/dev/null && ! named-checkconf -z "$include_file" >/dev/null; then
    cias_log "error: $include_file or its zone does not load; not included"
    return 0
  fi
  touch "$local_conf"
  if ! grep -qxF -- "$include_line" "$local_conf"; then
    printf '\n// cias (see %s)\n%s\n' "$CIAS_GATEWAY_LIB/apply-dns.sh" "$include_line" >>"$local_conf"
    cias_log "included $include_file in $local_conf"
  fi
}

cias_with_lock dns apply
