//! What the load generator adds to a run's rows and summary: the shape of the load, the raw
//! (uncorrected) latencies, the open-loop lateness, and accept delays per worker.
use super::row::{per, RunRow, WorkerRow};
use crate::load::pacing::Shape;
use crate::load::stats::{quantile_us, Stats};
use crate::load::{LoadConfig, PhaseResult};

/// Fill the load columns of `row`. `server_metrics`: whether the server-side columns were
/// measured (`herd run`) or left empty (`herd load` against an arbitrary server).
pub fn fill_run(
    row: &mut RunRow,
    cfg: &LoadConfig,
    phase: &PhaseResult,
    target: &str,
    server_metrics: bool,
) {
    let s = &phase.stats;
    let elapsed_s = phase.elapsed.as_secs_f64();
    let per_s = |n: u64| {
        if elapsed_s > 0.0 {
            n as f64 / elapsed_s
        } else {
            0.0
        }
    };
    let (rate, burst, burst_interval_ms) = match cfg.shape {
        Shape::Closed => (0.0, 0, 0.0),
        Shape::Open { rate, .. } => (rate, 0, 0.0),
        Shape::Burst { n, interval_ns } => (0.0, n, interval_ns as f64 / 1e6),
        Shape::LongLived { .. } => (0.0, 0, 0.0),
    };
    let raw = &s.raw_latency;
    let late = &s.lateness;
    *row = RunRow {
        conn_per_s: per_s(s.conns_ok),
        rate,
        arrivals: cfg.shape.name().to_string(),
        burst,
        burst_interval_ms,
        requests_per_conn: cfg.requests_per_conn as u64,
        conns_ok: s.conns_ok,
        requests_per_s: per_s(s.ok),
        raw_latency_p50_us: quantile_us(raw, 0.50),
        raw_latency_p90_us: quantile_us(raw, 0.90),
        raw_latency_p99_us: quantile_us(raw, 0.99),
        raw_latency_p999_us: quantile_us(raw, 0.999),
        raw_latency_max_us: quantile_us(raw, 1.0),
        lateness_p50_us: quantile_us(late, 0.50),
        lateness_p99_us: quantile_us(late, 0.99),
        lateness_max_us: quantile_us(late, 1.0),
        late_conns: s.late_conns,
        unstarted_conns: s.unstarted_conns,
        accept_delay_p90_us: quantile_us(&s.accept_delay, 0.90),
        accept_delay_p999_us: quantile_us(&s.accept_delay, 0.999),
        accept_delay_max_us: quantile_us(&s.accept_delay, 1.0),
        target: target.to_string(),
        server_metrics,
        client_cpu_us_per_conn: per(Some(s.cpu_ns), s.conns_ok).map(|ns| ns / 1e3),
        host_cpu_busy_pct: Some(phase.host_busy_pct),
        pacing_quantum_us: cfg.pacing_quantum_ns as f64 / 1e3,
        long_lived_interval_ms: cfg.shape.long_lived_ns().map(|ns| ns as f64 / 1e6),
        status_2xx: Some(s.status[0]),
        status_3xx: Some(s.status[1]),
        status_4xx: Some(s.status[2]),
        status_5xx: Some(s.status[3]),
        late_share: per(Some(s.late_conns), late.len()),
        latency_mean_us: (!s.latency.is_empty()).then(|| s.latency.mean() / 1e3),
        latency_stdev_us: (!s.latency.is_empty()).then(|| s.latency.stdev() / 1e3),
        ..std::mem::take(row)
    };
}

/// `v` with `decimals`, or `n/a`.
pub(crate) fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}"))
}

/// Percentiles `p50 .. max` in whole µs, or `n/a (why)` when none was measured.
pub(crate) fn percentiles(named: &[(&str, Option<f64>)], why: &str) -> String {
    if named.iter().all(|(_, v)| v.is_none()) {
        return format!("n/a ({why})");
    }
    named
        .iter()
        .map(|(n, v)| format!("{n} {}", fmt(*v, 0)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Fill the client-side columns of worker `row.worker`'s row.
pub fn fill_worker(row: &mut WorkerRow, s: &Stats) {
    let w = row.worker as usize;
    row.client_conns = s.per_worker.get(w).copied().unwrap_or(0);
    if let Some(Some(h)) = s.per_worker_accept.get(w) {
        row.accept_delay_p50_us = quantile_us(h, 0.50);
        row.accept_delay_p90_us = quantile_us(h, 0.90);
        row.accept_delay_p99_us = quantile_us(h, 0.99);
        row.accept_delay_p999_us = quantile_us(h, 0.999);
        row.accept_delay_max_us = quantile_us(h, 1.0);
    }
}

/// The summary's `load` line.
pub fn load_line(r: &RunRow) -> String {
    let shape = match r.arrivals.as_str() {
        "uniform" | "poisson" => format!(
            "open loop, {} conn/s ({} arrivals), at most {} in flight",
            r.rate, r.arrivals, r.concurrency
        ),
        "burst" => format!(
            "bursts of {} every {} ms, at most {} in flight",
            r.burst, r.burst_interval_ms, r.concurrency
        ),
        "long-lived" => format!(
            "{} long-lived connections, each sending a request every {} ms",
            r.concurrency,
            r.long_lived_interval_ms.unwrap_or(0.0)
        ),
        _ => format!("closed loop, {} connections", r.concurrency),
    };
    let ka = if r.requests_per_conn > 1 {
        format!(", {} requests per connection", r.requests_per_conn)
    } else {
        String::new()
    };
    let quantum = if r.pacing_quantum_us > 0.0 {
        format!(", timer quantum {} us", r.pacing_quantum_us)
    } else {
        String::new()
    };
    let clients = match r.clients {
        Some(n) => format!(" over {n} clients (merged)"),
        None => String::new(),
    };
    format!(
        "{shape}{quantum}{ka}, {} client threads{clients}",
        r.client_threads
    )
}

/// Host CPU use at or above this (percent) counts as saturated: latencies then include the
/// wait for a CPU, which client and server share.
const SATURATED_PCT: f64 = 95.0;

/// The share of scheduled starts late by more than 1 ms (or never made) above which the
/// generator is said to have fallen behind: past it the lateness p99 exceeds 1 ms, so the
/// schedule the server saw differs from the one asked for in more than the odd start.
pub const LATE_WARN_SHARE: f64 = 0.01;

/// The late share, when it is over [`LATE_WARN_SHARE`].
pub fn fell_behind(r: &RunRow) -> Option<f64> {
    r.late_share.filter(|&f| f > LATE_WARN_SHARE)
}

/// An open loop or bursts on a saturated host. (A closed loop saturates it by design.)
fn saturated(r: &RunRow) -> bool {
    r.host_cpu_busy_pct.is_some_and(|b| b >= SATURATED_PCT) && r.arrivals != "closed"
}

/// Summary lines for the open loop, after the latency line.
pub fn summary_lines(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<26} {v}\n"));
    if r.arrivals != "closed" && !r.arrivals.is_empty() {
        line(
            "raw latency (us)",
            format!(
                "{}  (from the actual start)",
                percentiles(
                    &[
                        ("p50", r.raw_latency_p50_us),
                        ("p90", r.raw_latency_p90_us),
                        ("p99", r.raw_latency_p99_us),
                        ("p99.9", r.raw_latency_p999_us),
                        ("max", r.raw_latency_max_us),
                    ],
                    "no response completed",
                )
            ),
        );
        line(
            "generator lateness (us)",
            format!(
                "{}; {} late (> 1 ms){}, {} never started",
                percentiles(
                    &[
                        ("p50", r.lateness_p50_us),
                        ("p99", r.lateness_p99_us),
                        ("max", r.lateness_max_us),
                    ],
                    "nothing was scheduled",
                ),
                r.late_conns,
                r.late_share
                    .map(|f| format!(" = {:.2}% of the scheduled starts", f * 100.0))
                    .unwrap_or_default(),
                r.unstarted_conns
            ),
        );
        if let Some(share) = fell_behind(r) {
            let why = if saturated(r) {
                "the host's CPUs were saturated, so its threads waited for a CPU: lower --rate, or give the client CPUs of its own (--client-cpus)"
            } else {
                "raise --connections (-c) or --threads (-t)"
            };
            line(
                "WARNING",
                format!(
                    "the generator fell behind its schedule: {:.1}% of the starts began more than 1 ms late or never (over {}%; {why}); corrected latencies still count from the intended starts",
                    share * 100.0,
                    LATE_WARN_SHARE * 100.0
                ),
            );
        }
    }
    line(
        "client CPU",
        format!(
            "{} us/conn; host CPUs {}% busy",
            fmt(r.client_cpu_us_per_conn, 1),
            fmt(r.host_cpu_busy_pct, 0)
        ),
    );
    if saturated(r) {
        line(
            "WARNING",
            format!("the host's CPUs were {}% busy: client and server queued for a CPU, and the latencies include that wait", fmt(r.host_cpu_busy_pct, 0)),
        );
    }
    s
}
