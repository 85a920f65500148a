#!/usr/bin/env bash
# Measure `herd series` collection methods as the worker count grows, and draw the chart.
#
#   scripts/series-sweep.sh [ROUNDS] [OUT_DIR]     (defaults: 3, results/series)
#
# For N in 16..1024, each method collects (a) N terms from N worker processes, one per term
# (each term is computed in microseconds, so results are ready almost as fast as the master
# forks), and (b) 2N terms from a pool of N workers that take indices from the master, each
# term sleeping a pseudo-random 0-40 ms (--sleep-us 20000: an I/O-bound sub-task, so results
# arrive spread out and the master can block between them). Methods run in
# a shuffled order each round (the machine is shared; compare methods by ratios within a
# round, not absolute times).
# Output (OUT_DIR, default results/series; README.md there is written by hand): rows appended to
# series.csv; the chart series.png and .svg; meta.txt (kernel, CPUs, herd revision, date). If
# strace is installed, the master's syscalls are also counted by the kernel side (strace -c,
# master only, no -f) for N=256 into strace-METHOD.txt, as a cross-check of herd's own counters.
# 1024 workers need ~1030 descriptors (2050 in a pool): ulimit -n must allow it (20000 here).
set -euo pipefail
ROUNDS=${1:-3}
OUT=${2:-results/series}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need shuf
build_herd
HERD=$herd
mkdir -p "$OUT"
ulimit -n 20000 2>/dev/null || true
METHODS=(sequential select poll epoll)
for round in $(seq 1 "$ROUNDS"); do
  for n in 16 32 64 128 256 512 1024; do
    for m in $(printf '%s\n' "${METHODS[@]}" | shuf); do
      "$HERD" series --collect "$m" --x 1 --terms "$n" --out "$OUT" >/dev/null
      "$HERD" series --collect "$m" --x 1 --terms $((2 * n)) --workers "$n" --sleep-us 20000 \
        --out "$OUT" >/dev/null
    done
  done
  echo "round $round done"
done
if command -v strace >/dev/null; then
  for m in "${METHODS[@]}"; do
    strace -c -o "$OUT/strace-$m.txt" "$HERD" series --collect "$m" --x 1 --terms 256 >/dev/null
  done
else
  echo "series-sweep: strace not found ($(install_hint strace)): no strace-METHOD.txt" >&2
fi
{
  echo "kernel $(uname -r), $(nproc) cpus, herd $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "rounds $ROUNDS, $(date -u +%FT%TZ)"
} > "$OUT/meta.txt"
"$HERD" series --plot "$OUT"
