#!/usr/bin/env bash
# The open-loop target (p99 lateness under 1 ms at 80% of the closed-loop rate) with the host
# split in two, against the same ladder on a shared host.
#
#   scripts/partition-ladder.sh [REPEATS] [SECONDS] [OUT_DIR]   (defaults: 3, 5, results/partition)
#
# Two tables, each with a fresh nginx (2 workers, as scripts/compare-wrk.sh):
#   shared: nginx and `herd load --client-threads 2` share both CPUs (the earlier ladder);
#   split:  nginx pinned to CPU 0 (`herd load --server-pid PID --server-cpus 0` pins its master
#           and workers), the client to CPU 1 (`--client-cpus 1`, one client thread).
# In each: the closed-loop rate (REPEATS runs of `--concurrency 64`; its median is "the rate"),
# then open-loop runs at 50, 65 and 80% of it (LADDER), each with exact pacing and with
# `--pacing-quantum 500us`, REPEATS runs per cell in a shuffled order, `--concurrency 256`.
# Every run is measured against nginx's processes (`--server-pid`), so its row carries the
# server's, the client's and foreign CPU. Rows go to OUT_DIR/{shared,split}/runs.csv (strategy
# column: nginx-shared, nginx-split), the tables to OUT_DIR/ladder.md
# (scripts/lib/partition_table.py). Needs nginx, curl, python3 and 2 CPUs.
set -euo pipefail
repeats=${1:-3}
secs=${2:-5}
dir=${3:-results/partition}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need nginx curl python3 shuf
build_herd
[ "$(nproc)" -ge 2 ] || { echo "partition-ladder.sh: needs 2 CPUs" >&2; exit 2; }
rm -rf "$dir/shared" "$dir/split"
mkdir -p "$dir"

# table NAME PARTITION_FLAGS...: the closed-loop rate, then the ladder.
table() {
  local name=$1; shift
  local port; port=$(free_port)
  start_nginx "$port"
  local nginx=${pids[-1]}
  local url="http://127.0.0.1:$port/"
  local common=(--url "$url" --server-pid "$nginx" --label "nginx-$name" --quiet
    --out "$dir/$name" "$@")
  local rates=() r
  for _ in $(seq "$repeats"); do
    "$herd" load "${common[@]}" --concurrency 64 --duration "${secs}s" --warmup 1s >/dev/null
    rates+=("$(col "$dir/$name/runs.csv" conn_per_s)")
  done
  local closed; closed=$(median "${rates[@]}")
  echo "$name: closed-loop rate ${rates[*]} (median $closed conn/s)" >&2
  local cells=()
  for f in ${LADDER:-0.5 0.65 0.8}; do
    for q in 0s 500us; do
      for k in $(seq "$repeats"); do cells+=("$f $q $k"); done
    done
  done
  local f q
  while read -r f q _; do
    r=$(awk -v c="$closed" -v f="$f" 'BEGIN {printf "%.0f", f*c}')
    "$herd" load "${common[@]}" --rate "$r" --pacing-quantum "$q" --concurrency 256 \
      --duration "${secs}s" --warmup 1s >/dev/null
    echo "$name: $f x $closed = $r conn/s, quantum $q: lateness p99 $(col "$dir/$name/runs.csv" lateness_p99_us) us, foreign $(col "$dir/$name/runs.csv" foreign_cpu_pct)%" >&2
  done < <(printf '%s\n' "${cells[@]}" | shuf)
  echo "$closed" > "$dir/$name/closed-rate.txt"
  kill -TERM "$nginx"; wait "$nginx" 2>/dev/null || true
}

table shared --client-threads 2
table split --server-cpus 0 --client-cpus 1
{
  echo "<!-- scripts/partition-ladder.sh $repeats $secs; $(uname -sr), $(nproc) CPUs, $(nginx -v 2>&1), $("$herd" --version), $(date -u +%FT%TZ) -->"
  python3 scripts/lib/partition_table.py "$dir"
} | tee "$dir/ladder.md"
