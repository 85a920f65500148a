#!/usr/bin/env bash
# herd serve vs nginx, side by side, same client (wrk with `Connection: close`), same machine.
#
#   scripts/compare-nginx.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 10 s each)
#
# Both servers run 2 workers. nginx keeps its default accept settings (accept_mutex off,
# multi_accept off, EPOLLEXCLUSIVE where the kernel has it); its access log is off because
# herd's server writes no log either. The rounds alternate nginx, herd, nginx, herd ... so
# drift hits both alike; the ratio of the medians is printed.
# Output: results/nginx-compare/nginx-compare.txt (README.md there is written by hand).
# Needs wrk, nginx, curl and python3 (the script names the install command of any missing).
set -euo pipefail
rounds=${1:-3}
secs=${2:-10}
conns=${CONNS:-64}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need wrk nginx curl python3
build_herd
out="$here/results/nginx-compare/nginx-compare.txt"
mkdir -p "$(dirname "$out")"
nport=$(free_port)
start_nginx "$nport"

coproc HERD { exec "$herd" serve --strategy blocking --workers 2 2>/dev/null; }
pids+=("$HERD_PID")
read -r line <&"${HERD[0]}"
hport=${line##*:}

rate() { # URL -> connections per second
  wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$1" | awk '/Requests\/sec/ {print $2}'
}

nginx_rates=(); herd_rates=()
for r in $(seq "$rounds"); do
  n=$(rate "http://127.0.0.1:$nport/"); nginx_rates+=("$n")
  h=$(rate "http://127.0.0.1:$hport/"); herd_rates+=("$h")
  echo "round $r: nginx $n conn/s, herd $h conn/s" >&2
done

mn=$(median "${nginx_rates[@]}"); mh=$(median "${herd_rates[@]}")
ratio=$(awk -v h="$mh" -v n="$mn" 'BEGIN {printf "%.3f", h/n}')
{
  echo "# scripts/compare-nginx.sh $rounds $secs (wrk -t2 -c$conns -H 'Connection: close', ${secs}s per round)"
  echo "# $(uname -sr), $(nproc) cores, $(nginx -v 2>&1), $("$herd" --version), $(date -u +%FT%TZ)"
  echo "nginx_conn_per_s_rounds=${nginx_rates[*]}"
  echo "herd_blocking_conn_per_s_rounds=${herd_rates[*]}"
  echo "nginx_median=$mn"
  echo "herd_median=$mh"
  echo "herd_over_nginx=$ratio"
} | tee "$out"
