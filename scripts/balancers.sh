#!/usr/bin/env bash
# Issue 14's reference results: the balancers production servers use (the hand-off acceptor of
# Node, Envoy and HAProxy; an eBPF SO_REUSEPORT program) beside the kernel-side strategies.
#
#   scripts/balancers.sh            writes results/balancers/ (about 8 min on 2 cores):
#     long-lived/  event model, CONNS connections (default 256) open for the whole run, each
#                  sending a request every INTERVAL (default 100ms): how evenly each strategy
#                  spreads the open connections over 4 and 16 event workers
#     hop/         sync model, short connections, a closed loop of HOP_CONC (default 8) in
#                  flight: what the hand-off's extra hop costs (conn/s, CPU per connection,
#                  p99) against blocking and reuseport
#     each with runs.csv, workers.csv, latency.csv, meta.json, sweep.log, report.md and
#     charts/; summary.md (the tables of results/balancers/README.md) from
#     scripts/lib/balancers_table.py
#   TINY=1 scripts/balancers.sh     a small matrix into target/balancers-tiny/
#
# REPEAT (3), DURATION (3s), WARMUP (1s), WORKERS (4,16) and OUT change the matrix and the
# directory. `reuseport-ebpf` needs root (or CAP_BPF and CAP_NET_ADMIN). Run it on a quiet
# machine (wrap it in the machine's measurement lock where there is one).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need python3

if [ -n "${TINY:-}" ]; then
    : "${OUT:=target/balancers-tiny}" "${WORKERS:=4}" "${REPEAT:=1}" "${DURATION:=1s}"
    : "${WARMUP:=200ms}"
fi
OUT=${OUT:-results/balancers}
WORKERS=${WORKERS:-4,16}
CONNS=${CONNS:-256}
INTERVAL=${INTERVAL:-100ms}
HOP_CONC=${HOP_CONC:-8}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-3s}
WARMUP=${WARMUP:-1s}
LONG=handoff-rr,handoff-least,handoff-p2c,reuseport-ebpf,reuseport,epoll-exclusive-rotate
HOP=blocking,reuseport,handoff-rr,handoff-least,handoff-p2c,reuseport-ebpf

build_herd
rm -rf "$OUT/long-lived" "$OUT/hop"
mkdir -p "$OUT"
common=(--workers "$WORKERS" --repeat "$REPEAT" --duration "$DURATION" --warmup "$WARMUP" --quiet)

# sweep DIR STRATEGIES FLAGS...: one sweep, its log kept beside its rows.
sweep() {
    local dir=$1 strategies=$2
    shift 2
    mkdir -p "$dir"
    "$herd" sweep "${common[@]}" --strategies "$strategies" "$@" --out "$dir" 2>&1 |
        tee -a "$dir/sweep.log" >&2
}

echo "balancers: $CONNS long-lived connections, event model" >&2
ll=(--worker-model event --concurrency "$CONNS" --long-lived "$INTERVAL")
sweep "$OUT/long-lived" "$LONG" "${ll[@]}"
sweep "$OUT/long-lived" reuseport-ebpf "${ll[@]}" --ebpf-policy least
echo "balancers: short connections, sync model, $HOP_CONC in flight" >&2
sweep "$OUT/hop" "$HOP" --concurrency "$HOP_CONC"
sweep "$OUT/hop" reuseport-ebpf --concurrency "$HOP_CONC" --ebpf-policy least

for load in long-lived hop; do
    for w in ${WORKERS//,/ }; do
        "$herd" plot "$OUT/$load" --at-workers "$w" --out "$OUT/$load/charts" >/dev/null
    done
    "$herd" report "$OUT/$load" >"$OUT/$load/report.md"
done
# Kept: for long-lived connections the per-worker shares of open connections and the latency
# CDFs; for the hop the throughput, CPU, context-switch and p99 lines and the CDFs. report.md
# has every other figure.
find "$OUT/long-lived/charts" -type f ! -name 'share-open-*' ! -name 'latency_cdf-*' -delete
find "$OUT/hop/charts" -type f ! -name 'conn_per_s.*' ! -name 'cpu_us_per_conn.*' \
    ! -name 'ctx_switches_per_accept.*' ! -name 'latency_p99.*' ! -name 'latency_cdf-*' -delete
python3 scripts/lib/balancers_table.py "$OUT" >"$OUT/summary.md"
cat "$OUT/summary.md"
