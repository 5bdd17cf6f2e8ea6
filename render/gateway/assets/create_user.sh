#!/usr/bin/env bash
# SPEC §6: creates (or updates) a Zentyal administrator. Zentyal's web UI authenticates through PAM
# and admits members of the admin group (CIAS_GW_ADMIN_GROUP, `sudo` on Zentyal).
# Usage: create_user.sh <user> [--password-file <file>]
# The password is the first line of the file, or of standard input without --password-file; it never
# appears on a command line (chpasswd reads it from a pipe fed by the printf builtin).
# Idempotent: an existing user keeps its account and gets the group and the given password.
set -euo pipefail
# shellcheck source=common.sh
source "${CIAS_GATEWAY_LIB:-/usr/local/lib/cias/gateway}/common.sh"

usage() {
  echo "usage: ${0##*/} <user> [--password-file <file>]   (password on stdin without --password-file)" >&2
  exit 2
}

(($# == 1 || $# == 3)) || usage
user=$1
password_source=/dev/stdin
if (($# == 3)); then
  [[ $2 == --password-file ]] || usage
  password_source=$3
  [[ -r $password_source ]] || cias_die "cannot read $password_source"
fi
[[ $user =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || cias_die "'$user' is not a valid user name"
[[ $user != root ]] || cias_die "refusing to manage root"
cias_load_conf
group=${CIAS_GW_ADMIN_GROUP:-sudo}

password=
IFS= read -r password <"$password_source" || [[ -n $password ]] || cias_die "no password given"
password=${password%$'\r'}
((${#password} >= 6)) || cias_die "the password must have at least 6 characters (Zentyal's rule)"

getent group "$group" >/dev/null || cias_die "group $group does not exist"
if id -u "$user" >/dev/null 2>&1; then
  cias_log "user $user exists"
else
  useradd --create-home --shell /bin/bash "$user"
  cias_log "created user $user"
fi
member_of=" $(id -nG "$user") "
if [[ $member_of != *" $group "* ]]; then
  usermod -a -G "$group" "$user"
  cias_log "added $user to $group"
fi
printf '%s:%s\n' "$user" "$password" | chpasswd
cias_log "password of $user set; $user can log in to the Zentyal web UI"
