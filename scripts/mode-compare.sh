#!/usr/bin/env bash
# Process vs thread mode, same strategy, same load, alternating, on the same machine.
#
#   scripts/mode-compare.sh [ROUNDS] [DURATION] [WORKERS] [STRATEGIES...]
#   (defaults: 3 rounds, 2s, 16 workers, epoll-shared blocking; CONC=4 connections in flight)
#
# Few connections in flight and many workers, so most workers are idle and a herd can show.
# Each round runs every strategy in process then thread mode, so drift hits both alike. Prints
# the median of each figure per strategy and mode and the ratio thread/process.
# Output: results/mode-compare/mode-compare.txt (README.md there is written by hand); the raw
# rows are appended to target/mode-compare/runs.csv (not committed).
set -euo pipefail
rounds=${1:-3}
dur=${2:-2s}
workers=${3:-16}
shift $(( $# < 3 ? $# : 3 ))
strategies=("$@")
[ ${#strategies[@]} -gt 0 ] || strategies=(epoll-shared blocking)
conc=${CONC:-4}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
build_herd
out="$here/target/mode-compare"
summary="$here/results/mode-compare/mode-compare.txt"
mkdir -p "$out" "$(dirname "$summary")"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$rounds"); do
  for s in "${strategies[@]}"; do
    for m in process thread; do
      "$herd" run --strategy "$s" --mode "$m" --workers "$workers" --concurrency "$conc" \
        --duration "$dur" --warmup 300ms --out "$out" >/dev/null
      echo "round $r: $s $m done" >&2
    done
  done
done
# Medians of this invocation's rows (the last rounds * strategies * 2 rows of runs.csv).
n=$(( rounds * ${#strategies[@]} * 2 ))
{
echo "# scripts/mode-compare.sh $rounds $dur $workers ${strategies[*]} (CONC=$conc), $(date -u +%FT%TZ)"
echo "# $(uname -r), $(nproc) CPUs, load average before/after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# the machine is shared with other builds and tests: compare the ratios, not the absolutes"
{ head -1 "$out/runs.csv"; tail -n "$n" "$out/runs.csv"; } | awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
  k = $col["strategy"] SUBSEP $col["mode"]; keys[$col["strategy"]] = 1
  split("conn_per_s wakeups_per_accept spurious_per_accept ctx_switches_per_accept cpu_us_per_conn latency_p99_us", f, " ")
  for (j in f) { m = f[j]; cnt[k, m]++; v[k, m, cnt[k, m]] = $col[m] }
}
function median(k, m,    n, i, j, t, a) {
  n = cnt[k, m]; for (i = 1; i <= n; i++) a[i] = v[k, m, i]
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  split("conn_per_s wakeups_per_accept spurious_per_accept ctx_switches_per_accept cpu_us_per_conn latency_p99_us", f, " ")
  printf "%-14s %-26s %12s %12s %8s\n", "strategy", "figure (median)", "process", "thread", "t/p"
  for (s in keys) for (j = 1; j <= 6; j++) {
    p = median(s SUBSEP "process", f[j]); t = median(s SUBSEP "thread", f[j])
    printf "%-14s %-26s %12.3f %12.3f %8.2f\n", s, f[j], p, t, (p > 0 ? t / p : 0)
  }
}'
} | tee "$summary"
