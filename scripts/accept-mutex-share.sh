#!/usr/bin/env bash
# Why `accept-mutex` gives ~25% of the connections to each of four workers (reference sweep:
# 8 connections in flight, 2 client threads, 8 to 64 workers, 2 s runs): vary one thing at a
# time (the connections in flight, the client threads, the workers, the run's length,
# --accept-mutex-delay, per-request work) and count, in each run, the workers that took more
# than 5% of the connections; then trace one run (--trace) and list who held the lock when.
#
#   scripts/accept-mutex-share.sh [OUT_DIR] [REPEATS] [DURATION]
#   (defaults: results/accept-mutex-share, 3, 2s)
#
# Output: OUT_DIR/{runs,workers,latency}.csv (every run), OUT_DIR/shares.txt (per case: the
# active workers of each repeat, the top share, Jain's index) and OUT_DIR/turns.txt (the traced
# run: each stretch of 10 ms or more in which one worker accepted every connection), printed.
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

# label|workers|connections in flight|client threads|measured|other herd run flags
cases=(
  "base: 16 workers, 8 conn, 2 client threads|16|8|2|$duration|"
  "2 conn in flight|16|2|2|$duration|"
  "4 conn in flight|16|4|2|$duration|"
  "16 conn in flight|16|16|2|$duration|"
  "32 conn in flight|16|32|2|$duration|"
  "1 client thread|16|8|1|$duration|"
  "4 client threads|16|8|4|$duration|"
  "8 client threads|16|8|8|$duration|"
  "4 workers|4|8|2|$duration|"
  "64 workers|64|8|2|$duration|"
  "200 us work per request|16|8|2|$duration|--work-us 200"
  "measured 1s|16|8|2|1s|"
  "measured 4s|16|8|2|4s|"
  "accept-mutex-delay 250ms|16|8|2|$duration|--accept-mutex-delay 250ms"
  "accept-mutex-delay 20ms|16|8|2|$duration|--accept-mutex-delay 20ms"
)
for ((r = 1; r <= repeats; r++)); do
  for c in "${cases[@]}"; do
    IFS='|' read -r label w conc threads dur extra <<<"$c"
    # shellcheck disable=SC2086 # the extra flags are words
    "$herd" run --strategy accept-mutex --workers "$w" --concurrency "$conc" \
      --client-threads "$threads" --duration "$dur" --warmup 500ms --quiet --out "$out" \
      $extra >/dev/null
    echo "$label" >>"$work/labels"
  done
done
# The base case once more, traced: who accepted each connection, when.
"$herd" run --strategy accept-mutex --workers 16 --concurrency 8 --client-threads 2 \
  --duration "$duration" --warmup 0s --quiet --trace "$work/trace.csv" >/dev/null

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
python3 - "$work/trace.csv" "$duration" <<'PY' | tee "$out/turns.txt"
import csv, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["accept_ns"]))
t0 = int(rows[0]["accept_ns"])
turns, cur = [], None
for r in rows:
    w, t = r["worker"], (int(r["accept_ns"]) - t0) / 1e6
    if cur and cur[0] == w:
        cur[2], cur[3] = t, cur[3] + 1
    else:
        if cur:
            turns.append(cur)
        cur = [w, t, t, 1]
turns.append(cur)
long = [x for x in turns if x[2] - x[1] >= 10]
print(f"traced run (base case, measured {sys.argv[2]}, no warmup): {len(rows)} connections, "
      f"{len(turns)} runs of consecutive accepts by one worker, {len(long)} of them 10 ms or "
      f"longer, holding {sum(x[3] for x in long) / len(rows) * 100:.1f}% of the connections:")
print(f"{'worker':>6} {'from ms':>9} {'to ms':>9} {'connections':>12}")
for w, a, b, n in long:
    print(f"{w:>6} {a:>9.1f} {b:>9.1f} {n:>12}")
PY
