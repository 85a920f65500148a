"""The tables of scripts/balancers.sh's results (results/balancers/README.md quotes them): the
median over each cell's repeats, a cell being a strategy (with its flags: `reuseport-ebpf
least`) at one worker count.

    python3 scripts/lib/balancers_table.py results/balancers > results/balancers/summary.md
"""
import csv
import os
import statistics
import sys
from collections import defaultdict


def load(root, name):
    runs = list(csv.DictReader(open(os.path.join(root, name, "runs.csv"))))
    workers = list(csv.DictReader(open(os.path.join(root, name, "workers.csv"))))
    per_run = defaultdict(list)
    for w in workers:
        per_run[w["run_id"]].append(w)
    cells = defaultdict(list)
    for r in runs:
        label = r["strategy"] + (" " + r["strategy_options"] if r.get("strategy_options") else "")
        cells[(label, int(r["workers"]))].append((r, per_run[r["run_id"]]))
    return cells


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def num(r, col):
    v = r.get(col, "")
    return float(v) if v not in ("", None) else None


def fmt(v, spec):
    return "n/a" if v is None else spec.format(v)


def spread(ws):
    """Max over mean of the workers' time-averaged open connections."""
    om = [float(w["open_mean"]) for w in ws if w.get("open_mean")]
    mean = sum(om) / len(om) if om else 0
    return max(om) / mean if mean > 0 else None


def long_lived(root):
    cells = load(root, "long-lived")
    print("## Long-lived connections, event model")
    print()
    print("Median of the repeats. *max/mean*: the busiest worker's time-averaged open")
    print("connections over the mean (1.0 = perfectly even; min–max over the repeats);")
    print("*most open*: the most connections one worker held at once.")
    print()
    print("| strategy | workers | max/mean open | (min–max) | most open | p99 µs | CPU µs/request | errors |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for (label, w), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], order(kv[0][0]))):
        sp = [spread(ws) for _, ws in rs]
        sp = [s for s in sp if s is not None]
        cpu = med([cpu_per_request(r) for r, _ in rs])
        print(
            f"| `{label}` | {w} | {fmt(med(sp), '{:.3f}')} | {fmt(min(sp) if sp else None, '{:.2f}')}–{fmt(max(sp) if sp else None, '{:.2f}')} "
            f"| {fmt(med([num(r, 'open_max') for r, _ in rs]), '{:.0f}')} "
            f"| {fmt(med([num(r, 'latency_p99_us') for r, _ in rs]), '{:.0f}')} "
            f"| {fmt(cpu, '{:.1f}')} "
            f"| {sum(int(r['errors']) for r, _ in rs)} |"
        )
    print()


def cpu_per_request(r):
    """The server's CPU (workers and acceptor) per request answered."""
    cpu, acc, reqs = num(r, "cpu_us_per_conn"), num(r, "accepted"), num(r, "requests_served")
    if cpu is None or not acc or not reqs:
        return None
    return cpu * acc / reqs


ORDER = ["blocking", "reuseport", "epoll-exclusive-rotate", "reuseport-ebpf",
         "reuseport-ebpf least", "handoff-rr", "handoff-least", "handoff-p2c"]


def order(label):
    return ORDER.index(label) if label in ORDER else len(ORDER)


def hop(root):
    cells = load(root, "hop")
    print("## The extra hop: short connections, sync model")
    print()
    print("Median of the repeats; the ratios are to `blocking` and to `reuseport` at the same")
    print("worker count (conn/s: higher is better; CPU and p99: lower is better). CPU is the")
    print("server's: the workers' and, for the hand-off strategies, the acceptor's.")
    print()
    print("| strategy | workers | conn/s | ×blocking | ×reuseport | CPU µs/conn | ×blocking | ×reuseport | p99 µs | ×blocking | ×reuseport | wakeups/accept | ctx sw/accept |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    def m(label, w, col):
        return med([num(r, col) for r, _ in cells.get((label, w), [])])
    for (label, w), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], order(kv[0][0]))):
        row = [f"`{label}`", str(w)]
        for col, spec in (("conn_per_s", "{:.0f}"), ("cpu_us_per_conn", "{:.1f}"), ("latency_p99_us", "{:.0f}")):
            v = m(label, w, col)
            row.append(fmt(v, spec))
            for base in ("blocking", "reuseport"):
                b = m(base, w, col)
                row.append(fmt(v / b if v is not None and b else None, "{:.2f}"))
        row.append(fmt(m(label, w, "wakeups_per_accept"), "{:.2f}"))
        row.append(fmt(m(label, w, "ctx_switches_per_accept"), "{:.2f}"))
        print("| " + " | ".join(row) + " |")
    print()
    print("The acceptor's own share, for the hand-off strategies (in the figures above):")
    print()
    print("| strategy | workers | acceptor CPU µs/conn | acceptor wakeups/accept | lost |")
    print("|---|---:|---:|---:|---:|")
    for (label, w), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], order(kv[0][0]))):
        if not label.startswith("handoff"):
            continue
        aw = med([num(r, "acceptor_wakeups") / num(r, "accepted") for r, _ in rs if num(r, "accepted")])
        print(f"| `{label}` | {w} | {fmt(m(label, w, 'acceptor_cpu_us_per_conn'), '{:.1f}')} | {fmt(aw, '{:.3f}')} "
              f"| {sum(int(float(r['handoff_lost'] or 0)) for r, _ in rs)} |")
    print()


def main(root):
    print("# Balancers: hand-off and eBPF reuseport beside the kernel-side strategies")
    print()
    print("Made by `scripts/balancers.sh` from the rows in this directory.")
    print()
    long_lived(root)
    hop(root)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/balancers")
