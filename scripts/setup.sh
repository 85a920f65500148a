#!/usr/bin/env bash
# Installs every tool the scripts under scripts/ use, on Debian or Ubuntu, as root:
#
#   scripts/setup.sh            install what is missing
#   scripts/setup.sh --check    only list what is missing (exit 1 if anything is)
#
# From the distribution (apt-get): wrk, nginx, bpftrace, strace, GNU time (/usr/bin/time), curl,
# iproute2 (ip), python3 and python3-venv, util-linux (unshare, mount), coreutils. From PyPI:
# gunicorn and uWSGI (pyuwsgi) into the virtual environment target/peers-venv, where
# scripts/peers.sh looks for them. The Rust toolchain is not installed here: see
# https://rustup.rs (Cargo.toml's rust-version is the oldest that builds herd). Every script
# checks its own tools with `need` (scripts/lib/common.sh), which points here when one is missing.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
check=0
case ${1:-} in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--check]" >&2; exit 2 ;;
esac

# command  Debian package
tools=(
  "wrk wrk"
  "nginx nginx"
  "bpftrace bpftrace"
  "strace strace"
  "/usr/bin/time time"
  "curl curl"
  "ip iproute2"
  "python3 python3"
  "unshare util-linux"
  "shuf coreutils"
)
venv="$here/target/peers-venv"
missing=()
for t in "${tools[@]}"; do
  read -r cmd pkg <<<"$t"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# python3 -m venv needs ensurepip, which Debian ships in python3-venv.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
venv_ok=1
[ -x "$venv/bin/gunicorn" ] && [ -x "$venv/bin/uwsgi" ] || venv_ok=0

if [ "$check" = 1 ]; then
  [ ${#missing[@]} = 0 ] || echo "missing packages: ${missing[*]}"
  [ "$venv_ok" = 1 ] || echo "missing: gunicorn and pyuwsgi in $venv"
  if [ ${#missing[@]} = 0 ] && [ "$venv_ok" = 1 ]; then echo "every tool is installed"; exit 0; fi
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root to install: ${missing[*]}" >&2
    exit 2
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
if [ "$venv_ok" = 0 ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q gunicorn pyuwsgi
fi
echo "setup.sh: every tool is installed ($(command -v wrk nginx bpftrace strace | tr '\n' ' ')$venv)"
