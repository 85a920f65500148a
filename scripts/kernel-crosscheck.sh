#!/usr/bin/env bash
# Check herd's own counters against the kernel's, counted independently with bpftrace.
#
#   scripts/kernel-crosscheck.sh [OUT_DIR]        (root; bpftrace; Linux with BTF)
#   Output: OUT_DIR/crosscheck.csv, crosscheck.md and runs/ (default results/reference/crosscheck)
#
# For each strategy, one `herd run` is started under bpftrace (`bpftrace -c`). bpftrace counts,
# per worker process (a grandchild of that `herd run`: run -> serve master -> worker), and only
# between the two SIGUSR1s `herd run` sends to take its snapshots (so exactly herd's measured
# phase):
#   sched_switch out of the worker, voluntary (prev_state a sleep state) and involuntary
#     (preempted or still runnable), as /proc's voluntary/nonvoluntary_ctxt_switches count them;
#   sched_wakeup of the worker (every return from a sleep);
#   accept4() returns: a connection, -EAGAIN, or another error.
# It then joins these, by pid, with herd's workers.csv of the same run and writes
#   OUT_DIR/crosscheck.csv   one row per worker: herd's figure beside the kernel's
#   OUT_DIR/crosscheck.md    per strategy totals and kernel/herd ratios
#   OUT_DIR/runs/            the herd runs themselves (runs.csv, workers.csv, latency.csv)
# Expect accepted and EAGAIN to match exactly, and the context switches to match within a few
# (the snapshot reads /proc a few microseconds after the SIGUSR1 bpftrace keys on).
#
# OUT_DIR defaults to results/reference/crosscheck, the cross-check committed with the reference
# sweep (scripts/reference-sweep.sh runs this script there).
#
# Environment: HERD (default: target/release/herd, built), STRATEGIES (default: blocking
# sysv-sem epoll-shared epoll-exclusive reuseport), WORKERS (8), CONCURRENCY (4), DURATION (3s),
# WARMUP (500ms).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need bpftrace
[ "$(id -u)" = 0 ] || { echo "kernel-crosscheck: needs root (bpftrace)" >&2; exit 2; }
OUT=${1:-results/reference/crosscheck}
if [ -z "${HERD:-}" ]; then build_herd; HERD=$herd; fi
STRATEGIES=${STRATEGIES:-blocking sysv-sem epoll-shared epoll-exclusive reuseport}
WORKERS=${WORKERS:-8}
CONCURRENCY=${CONCURRENCY:-4}
DURATION=${DURATION:-3s}
WARMUP=${WARMUP:-500ms}
[ -x "$HERD" ] || { echo "kernel-crosscheck: $HERD not built (cargo build --release)" >&2; exit 2; }

# bpftrace finds tracepoints through tracefs; mount it for the duration if it is not there.
if [ ! -e /sys/kernel/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing
    at_exit 'umount /sys/kernel/tracing'
fi

mkdir -p "$OUT/runs"
rm -f "$OUT/crosscheck.csv" "$OUT/crosscheck.md" "$OUT"/runs/*.csv
TMP=$work

cat >"$TMP/count.bt" <<'EOF'
// Workers are grandchildren of the traced `herd run` (cpid). Counting is on between the
// first and the second SIGUSR1 that `herd run` sends (its two scoreboard snapshots).
tracepoint:signal:signal_generate /args->sig == 10 && pid == cpid/ {
    @n = @n + 1;
    @on = @n == 1 ? 1 : 0;
}
tracepoint:sched:sched_switch /curtask->real_parent->real_parent->tgid == cpid/ {
    @worker[pid] = 1;
    if (@on) {
        // Preempted (>= TASK_REPORT_MAX) or still runnable (0): involuntary, as /proc counts.
        if (args->prev_state == 0 || args->prev_state >= 0x100) {
            @invol[pid] = count();
        } else {
            @vol[pid] = count();
        }
    }
}
tracepoint:sched:sched_wakeup /@on && @worker[args->pid]/ {
    @wakeup[args->pid] = count();
}
tracepoint:syscalls:sys_exit_accept4 /@on && curtask->real_parent->real_parent->tgid == cpid/ {
    if (args->ret >= 0) { @accepted[pid] = count(); }
    else if (args->ret == -11) { @eagain[pid] = count(); }
    else { @accept_err[pid] = count(); }
}
END {
    clear(@worker); clear(@n); clear(@on);
}
EOF

echo "strategy,worker,pid,herd_accepted,kernel_accept4_ok,herd_eagain,kernel_accept4_eagain,herd_vol_ctx_switches,kernel_vol_switches,herd_invol_ctx_switches,kernel_invol_switches,herd_wakeups,kernel_sched_wakeups,herd_spurious_wakeups,kernel_accept4_other_err" >"$OUT/crosscheck.csv"

for s in $STRATEGIES; do
    echo "kernel-crosscheck: $s, $WORKERS workers, $DURATION" >&2
    rm -f "$TMP"/*.csv
    bpftrace -q -o "$TMP/bpf.txt" -c "$HERD run --strategy $s --workers $WORKERS --concurrency $CONCURRENCY --duration $DURATION --warmup $WARMUP --out $TMP" "$TMP/count.bt" >"$TMP/run.txt" 2>"$TMP/bpf.err" || {
        echo "kernel-crosscheck: $s failed:" >&2; cat "$TMP/bpf.err" "$TMP/run.txt" >&2; exit 1; }
    for f in runs workers latency; do
        if [ -e "$OUT/runs/$f.csv" ]; then tail -n +2 "$TMP/$f.csv" >>"$OUT/runs/$f.csv"; else cp "$TMP/$f.csv" "$OUT/runs/$f.csv"; fi
    done
    # Join bpftrace's `@map[pid]: n` lines with workers.csv on pid.
    awk -v strategy="$s" '
        FILENAME == ARGV[1] && /^@/ {
            split($0, a, /[][]|: /); m = substr(a[1], 2); bpf[m, a[2]] = a[4]; next
        }
        FILENAME == ARGV[1] { next }
        FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        {
            p = $col["pid"]
            printf "%s,%s,%s,%s,%d,%s,%d,%s,%d,%s,%d,%s,%d,%s,%d\n", strategy, $col["worker"], p,
                $col["accepted"], bpf["accepted", p], $col["eagain"], bpf["eagain", p],
                $col["vol_ctx_switches"], bpf["vol", p], $col["invol_ctx_switches"], bpf["invol", p],
                $col["wakeups"], bpf["wakeup", p], $col["spurious_wakeups"], bpf["accept_err", p]
        }' "$TMP/bpf.txt" FS=, "$TMP/workers.csv" >>"$OUT/crosscheck.csv"
done

# Totals per strategy, with the kernel/herd ratio of each pair.
awk -F, '
    NR == 1 { next }
    { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
      for (i = 4; i <= 15; i++) t[$1, i] += $i }
    function r(a, b) { return b == 0 ? (a == 0 ? "=" : "n/a") : sprintf("%.3f", a / b) }
    END {
        print "| strategy | accepted herd / kernel | EAGAIN herd / kernel | vol. switches herd / kernel | invol. switches herd / kernel | herd wakeups | kernel sched_wakeups | herd spurious |"
        print "|---|---|---|---|---|---:|---:|---:|"
        for (k = 1; k <= n; k++) { s = order[k]
            printf "| %s | %d / %d (%s) | %d / %d (%s) | %d / %d (%s) | %d / %d (%s) | %d | %d | %d |\n", s,
                t[s,4], t[s,5], r(t[s,5], t[s,4]), t[s,6], t[s,7], r(t[s,7], t[s,6]),
                t[s,8], t[s,9], r(t[s,9], t[s,8]), t[s,10], t[s,11], r(t[s,11], t[s,10]),
                t[s,12], t[s,13], t[s,14] }
    }' "$OUT/crosscheck.csv" >"$OUT/crosscheck.md"
{
    echo
    echo "Kernel counts: bpftrace $(bpftrace --version | awk '{print $2}') on Linux $(uname -r), $(nproc) cores,"
    echo "$WORKERS workers, closed loop $CONCURRENCY connections, $DURATION measured; (ratio) = kernel / herd."
    echo "Made by: scripts/kernel-crosscheck.sh $OUT"
} >>"$OUT/crosscheck.md"
cat "$OUT/crosscheck.md"
