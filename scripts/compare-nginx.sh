#!/usr/bin/env bash
# herd serve vs nginx, side by side, same client (wrk with `Connection: close`), same machine.
#
#   scripts/compare-nginx.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 10 s each)
#
# Both servers run 2 workers. nginx keeps its default accept settings (accept_mutex off,
# multi_accept off, EPOLLEXCLUSIVE where the kernel has it); its access log is off because
# herd's server writes no log either. The rounds alternate nginx, herd, nginx, herd ... so
# drift hits both alike; the ratio of the medians is printed and written to
# results/nginx-compare.txt. Needs: apt-get install -y nginx wrk.
set -euo pipefail
rounds=${1:-3}
secs=${2:-10}
conns=${CONNS:-64}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/results/nginx-compare.txt"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx is missing: apt-get install -y nginx" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
herd="$here/target/release/herd"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

nport=$(free_port)
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nport backlog=4096;
    location / { return 200 "ok\n"; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

coproc HERD { exec "$herd" serve --strategy blocking --workers 2 2>/dev/null; }
pids+=($HERD_PID)
read -r line <&"${HERD[0]}"
hport=${line##*:}

for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done

rate() { # URL -> connections per second
  wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$1" | awk '/Requests\/sec/ {print $2}'
}

nginx_rates=(); herd_rates=()
for r in $(seq "$rounds"); do
  n=$(rate "http://127.0.0.1:$nport/"); nginx_rates+=("$n")
  h=$(rate "http://127.0.0.1:$hport/"); herd_rates+=("$h")
  echo "round $r: nginx $n conn/s, herd $h conn/s" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
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
