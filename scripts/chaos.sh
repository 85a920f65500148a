#!/usr/bin/env bash
# The `herd chaos` table for every strategy, and the reuseport reload comparison (keep vs
# recreate). Usage: scripts/chaos.sh [OUT_DIR]   (default results/chaos)
# Output: OUT_DIR/table.txt and chaos.csv; OUT_DIR/reuseport-{keep,recreate}.txt and folders;
# as root also OUT_DIR/reuseport-recreate-migrate{0,1}.txt and folders (a private network
# namespace with net.ipv4.tcp_migrate_req 0 and 1). OUT_DIR/README.md is written by hand.
# The machine may be shared: rates are noisy; compare rows of one run, not across runs.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
out=${1:-results/chaos}
build_herd
mkdir -p "$out"
"$herd" chaos --strategy all --workers 4 --duration 5s \
  --schedule reload:1s,kill:1s,kill-holder:1s --out "$out" | tee "$out/table.txt"
for mode in keep recreate; do
  "$herd" chaos --strategy reuseport --workers 4 --duration 5s --schedule reload:250ms \
    --reuseport-reload "$mode" --out "$out/reuseport-$mode" | tee "$out/reuseport-$mode.txt"
done
echo "net.ipv4.tcp_migrate_req=$(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null || echo absent)" \
  | tee -a "$out/table.txt"
# With root: the same recreate reloads in a private network namespace (the host's sysctl is
# left alone), with net.ipv4.tcp_migrate_req 0 and 1.
if unshare -n true 2>/dev/null; then
  need ip
  for m in 0 1; do
    unshare -n sh -c "ip link set lo up && echo $m > /proc/sys/net/ipv4/tcp_migrate_req && \
      $herd chaos --strategy reuseport --workers 4 --duration 5s --schedule reload:250ms \
        --reuseport-reload recreate --out $out/reuseport-recreate-migrate$m" \
      | tee "$out/reuseport-recreate-migrate$m.txt"
  done
else
  echo "chaos: not root (unshare -n failed): the tcp_migrate_req namespace runs are skipped" >&2
fi
