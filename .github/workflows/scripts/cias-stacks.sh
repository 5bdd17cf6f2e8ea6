#!/usr/bin/env bash
# CI glue of the cias workflows (plan.yml, deploy.yml): plan every synthesized stack, apply the saved
# plans in order, remove the plan files.
#
# Usage: cias-stacks.sh plan <out-dir> [--no-lock]
#        cias-stacks.sh apply
#        cias-stacks.sh clean <out-dir>
#
# plan   For every stack under $CIAS_STACKS_DIR (default cdktf.out/stacks), in apply order (hosts,
#        gateway, vms-e<E> by E, the rest by name): terraform init, plan -out=tfplan, show -json.
#        Writes <out-dir>/<stack>.json for `cias plan-summary`, or <out-dir>/<stack>.failed.txt with
#        the output of a stack whose plan failed; <stack>.log keeps the full output. It exits 0 when
#        stacks failed (so the summary can report them) and lists them in <out-dir>/failed-stacks and,
#        under GitHub Actions, in the step outputs `failed` (space-separated) and `changes` (true when
#        any plan changes something). --no-lock plans without taking the state lock (pull requests,
#        which never apply). The saved plan stays in each stack directory as tfplan.
#        A stack whose state is a local file is refused unless CIAS_ALLOW_LOCAL_STATE=true: on a runner
#        that does not keep its disk the state would be empty, and the plan would create everything again.
# apply  terraform apply of every stack's saved tfplan, in the same order, stopping at the first
#        failure (later stacks need earlier ones: VMs need the cluster).
# clean  Removes <out-dir> and the tfplan files. Plans hold secret values in clear text.
#
# Logs go to stdout/stderr, which is the workflow log; a CI runner has no syslog to speak of.
set -euo pipefail
shopt -s nullglob

stacks_root=${CIAS_STACKS_DIR:-cdktf.out/stacks}
readonly plan_file=tfplan

die() {
  echo "cias-stacks: $*" >&2
  exit 2
}

# Stack names in apply order, one per line.
ordered_stacks() {
  local dir name rank
  for dir in "$stacks_root"/*/; do
    [[ -f "$dir/cdk.tf.json" ]] || continue
    name=$(basename "$dir")
    case "$name" in
      hosts) rank="0 0" ;;
      gateway) rank="1 0" ;;
      vms-e*)
        if [[ "${name#vms-e}" =~ ^[0-9]+$ ]]; then rank="2 ${name#vms-e}"; else rank="3 0"; fi
        ;;
      *) rank="3 0" ;;
    esac
    printf '%s %s\n' "$rank" "$name"
  done | sort -k1,1n -k2,2n -k3,3 | cut -d' ' -f3
}

# True when the stack keeps its state in a local file (a local backend, or none configured).
uses_local_state() {
  node -e '
    const config = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const backend = (config.terraform || {}).backend;
    process.exit(!backend || backend.local ? 0 : 1);
  ' "$1"
}

set_output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

# Plans one stack. Returns 0 (no changes), 2 (changes) or 1 (failed; <stack>.failed.txt written).
plan_stack() {
  local stack=$1 out=$2 dir="$stacks_root/$1" log="$2/$1.log" status=0
  local -a lock=()
  if [[ "$no_lock" == 1 ]]; then lock=(-lock=false); fi
  : >"$log"
  if uses_local_state "$dir/cdk.tf.json" && [[ "${CIAS_ALLOW_LOCAL_STATE:-false}" != true ]]; then
    echo "stack $stack keeps its state in a local file, which this runner does not keep: set state.backend in cluster.yaml (s3, pg or http), or set CIAS_ALLOW_LOCAL_STATE=true on a self-hosted runner whose state directory persists." >"$log"
    cp "$log" "$out/$stack.failed.txt"
    return 1
  fi
  if ! terraform -chdir="$dir" init -input=false -no-color >>"$log" 2>&1; then
    cp "$log" "$out/$stack.failed.txt"
    return 1
  fi
  terraform -chdir="$dir" plan -input=false -no-color -detailed-exitcode "${lock[@]}" -out="$plan_file" >>"$log" 2>&1 || status=$?
  if [[ "$status" != 0 && "$status" != 2 ]]; then
    rm -f "$dir/$plan_file"
    cp "$log" "$out/$stack.failed.txt"
    return 1
  fi
  if ! terraform -chdir="$dir" show -json "$plan_file" >"$out/$stack.json" 2>>"$log"; then
    rm -f "$out/$stack.json"
    cp "$log" "$out/$stack.failed.txt"
    return 1
  fi
  return "$status"
}

plan_all() {
  local out=$1 stack status changes=false
  local -a stacks failed=()
  mapfile -t stacks < <(ordered_stacks)
  ((${#stacks[@]} > 0)) || die "no stacks under $stacks_root (run npx cdktf synth first)"
  rm -rf "$out"
  mkdir -p "$out"
  for stack in "${stacks[@]}"; do
    echo "::group::terraform plan $stack"
    status=0
    plan_stack "$stack" "$out" || status=$?
    cat "$out/$stack.log"
    echo "::endgroup::"
    case "$status" in
      0) echo "cias-stacks: $stack: no changes" ;;
      2) echo "cias-stacks: $stack: changes planned"; changes=true ;;
      *) echo "::error::terraform plan failed for stack $stack"; failed+=("$stack") ;;
    esac
  done
  if ((${#failed[@]} > 0)); then printf '%s\n' "${failed[@]}" >"$out/failed-stacks"; else : >"$out/failed-stacks"; fi
  set_output failed "${failed[*]}"
  set_output changes "$changes"
  echo "cias-stacks: planned ${#stacks[@]} stack(s); changes: $changes; failed: ${failed[*]:-none}"
}

apply_all() {
  local stack
  local -a stacks
  mapfile -t stacks < <(ordered_stacks)
  ((${#stacks[@]} > 0)) || die "no stacks under $stacks_root"
  for stack in "${stacks[@]}"; do
    [[ -f "$stacks_root/$stack/$plan_file" ]] || die "stack $stack has no saved plan; run plan first"
  done
  for stack in "${stacks[@]}"; do
    echo "::group::terraform apply $stack"
    if ! terraform -chdir="$stacks_root/$stack" apply -input=false -no-color "$plan_file"; then
      echo "::endgroup::"
      echo "::error::terraform apply failed for stack $stack; later stacks were not applied"
      return 1
    fi
    echo "::endgroup::"
  done
}

clean_all() {
  local dir
  rm -rf "$1"
  for dir in "$stacks_root"/*/; do rm -f "$dir/$plan_file"; done
}

command=${1:-}
case "$command" in
  plan)
    [[ $# -ge 2 && $# -le 3 ]] || die "usage: cias-stacks.sh plan <out-dir> [--no-lock]"
    no_lock=0
    if [[ $# == 3 ]]; then
      [[ "$3" == --no-lock ]] || die "unknown option $3"
      no_lock=1
    fi
    plan_all "$2"
    ;;
  apply)
    [[ $# == 1 ]] || die "usage: cias-stacks.sh apply"
    apply_all
    ;;
  clean)
    [[ $# == 2 ]] || die "usage: cias-stacks.sh clean <out-dir>"
    clean_all "$2"
    ;;
  *) die "usage: cias-stacks.sh plan <out-dir> [--no-lock] | apply | clean <out-dir>" ;;
esac
