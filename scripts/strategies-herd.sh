#!/usr/bin/env bash
# The herd of every accept strategy at 16 workers: one short `herd run` each, then per
# strategy the wakeups, spurious wakeups and kernel context switches per accepted connection,
# and the fairness, from the run's own CSV row (ratios within one run).
# Usage: scripts/strategies-herd.sh [WORKERS] [DURATION] [CONCURRENCY] [OUT_DIR]
# Output (OUT_DIR, default results/strategies-herd; README.md there is written by hand):
# runs.csv, workers.csv, latency.csv (replaced), cases.txt (the case of each row of runs.csv)
# and strategies-herd.txt (the table, also printed).
# A low CONCURRENCY leaves most workers idle, which is when a herd is largest.
# The machine may be shared: quote the figures with that caveat, or rerun on a quiet machine.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need python3
workers=${1:-16}
duration=${2:-2s}
concurrency=${3:-32}
out=${4:-results/strategies-herd}
build_herd
mkdir -p "$out"
rm -f "$out/runs.csv" "$out/workers.csv" "$out/latency.csv" "$out/cases.txt"
cases="blocking sysv-sem pthread-mutex fcntl flock posix-sem accept-mutex epoll-shared
epoll-shared:--multi-accept epoll-exclusive epoll-exclusive-rotate epoll-et poll select
reuseport reuseport:--incoming-cpu reuseport-cbpf io-uring"
listing=$("$herd" strategies)
for c in $cases; do
    s=${c%%:*}
    flags=""
    [ "$s" != "$c" ] && flags=${c#*:}
    if grep -q "^$s .*UNSUPPORTED" <<<"$listing"; then
        echo "skipped $s: unsupported here" >&2
        continue
    fi
    # shellcheck disable=SC2086
    "$herd" run --strategy "$s" $flags --workers "$workers" --concurrency "$concurrency" \
        --duration "$duration" --warmup 500ms --out "$out" >/dev/null
    echo "$s $flags" >>"$out/cases.txt"
done
{
echo "# scripts/strategies-herd.sh $workers $duration $concurrency  ($workers workers," \
    "$concurrency connections in flight; $(uname -r), $(nproc) CPUs, $(date -u +%FT%TZ);" \
    "rows in $out/)"
python3 - "$out/runs.csv" "$out/cases.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cases = [l.strip() for l in open(sys.argv[2])]
print(f"{'strategy':<30}{'conn/s':>9}{'wake/acc':>9}{'spur/acc':>9}{'ctx/acc':>9}{'jain':>7}{'max%':>7}{'p99us':>8}")
for case, r in zip(cases, rows):
    print(f"{case:<30}{float(r['conn_per_s']):>9.0f}{float(r['wakeups_per_accept']):>9.3f}"
          f"{float(r['spurious_per_accept']):>9.3f}{float(r['ctx_switches_per_accept']):>9.3f}"
          f"{float(r['jain_fairness']):>7.3f}{100*float(r['max_worker_share']):>7.1f}{float(r['latency_p99_us']):>8.0f}")
PY
} | tee "$out/strategies-herd.txt"
