# Shared by the comparison scripts (source it; it is not a command). Sets `here` (the repo),
# `herd` (the release binary, built), `work` (a temporary directory) and `pids` (processes to
# stop on exit, by PID), and offers free_port, median, col and start_nginx.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
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
# median X...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# col FILE NAME: NAME's value in the last row of a CSV file.
col() { python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1][sys.argv[2]])' "$1" "$2"; }

# start_nginx PORT: nginx with 2 workers and its default accept settings (accept_mutex off,
# multi_accept off, EPOLLEXCLUSIVE where available), access log off, answering `ok` on
# 127.0.0.1:PORT; waits until it answers.
start_nginx() {
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
    listen 127.0.0.1:$1 backlog=4096;
    location / { return 200 "ok\n"; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  pids+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$1/" && break; sleep 0.1; done
}
