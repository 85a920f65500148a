#!/usr/bin/env bash
# Every figure the README and results/reference/README.md quote, recomputed from the committed
# rows: each is the median of a cell's repeats (strategy × workers), as `herd report` shows it.
#
#   scripts/reference-figures.sh [DIR]     (default: results/reference)
#
# Output: printed only.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need python3
dir=${1:-results/reference}
python3 - "$dir" <<'PY'
import csv, statistics, sys
from collections import defaultdict

d = sys.argv[1]
runs = list(csv.DictReader(open(f"{d}/runs.csv")))
workers = list(csv.DictReader(open(f"{d}/workers.csv")))
cell = defaultdict(list)
for r in runs:
    cell[(r["strategy"], int(r["workers"]))].append(r)
strategies = list(dict.fromkeys(r["strategy"] for r in runs))
counts = sorted({int(r["workers"]) for r in runs})


def med(s, w, col):
    return statistics.median(float(r[col]) for r in cell[(s, w)])


def span(values):
    return f"{min(values):.2f}–{max(values):.2f}"


print(f"{len(runs)} runs in {d}; medians of the repeats of each cell\n")
print("context switches per accept:")
print(f"{'strategy':<24}" + "".join(f"{w:>8}" for w in counts))
for s in strategies:
    print(f"{s:<24}" + "".join(f"{med(s, w, 'ctx_switches_per_accept'):>8.2f}" for w in counts))

one = {s: med(s, 1, "ctx_switches_per_accept") for s in strategies}
cpu1 = {s: med(s, 1, "cpu_us_per_conn") for s in strategies}
print(f"\n1 worker: ctx switches/accept {span(one.values())}, worker CPU µs/conn {span(cpu1.values())}")
herd = ["epoll-shared", "epoll-et", "poll", "select"]
print(f"64 workers, {', '.join(herd)}: ctx/accept "
      f"{span([med(s, 64, 'ctx_switches_per_accept') for s in herd])}; "
      f"wakeups/accept " + ", ".join(f"{s} {med(s, 64, 'wakeups_per_accept'):.3f}" for s in herd))
b, e = "blocking", "epoll-shared"
print(f"64 workers, {e} vs {b}: ctx/accept {med(e, 64, 'ctx_switches_per_accept'):.2f} vs "
      f"{med(b, 64, 'ctx_switches_per_accept'):.2f}, extra per worker "
      f"{(med(e, 64, 'ctx_switches_per_accept') - med(b, 64, 'ctx_switches_per_accept')) / 64:.3f}; "
      f"CPU µs/conn {med(e, 64, 'cpu_us_per_conn'):.1f} vs {med(b, 64, 'cpu_us_per_conn'):.1f} "
      f"({med(e, 64, 'cpu_us_per_conn') / med(b, 64, 'cpu_us_per_conn'):.2f}×); conn/s "
      f"{med(e, 64, 'conn_per_s'):.0f} vs {med(b, 64, 'conn_per_s'):.0f} "
      f"({med(e, 64, 'conn_per_s') / med(b, 64, 'conn_per_s'):.3f}); p99 ms "
      f"{med(e, 64, 'latency_p99_us') / 1e3:.2f} vs {med(b, 64, 'latency_p99_us') / 1e3:.2f} "
      f"({med(e, 64, 'latency_p99_us') / med(b, 64, 'latency_p99_us'):.1f}×)")
wide = [w for w in counts if w >= 8]
print(f"\nctx switches/accept from {wide[0]} to {wide[-1]} workers:")
for s in ["blocking", "epoll-exclusive", "epoll-exclusive-rotate", "reuseport", "sysv-sem",
          "pthread-mutex", "posix-sem", "fcntl", "flock", "accept-mutex", "io-uring",
          "reuseport-cbpf"]:
    if (s, wide[0]) in cell:
        print(f"  {s:<24} {span([med(s, w, 'ctx_switches_per_accept') for w in wide])}")

print("\nfairness at 64 workers (Jain, busiest worker's share, workers with > 5% of connections):")
for s in ["epoll-exclusive", "epoll-exclusive-rotate", "accept-mutex", "io-uring", "reuseport-cbpf",
          "blocking"]:
    if (s, 64) not in cell:
        continue
    active = []
    top10 = []
    for r in cell[(s, 64)]:
        sh = sorted((float(x["share"]) for x in workers if x["run_id"] == r["run_id"]), reverse=True)
        active.append(sum(v > 0.05 for v in sh))
        top10.append(sum(sh[:10]))
    print(f"  {s:<24} Jain {med(s, 64, 'jain_fairness'):.3f}, busiest "
          f"{med(s, 64, 'max_worker_share') * 100:.1f}%, active {active}, first ten "
          f"{statistics.median(top10) * 100:.1f}%, conn/s {med(s, 64, 'conn_per_s'):.0f}")
print("\naccept-mutex, busiest worker's share by worker count: " + ", ".join(
    f"{w}: {med('accept-mutex', w, 'max_worker_share') * 100:.1f}%" for w in counts))
print("conn/s at 4 workers: " + ", ".join(
    f"{s} {med(s, 4, 'conn_per_s'):.0f}" for s in ["blocking", "sysv-sem"]))
PY
