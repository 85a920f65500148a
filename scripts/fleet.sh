#!/usr/bin/env bash
# One run, many clients: K `herd load` clients start together (--start-at) under one run id
# (--run-id), each writes its own results directory, and `herd merge` combines their rows into
# the run's row. Two ways to get the clients:
#
#   scripts/fleet.sh [--clients K] [--duration D] [--out DIR] [-- LOAD_FLAGS...]
#       On this host, in network namespaces (root, iproute2): `herd serve` in one, the K
#       clients in K others, each with its own address, every namespace joined by a veth pair
#       to a bridge that lives in a namespace of its own. Nothing is added to the host's own
#       namespace, so the traffic stays inside the namespaces; all of them are deleted on exit.
#       The server's accepted count (its scoreboard, SIGUSR1) is checked against the merged
#       row's connections.
#
#   scripts/fleet.sh --hosts user@h1,user@h2,... --url http://SERVER:PORT/ [--duration D]
#                    [--out DIR] [-- LOAD_FLAGS...]
#       Real client hosts over ssh, with GNU parallel (`parallel --nonall --sshlogin`): each
#       host runs the same `herd load` (herd on its PATH; clocks kept in step by NTP), its
#       results directory is copied back with scp and merged here. The server runs elsewhere,
#       started by you. docs/multi-host.md has the same run with Ansible.
#
# Environment: HERD (the herd binary; default: built in release), SERVER_ARGS (herd serve's
# flags in namespace mode; default "--workers 4"), START_DELAY (seconds from now to the common
# start; default 3). Output: DIR (default target/fleet/RUN_ID): client-N/ (each client's
# results), client-N.txt (its summary), merged/ (the run's row), merged.txt, and in namespace
# mode server-accepted.txt.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

clients=3 duration=5s out="" hosts="" url=""
while [ $# -gt 0 ]; do
  case $1 in
    --clients) clients=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "fleet.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
load_flags=("$@")
if [ -n "${HERD:-}" ]; then herd=$HERD; else build_herd; fi
run_id="fleet-$(date +%s)-$$"
out=${out:-target/fleet/$run_id}
mkdir -p "$out"
start_at=$(awk -v d="${START_DELAY:-3}" -v now="$(date +%s.%N)" 'BEGIN {printf "%.3f", now + d}')
load_args=(--run-id "$run_id" --start-at "$start_at" --warmup 0s --duration "$duration" --quiet
  ${load_flags[@]+"${load_flags[@]}"})

if [ -n "$hosts" ]; then
  # Real hosts: the same command on each, then their directories fetched and merged.
  need parallel ssh scp
  [ -n "$url" ] || { echo "fleet.sh: --hosts needs --url (the server under test)" >&2; exit 2; }
  remote="/tmp/herd-fleet-$run_id"
  echo "fleet: run $run_id, $(tr ',' '\n' <<<"$hosts" | wc -l) hosts, starting at $start_at" >&2
  parallel --nonall --tag --sshlogin "$hosts" \
    herd load --url "$url" "${load_args[@]}" --out "$remote" > "$out/clients.txt"
  i=0
  for h in ${hosts//,/ }; do
    i=$((i + 1))
    scp -q -r "$h:$remote" "$out/client-$i"
  done
  "$herd" merge --run-id "$run_id" --out "$out/merged" "$out"/client-*/ > "$out/merged.txt"
  cat "$out/merged.txt"
  exit 0
fi

# Namespace mode.
need ip python3
if [ "$(id -u)" != 0 ]; then
  echo "fleet.sh: network namespaces need root (or give --hosts)" >&2
  exit 2
fi
ns="hf$$"            # every name carries this script's PID: concurrent fleets do not collide
br="$ns-br"
nodes=(srv)
for k in $(seq "$clients"); do nodes+=("c$k"); done
cleanup_netns() {
  local n
  for n in "${nodes[@]}"; do ip netns del "$ns-$n" 2>/dev/null || true; done
  ip netns del "$br" 2>/dev/null || true
}
at_exit cleanup_netns
ip netns add "$br"
ip -n "$br" link set lo up
ip -n "$br" link add br0 type bridge
ip -n "$br" link set br0 up
addr_of() { # node -> its address
  case $1 in srv) echo 10.77.0.1 ;; c*) echo "10.77.0.$((10 + ${1#c}))" ;; esac
}
for n in "${nodes[@]}"; do
  ip netns add "$ns-$n"
  ip -n "$ns-$n" link set lo up
  # The pair is made in the bridge's namespace with its other end in the node's: it never
  # exists in the host's own namespace.
  ip -n "$br" link add "v-$n" type veth peer name eth0 netns "$ns-$n"
  ip -n "$br" link set "v-$n" master br0 up
  ip -n "$ns-$n" addr add "$(addr_of "$n")/24" dev eth0
  ip -n "$ns-$n" link set eth0 up
done

port=8080
# shellcheck disable=SC2086 # SERVER_ARGS is a list of flags
ip netns exec "$ns-srv" "$herd" serve --addr "10.77.0.1:$port" ${SERVER_ARGS:---workers 4} \
  > "$out/serve.out" 2> "$out/serve.err" &
srv=$!
pids+=("$srv")
for _ in $(seq 300); do grep -q '^listening ' "$out/serve.out" && break; sleep 0.1; done
grep -q '^listening ' "$out/serve.out" || { cat "$out/serve.err" >&2; exit 1; }
echo "fleet: run $run_id: herd serve on 10.77.0.1:$port, $clients clients starting at $start_at" >&2

# accepted_now: the server's accepted count (SIGUSR1 prints its scoreboard; the N-th line).
accepted_now() {
  kill -USR1 "$srv"
  for _ in $(seq 100); do
    [ "$(grep -c '^scoreboard ' "$out/serve.out")" -ge "$1" ] && break
    sleep 0.1
  done
  python3 -c '
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("scoreboard ")][-1]
print(sum(w["accepted"] for w in json.loads(line[len("scoreboard "):])["workers"]))
' "$out/serve.out"
}

cpids=()
for k in $(seq "$clients"); do
  ip netns exec "$ns-c$k" "$herd" load --url "http://10.77.0.1:$port/" "${load_args[@]}" \
    --out "$out/client-$k" > "$out/client-$k.txt" 2>&1 &
  cpids+=($!)
done
# Each client checks that the URL answers (one connection) as it starts, then waits for the
# common start: the server's count half a second before it is the measurement's zero, as
# `herd run` snapshots its server before and after the phase.
sleep "$(awk -v t="$start_at" -v now="$(date +%s.%N)" 'BEGIN {d = t - now - 0.5; print (d > 0 ? d : 0)}')"
before=$(accepted_now 1)
failed=0
for p in "${cpids[@]}"; do wait "$p" || failed=1; done
if [ "$failed" != 0 ]; then cat "$out"/client-*.txt >&2; exit 1; fi
after=$(accepted_now 2)
accepted=$((after - before))
echo "$accepted" > "$out/server-accepted.txt"

"$herd" merge --run-id "$run_id" --out "$out/merged" "$out"/client-*/ > "$out/merged.txt"
cat "$out/merged.txt"
merged=$(col "$out/merged/runs.csv" conns_ok)
errors=$(col "$out/merged/runs.csv" errors)
echo "fleet: merged row: $merged connections ($errors errors) from $clients clients; server accepted $accepted" >&2
[ "$merged" = "$accepted" ] || { echo "fleet: the counts differ" >&2; exit 1; }
