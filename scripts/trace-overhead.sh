#!/usr/bin/env bash
# What --trace costs: the same run with and without it, alternating, on the same machine.
#
#   scripts/trace-overhead.sh [ROUNDS] [DURATION] [STRATEGY] [MODE] [OUT_DIR]
#   (defaults: 4 rounds, 2s, blocking, process, results/trace-overhead; 4 workers,
#   CONC=16 connections in flight)
#
# Output: OUT_DIR/trace-overhead.txt (also printed): the medians of conn/s and of the workers'
# CPU per connection, off and on, and the ratio on/off; OUT_DIR/{runs,workers,latency}.csv:
# the rows of every run, off and on alternating (OUT_DIR's earlier rows are replaced).
set -euo pipefail
rounds=${1:-4}
dur=${2:-2s}
strategy=${3:-blocking}
mode=${4:-process}
conc=${CONC:-16}
out_arg=${5:-results/trace-overhead}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
build_herd
out="$out_arg"
mkdir -p "$out"
rm -rf "$out"/{runs,workers,latency}.csv "$out/hist"
trace="$work/trace.csv"
for _ in $(seq "$rounds"); do
  for t in off on; do
    extra=()
    [ "$t" = on ] && extra=(--trace "$trace")
    "$herd" run --strategy "$strategy" --mode "$mode" --workers 4 --concurrency "$conc" \
      --duration "$dur" --warmup 300ms --out "$out" "${extra[@]}" >/dev/null
  done
done
{
echo "# scripts/trace-overhead.sh $rounds $dur $strategy $mode (CONC=$conc), $(date -u +%FT%TZ); $(uname -r), $(nproc) CPUs, load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
{ head -1 "$out/runs.csv"; tail -n $(( rounds * 2 )) "$out/runs.csv"; } | awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{ t = ((NR - 2) % 2) ? "on" : "off"; n[t]++; c[t, n[t]] = $col["conn_per_s"]; u[t, n[t]] = $col["cpu_us_per_conn"] }
function med(a, t,    k, i, j, x, v) {
  k = n[t]; for (i = 1; i <= k; i++) v[i] = a[t, i]
  for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
  return (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
END {
  printf "%-22s %10s %10s %8s\n", "figure (median)", "off", "on", "on/off"
  printf "%-22s %10.0f %10.0f %8.3f\n", "conn_per_s", med(c, "off"), med(c, "on"), med(c, "on") / med(c, "off")
  printf "%-22s %10.2f %10.2f %8.3f\n", "cpu_us_per_conn", med(u, "off"), med(u, "on"), med(u, "on") / med(u, "off")
}'
} | tee "$out/trace-overhead.txt"
