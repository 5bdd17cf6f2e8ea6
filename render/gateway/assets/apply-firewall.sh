#!/usr/bin/env bash
# Loads the cias iptables chains (port forwards, LAN masquerading, SSH only from the master VIP) and
# links them in as the first rule of PREROUTING, POSTROUTING, INPUT and FORWARD. Zentyal flushes every
# table when its firewall (re)starts, so this runs from /etc/zentyal/hooks/firewall.postservice, after
# Zentyal's own rules are in place, and after every change of the rules file.
# Idempotent: declaring a chain in an iptables-restore --noflush file flushes it, jumps are added only
# when missing, and CIAS-* chains the file no longer declares are deleted.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

rules_file="$CIAS_GATEWAY_ETC/iptables-cias.rules"
jumps=(
  'nat PREROUTING CIAS-PREROUTING'
  'nat POSTROUTING CIAS-POSTROUTING'
  'filter INPUT CIAS-INPUT'
  'filter FORWARD CIAS-FORWARD'
)

# Prints "<table> <chain>" for every chain the rules file declares.
declared_chains() {
  awk '/^\*/ { table = substr($1, 2) } /^:CIAS-/ { print table, substr($1, 2) }' "$rules_file"
}

apply() {
  local table chain target line
  [[ -r $rules_file ]] || cias_die "cannot read $rules_file"
  iptables-restore -w --test --noflush <"$rules_file" || cias_die "$rules_file does not load; rules unchanged"
  iptables-restore -w --noflush <"$rules_file"

  for line in "${jumps[@]}"; do
    read -r table chain target <<<"$line"
    iptables -w -t "$table" -C "$chain" -j "$target" 2>/dev/null || iptables -w -t "$table" -I "$chain" 1 -j "$target"
  done

  local -A keep=()
  while read -r table chain; do keep["$table $chain"]=1; done < <(declared_chains)
  for table in nat filter; do
    while read -r chain; do
      [[ -n ${keep["$table $chain"]:-} ]] && continue
      iptables -w -t "$table" -F "$chain"
      iptables -w -t "$table" -X "$chain"
      cias_log "deleted stale chain $table/$chain"
    done < <(iptables -w -t "$table" -S | awk '$1 == "-N" && $2 ~ /^CIAS-/ { print $2 }')
  done

  # DNAT only reaches the VMs when the gateway routes.
  sysctl -qw net.ipv4.ip_forward=1
  cias_log "firewall rules loaded from $rules_file ($(grep -c -- '-j DNAT' "$rules_file") DNAT rules)"
}

cias_with_lock firewall apply
