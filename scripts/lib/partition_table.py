"""The tables of scripts/partition-ladder.sh: for the shared and the split host, a row per
open-loop cell (share of the closed-loop rate, pacing) with the median and min-max over its
runs of the p99 lateness and the figures beside it.

    python3 scripts/lib/partition_table.py results/partition > results/partition/ladder.md
"""
import csv
import os
import statistics
import sys


def num(row, col):
    v = row.get(col, "")
    return float(v) if v not in ("", None) else None


def spread(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    m = statistics.median(values)
    if len(values) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(root):
    for name, what in (
        ("shared", "client and nginx share both CPUs (2 client threads)"),
        ("split", "nginx on CPU 0, the client on CPU 1 (1 client thread)"),
    ):
        path = os.path.join(root, name, "runs.csv")
        if not os.path.exists(path):
            continue
        rows = list(csv.DictReader(open(path)))
        closed = [r for r in rows if r["arrivals"] == "closed"]
        rate = statistics.median(float(r["conn_per_s"]) for r in closed)
        print(f"\n### {name}: {what}\n")
        print(
            f"Closed loop (`--concurrency 64`): {spread([num(r, 'conn_per_s') for r in closed], '{:.0f}')} conn/s "
            f"over {len(closed)} runs; host {spread([num(r, 'host_cpu_busy_pct') for r in closed], '{:.0f}')}% busy.\n"
        )
        print(
            "| rate (share) | pacing | p99 lateness (ms) | runs under 1 ms | late starts | "
            "raw p99 latency (ms) | host busy % | client % | server % | foreign % |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        cells = {}
        for r in rows:
            if r["arrivals"] == "closed":
                continue
            cells.setdefault((float(r["rate"]), float(r["pacing_quantum_us"])), []).append(r)
        for (rt, q), rs in sorted(cells.items()):
            late = [num(r, "lateness_p99_us") for r in rs]
            under = sum(1 for v in late if v is not None and v < 1000)
            ms = lambda col: [None if num(r, col) is None else num(r, col) / 1000 for r in rs]
            pct = lambda col: [num(r, col) for r in rs]
            share = [None if num(r, "late_share") is None else 100 * num(r, "late_share") for r in rs]
            print(
                f"| {rt:.0f} ({rt / rate:.0%}) | {'exact' if q == 0 else f'{q:.0f} µs quantum'} "
                f"| {spread(ms('lateness_p99_us'), '{:.2f}')} | {under} of {len(rs)} "
                f"| {spread(share, '{:.2f}')}% | {spread(ms('raw_latency_p99_us'), '{:.2f}')} "
                f"| {spread(pct('host_cpu_busy_pct'), '{:.0f}')} | {spread(pct('client_cpu_pct'), '{:.0f}')} "
                f"| {spread(pct('server_cpu_pct'), '{:.0f}')} | {spread(pct('foreign_cpu_pct'), '{:.1f}')} |"
            )
    print(
        "\n*Median (min–max) over the runs of each cell. The share is of that table's closed-loop "
        "median. Late starts: more than 1 ms late or never, % of the scheduled starts.*"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/partition")
