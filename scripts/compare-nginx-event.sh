#!/usr/bin/env bash
# herd serve's event model vs nginx, the same client (wrk -t2 -c32) alternating between them.
#
#   scripts/compare-nginx-event.sh [ROUNDS] [SECONDS]      (defaults: 5 rounds of 3 s each)
#
# Both servers run 2 workers with 512 connections each (nginx worker_connections, herd
# --worker-connections). nginx keeps its default accept settings (on Linux >= 4.5: accept_mutex
# off, EPOLLEXCLUSIVE, and since 1.21.6 the listener re-added every 16 accepts); herd runs the
# same mechanism, `--strategy epoll-exclusive-rotate` (STRATEGY=... to change it). Access log
# off; 1000 requests per keep-alive connection (nginx keepalive_requests, herd
# --max-requests-per-conn). Each round runs, for each server, wrk with keep-alive (requests/s and p99 latency from
# `--latency`), then wrk with `Connection: close` (connections/s); the order nginx, herd, nginx,
# herd ... lets drift hit both alike. The ratios are of the medians:
#   keepalive_req_ratio  = herd req/s / nginx req/s           (target >= 1.0)
#   keepalive_p99_ratio  = herd p99 / nginx p99                (target <= 1.5)
#   close_conn_ratio     = herd conn/s / nginx conn/s          (target >= 1.0)
# Output: results/event-nginx/event-nginx.txt (README.md there is written by hand).
# Needs wrk, nginx, curl and python3 (the script names the install command of any missing).
set -euo pipefail
rounds=${1:-5}
secs=${2:-3}
strategy=${STRATEGY:-epoll-exclusive-rotate}
conns=32
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need wrk nginx curl python3
build_herd
out="$here/results/event-nginx/event-nginx.txt"
mkdir -p "$(dirname "$out")"
nport=$(free_port)
start_nginx "$nport" 512

coproc HERD {
  exec "$herd" serve --worker-model event --strategy "$strategy" --workers 2 \
    --worker-connections 512 --max-requests-per-conn 1000 2>/dev/null
}
pids+=("$HERD_PID")
read -r line <&"${HERD[0]}"
hport=${line##*:}

# to_us VALUE: a wrk latency (e.g. 812.00us, 1.53ms, 2.01s) in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 0
    printf "%.1f", n * f }'
}
# keepalive URL -> "REQ_PER_S P99_US"
keepalive() {
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" > "$work/wrk.out"
  local r p
  r=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
  echo "$r $(to_us "$p")"
}
# close URL -> CONN_PER_S
close() {
  wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$1" | awk '/Requests\/sec/ {print $2}'
}

n_ka=(); n_p99=(); n_close=(); h_ka=(); h_p99=(); h_close=()
for r in $(seq "$rounds"); do
  read -r a b < <(keepalive "http://127.0.0.1:$nport/"); n_ka+=("$a"); n_p99+=("$b")
  read -r c d < <(keepalive "http://127.0.0.1:$hport/"); h_ka+=("$c"); h_p99+=("$d")
  e=$(close "http://127.0.0.1:$nport/"); n_close+=("$e")
  f=$(close "http://127.0.0.1:$hport/"); h_close+=("$f")
  echo "round $r: keep-alive nginx $a req/s p99 $b us, herd $c req/s p99 $d us; close nginx $e conn/s, herd $f conn/s" >&2
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }
mnk=$(median "${n_ka[@]}"); mhk=$(median "${h_ka[@]}")
mnp=$(median "${n_p99[@]}"); mhp=$(median "${h_p99[@]}")
mnc=$(median "${n_close[@]}"); mhc=$(median "${h_close[@]}")
{
  echo "# scripts/compare-nginx-event.sh $rounds $secs (wrk -t2 -c$conns, ${secs}s per run; herd --worker-model event --strategy $strategy)"
  echo "# $(uname -sr), $(nproc) cores, $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1), $("$herd" --version), $(date -u +%FT%TZ)"
  echo "# both: 2 workers, 512 connections per worker, access log off; client and servers share the machine"
  echo "nginx_keepalive_req_per_s_rounds=${n_ka[*]}"
  echo "herd_keepalive_req_per_s_rounds=${h_ka[*]}"
  echo "nginx_keepalive_p99_us_rounds=${n_p99[*]}"
  echo "herd_keepalive_p99_us_rounds=${h_p99[*]}"
  echo "nginx_close_conn_per_s_rounds=${n_close[*]}"
  echo "herd_close_conn_per_s_rounds=${h_close[*]}"
  echo "nginx_keepalive_req_per_s_median=$mnk"
  echo "herd_keepalive_req_per_s_median=$mhk"
  echo "nginx_keepalive_p99_us_median=$mnp"
  echo "herd_keepalive_p99_us_median=$mhp"
  echo "nginx_close_conn_per_s_median=$mnc"
  echo "herd_close_conn_per_s_median=$mhc"
  echo "keepalive_req_ratio=$(ratio "$mhk" "$mnk")"
  echo "keepalive_p99_ratio=$(ratio "$mhp" "$mnp")"
  echo "close_conn_ratio=$(ratio "$mhc" "$mnc")"
} | tee "$out"
