#!/usr/bin/env bash
# The event model's reference results: how connections and requests spread over event-loop
# workers (issue 13), for the strategies event-loop servers use (epoll-shared is Node's
# cluster with SCHED_NONE and a shared listener in asyncio loops), at 4 and 16 workers, under a
# moderate load of short connections and of long-lived ones.
#
#   scripts/event-shape.sh            writes results/event-shape/ (about 10 min on 2 cores):
#                                     short/ and long-lived/ (runs.csv, workers.csv,
#                                     latency.csv, meta.json, sweep.log, report.md),
#                                     charts/ (README.md there is written by hand)
#   TINY=1 scripts/event-shape.sh     a 2 x 1 x 1 matrix into target/event-shape-tiny/
#
# Short connections: an open loop of RATE new connections per second (default 2000), one
# request each. Long-lived: CONNS connections (default 256) open for the whole run, each
# sending a request every INTERVAL (default 100ms). Both in the event model, REPEAT repeats
# (default 3) of DURATION (default 3s) after a 1 s warmup. STRATEGIES, WORKERS, OUT change the
# matrix and the directory. Run it on a quiet machine (wrap it in the machine's measurement
# lock where there is one).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

if [ -n "${TINY:-}" ]; then
    : "${OUT:=target/event-shape-tiny}" "${STRATEGIES:=epoll-exclusive,reuseport}" "${WORKERS:=4}"
    : "${REPEAT:=1}" "${DURATION:=1s}" "${WARMUP:=200ms}"
fi
OUT=${OUT:-results/event-shape}
STRATEGIES=${STRATEGIES:-epoll-shared,epoll-exclusive,epoll-exclusive-rotate,reuseport,accept-mutex}
WORKERS=${WORKERS:-4,16}
RATE=${RATE:-2000}
CONNS=${CONNS:-256}
INTERVAL=${INTERVAL:-100ms}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-3s}
WARMUP=${WARMUP:-1s}

build_herd
rm -rf "$OUT/short" "$OUT/long-lived" "$OUT/charts"
mkdir -p "$OUT/charts"
common=(--strategies "$STRATEGIES" --workers "$WORKERS" --worker-model event
    --repeat "$REPEAT" --duration "$DURATION" --warmup "$WARMUP" --quiet)

echo "event-shape: short connections, open loop $RATE conn/s" >&2
"$herd" sweep "${common[@]}" --rate "$RATE" --out "$OUT/short" 2>&1 | tee "$OUT/short.log" >&2
mv "$OUT/short.log" "$OUT/short/sweep.log"
echo "event-shape: $CONNS long-lived connections, a request every $INTERVAL each" >&2
"$herd" sweep "${common[@]}" --concurrency "$CONNS" --long-lived "$INTERVAL" \
    --out "$OUT/long-lived" 2>&1 | tee "$OUT/long-lived.log" >&2
mv "$OUT/long-lived.log" "$OUT/long-lived/sweep.log"

for load in short long-lived; do
    for w in ${WORKERS//,/ }; do
        "$herd" plot "$OUT/$load" --at-workers "$w" --out "$OUT/charts/$load" >/dev/null
    done
    # Only the per-worker share charts are kept: against two worker counts the other charts say
    # little, and report.md has their figures.
    find "$OUT/charts/$load" -type f ! -name 'share*' -delete
    "$herd" report "$OUT/$load" >"$OUT/$load/report.md"
done
echo "event-shape: done; see $OUT/charts/ and $OUT/*/report.md" >&2
