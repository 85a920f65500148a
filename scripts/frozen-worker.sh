#!/usr/bin/env bash
# A frozen worker (SIGSTOP, not dead) under every strategy: `freeze` stops a random worker,
# `freeze-holder` the accept-lock holder while it holds the lock (lock strategies only; the
# others show n = 0), each for 1 s at a time over a 3 s faulted part, in both worker models;
# then the lock strategies again with `--lock-watchdog 200ms`, which kills a holder stuck while
# connections wait so that the dead-holder recovery takes over.
# Usage: scripts/frozen-worker.sh [OUT_DIR]   (default results/frozen-worker)
# Output: OUT_DIR/{sync,event,watchdog}.txt and chaos.csv under each folder; OUT_DIR/README.md
# is written by hand. Rates are noisy on a shared machine: read lost and recovery, not c/s.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
out=${1:-results/frozen-worker}
build_herd
mkdir -p "$out"
common=(--workers 4 --duration 3s --baseline 1s --timeout 500ms --schedule freeze:1s,freeze-holder:1s)
for model in sync event; do
  "$herd" chaos --strategy all --worker-model "$model" "${common[@]}" --out "$out/$model" \
    | tee "$out/$model.txt"
done
log=$(mktemp)
at_exit "rm -f $log"
for s in sysv-sem pthread-mutex fcntl flock posix-sem accept-mutex; do
  "$herd" chaos --strategy "$s" "${common[@]}" --lock-watchdog 200ms --out "$out/watchdog"
done | tee "$log"
"$herd" chaos --strategy accept-mutex --worker-model event "${common[@]}" --lock-watchdog 200ms \
  --out "$out/watchdog" | tee -a "$log"
# One table: the first header, then the rows of every run.
{ grep -m1 '^strategy' "$log"; grep -v '^strategy' "$log"; } > "$out/watchdog.txt"
