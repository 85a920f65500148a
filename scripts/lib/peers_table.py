"""Tables of scripts/peers.sh's results: one per load and metric, a row per configuration and
a column per worker count (the median when a cell holds several runs).

    python3 scripts/lib/peers_table.py results/peers > results/peers/summary.md
"""
import csv
import os
import statistics
import sys

METRICS = [
    ("ctx_switches_per_accept", "context switches per connection (server tree, master included)", "{:.2f}"),
    ("ctx_per_request", "context switches per request (keep-alive: per connection / requests per connection)", "{:.2f}"),
    ("cpu_us_per_conn", "server CPU per connection (us)", "{:.1f}"),
    ("conn_per_s", "connections per second", "{:.0f}"),
    ("requests_per_s", "requests per second", "{:.0f}"),
    ("jain_fairness", "Jain's index of connections per worker (from the response header)", "{:.3f}"),
    ("max_worker_share", "busiest worker's share of connections", "{:.2f}"),
    ("max_worker_cpu_share", "busiest worker's share of the workers' CPU", "{:.2f}"),
    ("accept_queue_mean", "mean connections waiting in the accept queue(s)", "{:.2f}"),
    ("accept_queue_max", "deepest accept queue seen", "{:.0f}"),
]


def main(root):
    print("# peers: nginx, gunicorn and uWSGI beside herd's strategies")
    print()
    print("Made by `scripts/peers.sh` (see machine.txt); one run per cell.")
    for mode in ("close", "keepalive"):
        path = os.path.join(root, mode, "runs.csv")
        if not os.path.exists(path):
            continue
        rows = list(csv.DictReader(open(path)))
        for r in rows:
            r["ctx_per_request"] = str(float(r["ctx_switches_per_accept"]) / float(r["requests_per_conn"]))
        labels = list(dict.fromkeys(r["strategy"] for r in rows))
        counts = sorted({int(r["workers"]) for r in rows})
        rpc = rows[0]["requests_per_conn"] if rows else "?"
        for col, title, fmt in METRICS:
            if mode == "close" and col in ("requests_per_s", "ctx_per_request"):
                continue
            print()
            print(f"## {mode} ({rpc} request(s) per connection): {title}")
            print()
            print("| configuration | " + " | ".join(f"{c} workers" for c in counts) + " |")
            print("|---|" + "---:|" * len(counts))
            for label in labels:
                cells = []
                for c in counts:
                    vals = [float(r[col]) for r in rows
                            if r["strategy"] == label and int(r["workers"]) == c and r[col] != ""]
                    cells.append(fmt.format(statistics.median(vals)) if vals else "")
                print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
