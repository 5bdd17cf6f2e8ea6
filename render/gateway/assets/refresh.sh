#!/usr/bin/env bash
# Applies what the cias bundle installed on the gateway. Usage:
#   cias-gateway-refresh (-> refresh.sh) [all|addresses|firewall|dhcp|dns|nginx]...   (default: all)
# addresses/firewall run the hook scripts directly; dhcp and dns go through `zs <module> restart`, so
# Zentyal regenerates its files from the cias stub and hooks (REFERENCE §2.6); nginx is checked, then
# reloaded. Idempotent: every step converges to the installed files.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

refresh_nginx() {
  [[ -r $CIAS_NGINX_SITE ]] || { cias_log "no $CIAS_NGINX_SITE; nginx untouched"; return 0; }
  nginx -t -q || cias_die "nginx rejects its configuration; not reloaded"
  systemctl reload-or-restart nginx
}

steps=("$@")
((${#steps[@]} > 0)) || steps=(all)
for step in "${steps[@]}"; do
  case $step in
    all) set -- addresses firewall dhcp dns nginx ;;
    addresses | firewall | dhcp | dns | nginx) set -- "$step" ;;
    *) echo "usage: ${0##*/} [all|addresses|firewall|dhcp|dns|nginx]..." >&2; exit 2 ;;
  esac
  for part in "$@"; do
    case $part in
      addresses) "$CIAS_GATEWAY_LIB/apply-addresses.sh" ;;
      firewall) "$CIAS_GATEWAY_LIB/apply-firewall.sh" ;;
      dhcp) zs dhcp restart ;;
      dns) zs dns restart ;;
      nginx) refresh_nginx ;;
    esac
    cias_log "refreshed $part"
  done
done
