#!/usr/bin/env bash
# Regenerate the reference results: a sweep of every strategy over worker counts, its charts,
# its Markdown table and the kernel cross-check of herd's counters.
#
#   scripts/reference-sweep.sh            writes results/reference/ (about 15 min on 2 cores):
#                                         runs.csv, workers.csv, latency.csv, meta.json,
#                                         sweep.log, report.md, charts/, crosscheck/ (README.md
#                                         there is written by hand)
#   TINY=1 scripts/reference-sweep.sh     a 2 x 2 x 1 matrix into target/reference-tiny/ (~1 min
#                                         after the build), to check that the pipeline works
#
# Run it on a quiet machine: every figure is a ratio within one run, but throughput and latency
# still move with other load. The matrix can be changed with STRATEGIES, WORKERS, CONCURRENCY,
# REPEAT, DURATION, WARMUP; OUT sets the directory; RESUME=1 finishes an interrupted sweep
# instead of starting again; CROSSCHECK=0 skips the bpftrace cross-check (it needs root).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

if [ -n "${TINY:-}" ]; then
    : "${OUT:=target/reference-tiny}" "${STRATEGIES:=blocking,epoll-shared}" "${WORKERS:=1,4}"
    : "${REPEAT:=1}" "${DURATION:=300ms}" "${WARMUP:=0s}"
    : "${CROSSCHECK_STRATEGIES:=blocking epoll-shared}" "${CROSSCHECK_DURATION:=500ms}"
fi
OUT=${OUT:-results/reference}
STRATEGIES=${STRATEGIES:-all}
WORKERS=${WORKERS:-1,2,4,8,16,32,64}
CONCURRENCY=${CONCURRENCY:-8}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-2s}
WARMUP=${WARMUP:-500ms}
CROSSCHECK=${CROSSCHECK:-1}

build_herd
HERD=$herd

mkdir -p "$OUT"
if [ -n "${RESUME:-}" ]; then
    resume=(--resume)
else
    resume=()
    rm -rf "$OUT"/runs.csv "$OUT"/workers.csv "$OUT"/latency.csv "$OUT"/meta.json \
        "$OUT"/sweep.log "$OUT"/report.md "$OUT"/charts "$OUT"/crosscheck
fi

echo "reference-sweep: strategies $STRATEGIES, workers $WORKERS, closed loop $CONCURRENCY connections," \
    "$REPEAT repeats of $DURATION (+ $WARMUP warmup) into $OUT" >&2
"$HERD" sweep --strategies "$STRATEGIES" --workers "$WORKERS" --concurrency "$CONCURRENCY" \
    --repeat "$REPEAT" --duration "$DURATION" --warmup "$WARMUP" --out "$OUT" "${resume[@]}" \
    2>&1 | tee -a "$OUT/sweep.log"

"$HERD" plot "$OUT" --out "$OUT/charts"
"$HERD" report "$OUT" >"$OUT/report.md"

if [ "$CROSSCHECK" = 1 ]; then
    if [ "$(id -u)" = 0 ] && command -v bpftrace >/dev/null; then
        STRATEGIES="${CROSSCHECK_STRATEGIES:-blocking sysv-sem epoll-shared epoll-exclusive reuseport}" \
            DURATION="${CROSSCHECK_DURATION:-3s}" HERD="$HERD" \
            scripts/kernel-crosscheck.sh "$OUT/crosscheck"
    else
        echo "reference-sweep: kernel cross-check skipped: it needs root and bpftrace" \
            "($(install_hint bpftrace))" >&2
    fi
fi
echo "reference-sweep: done; see $OUT/report.md and $OUT/charts/" >&2
