#!/usr/bin/env bash
# Regenerate the benchmark tables of docs/benchmarks.md: run `cargo bench` (every group, or only
# those matching the criterion filter given), then write the tables, in Markdown, from
# criterion's results under target/criterion, into docs/benchmarks.md between the lines
# `<!-- bench-table: begin ... -->` and `<!-- bench-table: end -->` (the rest of that file is
# written by hand), and print them. Figures from an earlier run are kept for groups filtered out.
#
#   scripts/bench-table.sh                 # the whole `cargo bench` (under 10 min on 2 cores)
#   scripts/bench-table.sh locks           # only the lock groups, tables from all results
#   scripts/bench-table.sh --table-only    # no benchmarking, tables from existing results
#
# Output: docs/benchmarks.md, and the figures behind its tables as CSV in results/benchmarks/
# (criterion.csv: each benchmark's median and 95% interval; wakeup.csv: the wakeup
# percentiles). Criterion's own results stay in target/criterion/.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need cargo
export CARGO_TERM_COLOR=never
target="${CARGO_TARGET_DIR:-target}"
doc=docs/benchmarks.md
begin='<!-- bench-table: begin (written by scripts/bench-table.sh; edit the script, not these lines) -->'
end='<!-- bench-table: end -->'
if ! grep -qxF "$begin" "$doc" || ! grep -qxF "$end" "$doc"; then
    echo "bench-table: $doc lacks the marker lines; expected, each on a line of its own:" >&2
    printf '  %s\n' "$begin" "$end" >&2
    exit 1
fi

if [[ "${1:-}" != "--table-only" ]]; then
    if [[ $# -eq 0 ]]; then
        # A full run replaces every figure: drop results of benchmarks that no longer exist.
        rm -rf "$target/criterion/"{locks_uncontended,locks_handoff,accept_path,wakeup,herd-wakeup,series}
    fi
    start=$(date +%s)
    cargo bench --bench bench_main -- "$@" >&2
    echo "cargo bench took $(( $(date +%s) - start )) s" >&2
fi
cargo build --quiet --release --example bench_table
{
    echo "Measured $(date -u +%Y-%m-%d) on Linux $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), herd $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load average now: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    "$target/release/examples/bench_table" "$target/criterion" results/benchmarks
} >"$work/tables.md"

# Replace what lies between the markers; keep everything else.
awk -v b="$begin" -v e="$end" -v f="$work/tables.md" '
    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip' "$doc" >"$work/doc.md"
cat "$work/doc.md" >"$doc"
cat "$work/tables.md"
echo "bench-table: tables written to $doc" >&2
