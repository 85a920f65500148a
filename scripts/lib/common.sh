# shellcheck shell=bash
# The preamble every script under scripts/ sources (it is not a command):
#
#   source "$(dirname "$0")/lib/common.sh"
#   need wrk nginx curl python3    # each tool the script needs; for each one missing, the
#                                  # command that installs it (scripts/setup.sh), then exit 2
#   build_herd                     # cargo build --release; sets `herd` to the binary
#
# Sourcing it sets `here` (the repository) and changes into it, so relative paths (OUT_DIR
# arguments, results/...) are relative to the repository; makes `work`, a temporary directory;
# and on exit stops the processes listed in `pids` (by PID), runs what `at_exit` registered and
# removes `work`. It checks no tool by itself: a script says what it needs with `need`.
# Functions: need, build_herd, at_exit, free_port, median, col, start_nginx.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2

# install_hint TOOL: how to get TOOL: scripts/setup.sh installs every tool the scripts use; the
# package alone, on Debian/Ubuntu, in parentheses.
install_hint() {
  local pkg
  case $1 in
    cargo | rustc) echo "install the Rust toolchain: https://rustup.rs"; return ;;
    perf) pkg=linux-perf ;;
    /usr/bin/time) pkg=time ;;
    ip) pkg=iproute2 ;;
    unshare | mount | umount) pkg=util-linux ;;
    shuf | seq | sort | nproc | mktemp) pkg=coreutils ;;
    *) pkg=$1 ;;
  esac
  echo "run scripts/setup.sh (as root; or only: apt-get install -y $pkg)"
}

# need TOOL...: every TOOL must be on PATH (or, given as a path, executable). Names each missing
# one with its install command and exits 2 if any is missing.
need() {
  local t missing=0
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      echo "${0##*/}: $t is missing: $(install_hint "$t")" >&2
      missing=1
    fi
  done
  if [ "$missing" != 0 ]; then exit 2; fi
}

# build_herd: the release binary, built (quietly) if out of date; sets `herd` to its path.
build_herd() {
  need cargo
  cargo build --release --quiet --manifest-path "$here/Cargo.toml"
  # shellcheck disable=SC2034 # used by the scripts that source this file
  herd="${CARGO_TARGET_DIR:-$here/target}/release/herd"
}

work=$(mktemp -d)
pids=()
exit_hooks=()
# at_exit COMMAND: run COMMAND (a string, evaluated) when the script exits.
at_exit() { exit_hooks+=("$1"); }
cleanup() {
  local p h
  for p in ${pids[@]+"${pids[@]}"}; do kill -TERM "$p" 2>/dev/null || true; done
  for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  for h in ${exit_hooks[@]+"${exit_hooks[@]}"}; do eval "$h" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: a TCP port free on 127.0.0.1 right now (needs python3).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# median X...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# col FILE NAME: NAME's value in the last row of a CSV file (needs python3).
col() { python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1][sys.argv[2]])' "$1" "$2"; }

# start_nginx PORT [WORKER_CONNECTIONS]: nginx with 2 workers and its default accept settings
# (accept_mutex off, multi_accept off, EPOLLEXCLUSIVE where available), access log off,
# worker_connections WORKER_CONNECTIONS (default 4096), answering `ok` on 127.0.0.1:PORT; waits
# until it answers (needs nginx and curl).
start_nginx() {
  mkdir -p "$work/logs"
  cat > "$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections ${2:-4096}; }
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
