#!/usr/bin/env bash
# Why `accept-mutex` gives ~25% of the connections to each of four workers (reference sweep:
# 8 connections in flight, 2 client threads, 8 to 64 workers): vary one thing at a time (the
# connections in flight, the client threads, the workers, --accept-mutex-delay, per-request
# work) and count, in each run, the workers that took more than 5% of the connections.
#
#   scripts/accept-mutex-share.sh [OUT_DIR] [REPEATS] [DURATION]
#   (defaults: results/accept-mutex-share, 3, 2s)
#
# Output: OUT_DIR/{runs,workers,latency}.csv (every run) and OUT_DIR/shares.txt (per case:
# the active workers of each repeat, the top share, Jain's index), also printed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need python3
build_herd
out=${1:-results/accept-mutex-share}
repeats=${2:-3}
duration=${3:-2s}
mkdir -p "$out"
rm -f "$out"/{runs,workers,latency}.csv
rm -rf "$out/hist"

# label|herd run flags (the base: 16 workers, 8 connections, 2 client threads)
cases=(
  "base: 16 workers, 8 conn, 2 client threads|"
  "2 conn in flight|--concurrency 2"
  "4 conn in flight|--concurrency 4"
  "16 conn in flight|--concurrency 16"
  "32 conn in flight|--concurrency 32"
  "1 client thread|--client-threads 1"
  "4 client threads|--client-threads 4"
  "8 client threads|--client-threads 8"
  "4 workers|--workers 4"
  "64 workers|--workers 64"
  "accept-mutex-delay 20ms|--accept-mutex-delay 20ms"
  "200 us work per request|--work-us 200"
)
for ((r = 1; r <= repeats; r++)); do
  for c in "${cases[@]}"; do
    flags=${c#*|}
    # shellcheck disable=SC2086 # the flags are words
    "$herd" run --strategy accept-mutex --workers 16 --concurrency 8 --client-threads 2 \
      --duration "$duration" --warmup 500ms --quiet --out "$out" $flags >/dev/null
    echo "${c%%|*}" >>"$work/labels"
  done
done

python3 - "$out" "$work/labels" "$repeats" <<'PY' | tee "$out/shares.txt"
import csv, sys
out, labels, repeats = sys.argv[1], open(sys.argv[2]).read().splitlines(), int(sys.argv[3])
runs = list(csv.DictReader(open(f"{out}/runs.csv")))
workers = list(csv.DictReader(open(f"{out}/workers.csv")))
cases = {}
for label, run in zip(labels, runs):
    shares = sorted((float(w["share"]) for w in workers if w["run_id"] == run["run_id"]), reverse=True)
    active = sum(s > 0.05 for s in shares)
    cases.setdefault(label, []).append((active, shares[0], float(run["jain_fairness"]),
                                        float(run["conn_per_s"])))
print(f"accept-mutex, {repeats} repeats per case; active = workers with more than 5% of the connections")
print(f"{'case':<44} {'active workers':<16} {'top share %':<20} {'Jain':<20} conn/s")
for label, rs in cases.items():
    act = ",".join(str(a) for a, _, _, _ in rs)
    top = ",".join(f"{t*100:.0f}" for _, t, _, _ in rs)
    jain = ",".join(f"{j:.3f}" for _, _, j, _ in rs)
    rate = ",".join(f"{c:.0f}" for _, _, _, c in rs)
    print(f"{label:<44} {act:<16} {top:<20} {jain:<20} {rate}")
PY
