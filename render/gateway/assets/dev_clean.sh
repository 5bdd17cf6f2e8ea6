#!/usr/bin/env bash
# SPEC §6 development clean-up: removes everything the cias bundle put on the gateway (rules,
# addresses, stub, hooks, zone, nginx site, configuration) and lets Zentyal regenerate its own files.
# The scripts in the cias library directory stay so that the bundle can be installed again.
# Usage: dev_clean.sh --yes
# Idempotent: whatever is already gone is skipped.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

[[ ${1:-} == --yes ]] || { echo "usage: ${0##*/} --yes   (removes the cias gateway configuration)" >&2; exit 2; }

remove_firewall() {
  local table chain target line
  for line in 'nat PREROUTING CIAS-PREROUTING' 'nat POSTROUTING CIAS-POSTROUTING' \
    'filter INPUT CIAS-INPUT' 'filter FORWARD CIAS-FORWARD'; do
    read -r table chain target <<<"$line"
    while iptables -w -t "$table" -C "$chain" -j "$target" 2>/dev/null; do
      iptables -w -t "$table" -D "$chain" -j "$target"
    done
  done
  for table in nat filter; do
    mapfile -t chains < <(iptables -w -t "$table" -S | awk '$1 == "-N" && $2 ~ /^CIAS-/ { print $2 }')
    for chain in "${chains[@]}"; do iptables -w -t "$table" -F "$chain"; done
    for chain in "${chains[@]}"; do iptables -w -t "$table" -X "$chain"; done
  done
  cias_log "cias iptables chains removed"
}

remove_addresses() {
  local state="$CIAS_STATE_DIR/gateway-addresses.applied" cidr listing
  [[ -r $state ]] || return 0
  while read -r cidr; do
    [[ -n $cidr ]] || continue
    listing=$(ip -4 -o addr show dev "$CIAS_GW_WAN_IF" 2>/dev/null || true)
    if [[ $listing == *" inet $cidr "* ]]; then
      ip -4 addr del "$cidr" dev "$CIAS_GW_WAN_IF"
      cias_log "removed $cidr from $CIAS_GW_WAN_IF"
    fi
  done <"$state"
  rm -f "$state"
}

# Only files that carry the cias marker are removed: a hook or stub someone else wrote stays.
remove_if_ours() {
  local file
  for file in "$@"; do
    [[ -e $file ]] || continue
    if grep -q 'cias' "$file"; then
      rm -f "$file" "$file.prev"
      cias_log "removed $file"
    else
      cias_log "kept $file: not written by cias"
    fi
  done
}

clean() {
  local local_conf="$CIAS_BIND_ETC/named.conf.local" tmp
  remove_firewall
  if [[ -r $CIAS_GATEWAY_CONF ]]; then
    cias_load_conf
    remove_addresses
  fi
  remove_if_ours \
    "$CIAS_ZENTYAL_ETC/hooks/firewall.postservice" \
    "$CIAS_ZENTYAL_ETC/hooks/network.postservice" \
    "$CIAS_ZENTYAL_ETC/hooks/dns.postsetconf" \
    "$CIAS_ZENTYAL_ETC/stubs/dhcp/dhcpd.conf.mas" \
    "$CIAS_ZENTYAL_ETC/dhcp/cias-hosts.conf" \
    "$CIAS_NGINX_SITE"
  if [[ -f $local_conf ]] && grep -q 'cias' "$local_conf"; then
    tmp=$(mktemp "$CIAS_BIND_ETC/.named.conf.local.XXXXXX")
    grep -v -e '^// cias ' -e "^include \"$CIAS_BIND_ETC/cias/" "$local_conf" >"$tmp" || true
    chmod --reference="$local_conf" "$tmp"
    mv -f "$tmp" "$local_conf"
    cias_log "cias include removed from $local_conf"
  fi
  rm -rf "${CIAS_BIND_ETC:?}/cias" "${CIAS_GATEWAY_ETC:?}"
  rm -f "$CIAS_GATEWAY_CONF" "$CIAS_GATEWAY_CONF.prev"
}

cias_with_lock firewall cias_with_lock addresses clean

# Zentyal regenerates dhcpd.conf, named.conf.local and its firewall without the cias parts.
if command -v zs >/dev/null; then
  zs dhcp restart || cias_log "error: zs dhcp restart failed"
  zs dns restart || cias_log "error: zs dns restart failed"
  zs firewall restart || cias_log "error: zs firewall restart failed"
else
  cias_log "zs not found: Zentyal modules not restarted"
fi
if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl reload nginx
fi
cias_log "cias gateway configuration cleaned"
