#!/usr/bin/env bash
# Regenerate the README's benchmark tables: run `cargo bench` (every group, or only those
# matching the criterion filter given), then print the tables, in Markdown, from criterion's
# results under target/criterion. Figures from an earlier run are kept for groups filtered out.
#
#   scripts/bench-table.sh                 # the whole `cargo bench` (under 10 min on 2 cores)
#   scripts/bench-table.sh locks           # only the lock groups, tables from all results
#   scripts/bench-table.sh --table-only    # no benchmarking, tables from existing results
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
target="${CARGO_TARGET_DIR:-target}"

if [[ "${1:-}" != "--table-only" ]]; then
    if [[ $# -eq 0 ]]; then
        # A full run replaces every figure: drop results of benchmarks that no longer exist.
        rm -rf "$target/criterion/"{locks_uncontended,locks_handoff,accept_path,wakeup,herd-wakeup}
    fi
    start=$(date +%s)
    cargo bench --bench bench_main -- "$@" >&2
    echo "cargo bench took $(( $(date +%s) - start )) s" >&2
fi
cargo build --quiet --release --example bench_table
echo "Measured $(date -u +%Y-%m-%d) on Linux $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), herd $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load average now: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
"$target/release/examples/bench_table" "$target/criterion"
