#!/usr/bin/env bash
# nginx, gunicorn and uWSGI beside the herd strategies that stand for them, all measured the
# same way: each server started here, driven by `herd load --server-pid` (its processes read
# from /proc, its listeners' accept queues through sock_diag, each response naming its worker),
# then stopped by PID.
#
#   scripts/peers.sh [SECONDS] [WORKER_COUNTS]     (defaults: 2 s phases; 2,4,16,64)
#
# Configurations (label: what runs):
#   nginx-mutex-on     nginx, accept_mutex on               herd: accept-mutex
#   nginx-mutex-off    nginx, accept_mutex off (EPOLLEXCLUSIVE, the default)
#                      herd: epoll-exclusive-rotate (nginx >= 1.21.6 re-adds the listener), epoll-exclusive
#   nginx-reuseport    nginx, listen ... reuseport          herd: reuseport
#   gunicorn-sync      gunicorn sync worker                  herd: select
#   gunicorn-gthread   gunicorn gthread worker, 4 threads    herd: epoll-shared
#   uwsgi-nolock       uWSGI, no lock                        herd: epoll-shared
#   uwsgi-thunder      uWSGI --thunder-lock (pthread)        herd: pthread-mutex
#   uwsgi-ipcsem       uWSGI --thunder-lock --lock-engine ipcsem  herd: sysv-sem
#   herd-S             herd serve --strategy S               (S: each strategy named above, and blocking)
# each at every worker count, with `Connection: close` (results/peers/close/) and with 50
# requests per keep-alive connection (results/peers/keepalive/). Left out there: the gunicorn
# sync worker (it closes after each response) and uWSGI (its --http-socket closes after each
# response; its --http11-socket keeps a connection open for its 4 s socket timeout after a
# response that says `Connection: close`, which a client's last request asks for). Load: closed loop, CONC connections in
# flight (default 8, so that most workers are idle at 16 and 64), 0.5 s warmup.
#
# Installs what it needs: nginx from the distribution (apt-get, as root), gunicorn and uWSGI
# (pyuwsgi) from PyPI into target/peers-venv. Writes results/peers/{close,keepalive}/ (CSV, charts,
# report.md) and results/peers/summary.md; results/peers/README.md is written by hand.
set -euo pipefail
secs=${1:-2}
counts=${2:-2,4,16,64}
conc=${CONC:-8}
ka=${KA_REQS:-50}
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q nginx >/dev/null
fi
need nginx curl python3
build_herd
venv="$here/target/peers-venv"
if [ ! -x "$venv/bin/gunicorn" ] || [ ! -x "$venv/bin/uwsgi" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q gunicorn pyuwsgi
fi
out="$here/results/peers"
rm -rf "$out/close" "$out/keepalive"
mkdir -p "$out/close" "$out/keepalive"

cat >"$work/app.py" <<'APP'
import os
def app(environ, start_response):
    h = [("Content-Type", "text/plain"), ("Content-Length", "3"), ("X-Worker", str(os.getpid()))]
    if environ.get("HTTP_CONNECTION", "").lower() == "close":
        h.append(("Connection", "close"))
    start_response("200 OK", h)
    return [b"ok\n"]
APP

# nginx_conf N PORT ACCEPT_MUTEX REUSEPORT
nginx_conf() {
  mkdir -p "$work/logs"
  cat >"$work/nginx.conf" <<CONF
worker_processes $1;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; accept_mutex $3; }
http {
  access_log off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$2 backlog=4096 $4;
    location / { add_header X-Worker \$pid always; return 200 "ok\n"; }
  }
}
CONF
}

# start LABEL N PORT: start the configuration in the background; sets `spid` and `header`.
start() {
  local label=$1 n=$2 port=$3 g=("$venv/bin/gunicorn" --chdir "$work" -w "$2" -b "127.0.0.1:$3"
    --backlog 4096 --log-level warning --graceful-timeout 1)
  local u=("$venv/bin/uwsgi" --master --processes "$2" --http-socket "127.0.0.1:$3"
    --wsgi-file "$work/app.py" --callable app --disable-logging --die-on-term --listen 4096)
  header=X-Worker
  case $label in
    nginx-mutex-on) nginx_conf "$n" "$port" on "" ;;
    nginx-mutex-off) nginx_conf "$n" "$port" off "" ;;
    nginx-reuseport) nginx_conf "$n" "$port" off reuseport ;;
  esac
  case $label in
    nginx-*) nginx -c "$work/nginx.conf" -p "$work" & ;;
    gunicorn-sync) "${g[@]}" -k sync app:app & ;;
    gunicorn-gthread) "${g[@]}" -k gthread --threads 4 app:app & ;;
    uwsgi-nolock) "${u[@]}" >"$work/uwsgi.log" 2>&1 & ;;
    uwsgi-thunder) "${u[@]}" --thunder-lock >"$work/uwsgi.log" 2>&1 & ;;
    uwsgi-ipcsem) "${u[@]}" --thunder-lock --lock-engine ipcsem >"$work/uwsgi.log" 2>&1 & ;;
    herd-*)
      header=""
      "$herd" serve --strategy "${label#herd-}" --workers "$n" --addr "127.0.0.1:$port" \
        --max-requests-per-conn 100000 >/dev/null 2>&1 &
      ;;
  esac
  spid=$!
  pids+=("$spid")
}

# children PID: how many processes PID has.
children() { cat /proc/"$1"/task/*/children 2>/dev/null | wc -w; }

# ready PORT N: the server answers and its master has its N workers (60 s at most).
ready() {
  for _ in $(seq 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/" && [ "$(children "$spid")" -ge "$2" ]; then
      sleep 0.3
      return 0
    fi
    sleep 0.1
  done
  echo "peers.sh: $label with $2 workers did not get ready" >&2
  return 1
}

# stop: SIGTERM the server by PID, SIGKILL after 10 s.
stop() {
  kill -TERM "$spid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$spid" ] || keep+=("$p"); done
  pids=(${keep[@]+"${keep[@]}"})
}

labels=(nginx-mutex-on herd-accept-mutex nginx-mutex-off herd-epoll-exclusive-rotate herd-epoll-exclusive
  nginx-reuseport herd-reuseport gunicorn-sync herd-select gunicorn-gthread herd-epoll-shared
  uwsgi-nolock uwsgi-thunder herd-pthread-mutex uwsgi-ipcsem herd-sysv-sem herd-blocking)
t0=$(date +%s)
for n in ${counts//,/ }; do
  for mode in close keepalive; do
    rpc=1
    [ "$mode" = keepalive ] && rpc=$ka
    for label in "${labels[@]}"; do
      case $mode/$label in keepalive/gunicorn-sync | keepalive/uwsgi-*) continue ;; esac
      port=$(free_port)
      start "$label" "$n" "$port"
      if ready "$port" "$n"; then
        args=(load --url "http://127.0.0.1:$port/" --server-pid "$spid" --label "$label"
          --concurrency "$conc" --duration "${secs}s" --warmup 0.5s --requests-per-conn "$rpc"
          --quiet --out "$out/$mode")
        [ -n "$header" ] && args+=(--worker-header "$header")
        "$herd" "${args[@]}" >"$work/summary.txt" 2>"$work/stderr.txt" || {
          echo "peers.sh: herd load failed for $label $n $mode:" >&2
          cat "$work/stderr.txt" >&2
        }
        grep -v "^herd load: accept-queue" "$work/stderr.txt" >&2 || true
        echo "$(($(date +%s) - t0))s $mode $label w$n: $(awk '/throughput|ctx switches/ {printf "%s ", $0}' "$work/summary.txt" | tr -s ' ')" >&2
      fi
      stop
    done
  done
done

for mode in close keepalive; do
  "$herd" plot "$out/$mode" >/dev/null
  "$herd" report "$out/$mode" >"$out/$mode/report.md"
  rm -rf "$out/$mode/hist"
done
python3 "$here/scripts/lib/peers_table.py" "$out" >"$out/summary.md"
{
  echo "# scripts/peers.sh $secs $counts (CONC=$conc KA_REQS=$ka), $(date -u +%FT%TZ)"
  echo "# $(uname -sr), $(nproc) cores; $(nginx -v 2>&1); gunicorn $("$venv/bin/gunicorn" --version 2>&1 | awk '{print $3}' | tr -d '()'); uWSGI $("$venv/bin/uwsgi" --version); $("$herd" --version)"
} >"$out/machine.txt"
echo "peers.sh: done in $(($(date +%s) - t0)) s; results in $out" >&2
