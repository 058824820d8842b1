#!/usr/bin/env bash
# Runs a command in a fresh child memory cgroup (v1 or v2) with a hard limit that also
# charges page cache, then prints one JSON line to stderr: limit, exact peak usage
# (resident + page cache), OOM kills and exit code. Needs root (creates the cgroup).
#   bench/cgroup_run.sh [--drop-caches] LIMIT_BYTES CMD [ARGS...]
set -euo pipefail
drop=0
if [[ "${1:-}" == "--drop-caches" ]]; then drop=1; shift; fi
limit=$1
shift
v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
if [[ -n "$v1" ]]; then
  parent=$v1$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup)
  cg=$parent/omnicoder-bench.$$
  mkdir "$cg"
  echo "$limit" > "$cg/memory.limit_in_bytes"
  peak_file=memory.max_usage_in_bytes
else
  v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
  cg=$v2$(awk -F: '$1 == "0" {print $3; exit}' /proc/self/cgroup)/omnicoder-bench.$$
  mkdir "$cg"
  echo "$limit" > "$cg/memory.max"
  echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
  peak_file=memory.peak
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
if [[ $drop == 1 ]]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
rc=0
bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' cgroup_run "$cg" "$@" || rc=$?
peak=$(cat "$cg/$peak_file")
ooms=$( (cat "$cg/memory.oom_control" "$cg/memory.events" 2>/dev/null || true) | awk '$1 == "oom_kill" {print $2; exit}')
echo "{\"limit\": $limit, \"peak\": $peak, \"oom_kills\": ${ooms:-0}, \"rc\": $rc}" >&2
exit $rc
