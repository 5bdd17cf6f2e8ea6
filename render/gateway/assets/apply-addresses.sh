#!/usr/bin/env bash
# Puts the gateway's external addresses on the WAN interface: Proxmox-management IP first (it is the
# primary address, so MASQUERADE uses it), then the NAS-management IP and the VM-management IPs, plus
# the default route. Zentyal's network module only knows the LAN address and rewrites the interfaces
# on every restart, so this runs from /etc/zentyal/hooks/network.postservice and after every change.
# Idempotent: adds what is missing, removes only addresses it added earlier that are no longer wanted.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

addresses_file="$CIAS_GATEWAY_ETC/addresses.conf"
state_file="$CIAS_STATE_DIR/gateway-addresses.applied"

# Fills the caller's `wanted` with CIDRs ordered proxmox, nas, vm-0 .. vm-250. Runs in this shell (not
# a subshell) so that a bad line stops the script instead of reading as "no addresses wanted".
load_wanted() {
  local role ip rest order
  local -a keyed=()
  [[ -r $addresses_file ]] || cias_die "cannot read $addresses_file"
  while read -r role ip rest; do
    [[ -z $role || $role == \#* ]] && continue
    [[ -z ${rest:-} ]] || cias_die "$addresses_file: trailing text after '$role $ip'"
    cias_is_ipv4 "${ip:-}" || cias_die "$addresses_file: '${ip:-}' is not an IPv4 address"
    case $role in
      proxmox) order=0 ;;
      nas) order=1 ;;
      vm-*)
        [[ ${role#vm-} =~ ^(0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|250)$ ]] || cias_die "$addresses_file: bad role '$role'"
        order=$((2 + ${role#vm-}))
        ;;
      *) cias_die "$addresses_file: unknown role '$role'" ;;
    esac
    keyed+=("$order $ip/$CIAS_GW_WAN_PREFIX")
  done <"$addresses_file"
  wanted=()
  ((${#keyed[@]} == 0)) || mapfile -t wanted < <(printf '%s\n' "${keyed[@]}" | sort -n -k1,1 | cut -d' ' -f2)
}

has_address() {
  local listing
  listing=$(ip -4 -o addr show dev "$1")
  [[ $listing == *" inet $2 "* ]]
}

apply() {
  local -a wanted=() previous=()
  local -A is_wanted=()
  local cidr dev=$CIAS_GW_WAN_IF
  load_wanted
  [[ -r $state_file ]] && mapfile -t previous <"$state_file"
  for cidr in "${wanted[@]}"; do
    [[ -z ${is_wanted[$cidr]:-} ]] || cias_die "$addresses_file lists ${cidr%/*} twice"
    is_wanted[$cidr]=1
  done

  ip link set dev "$CIAS_GW_LAN_IF" up
  [[ $CIAS_GW_WAN_IF == "$CIAS_GW_LAN_IF" ]] || ip link set dev "$dev" up
  has_address "$CIAS_GW_LAN_IF" "$CIAS_GW_LAN_ADDRESS" || ip -4 addr add "$CIAS_GW_LAN_ADDRESS" dev "$CIAS_GW_LAN_IF"

  # A new primary (Proxmox-management) address must come first again: drop all of ours and re-add.
  local -a drop=()
  if ((${#previous[@]} > 0)) && [[ ${previous[0]} != "${wanted[0]:-}" ]]; then
    drop=("${previous[@]}")
  else
    for cidr in "${previous[@]}"; do
      [[ -n ${is_wanted[$cidr]:-} ]] || drop+=("$cidr")
    done
  fi
  for cidr in "${drop[@]}"; do
    if has_address "$dev" "$cidr"; then
      ip -4 addr del "$cidr" dev "$dev"
      cias_log "removed $cidr from $dev"
    fi
  done
  for cidr in "${wanted[@]}"; do
    if ! has_address "$dev" "$cidr"; then
      ip -4 addr add "$cidr" dev "$dev"
      cias_log "added $cidr to $dev"
    fi
  done
  if [[ -n ${CIAS_GW_WAN_GATEWAY:-} ]]; then
    ip -4 route replace default via "$CIAS_GW_WAN_GATEWAY" dev "$dev"
  fi

  mkdir -p "$CIAS_STATE_DIR"
  if ((${#wanted[@]} > 0)); then printf '%s\n' "${wanted[@]}"; fi >"$state_file.tmp"
  mv -f "$state_file.tmp" "$state_file"
  cias_log "WAN addresses in place: ${#wanted[@]} on $dev"
}

cias_load_conf
cias_with_lock addresses apply
