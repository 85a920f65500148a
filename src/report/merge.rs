//! One run's rows from several clients (`herd load --run-id ID` on several hosts or
//! processes) combined into the row of the whole run, as `herd merge` writes it:
//!
//! - counts add (connections, requests, errors of each kind, late and unstarted starts, the
//!   connections in flight and client threads, which were each client's own);
//! - rates add (conn/s, req/s, the open-loop rate asked for), each client's over its own phase;
//! - percentiles come from the clients' histograms added up, never from averaging percentiles;
//! - the client's CPU per connection is weighted by each client's connections;
//! - the figures of each client's host (its CPUs busy, foreign, steal, interrupts) are the
//!   highest of any client: whether any client host was saturated or disturbed;
//! - the server's columns stay empty: no client measured the server (the fleet script reads
//!   the server's own count instead).
use super::row::{per, RunRow};
use crate::load::stats::quantile_us;
use hdrhistogram::Histogram;

/// Every percentile column of `row`, from the histograms by their tags (`latency`,
/// `raw_latency`, `connect`, `accept_delay`, `lateness`); a missing one leaves its columns
/// empty.
fn fill_percentiles<'a>(row: &mut RunRow, get: impl Fn(&str) -> Option<&'a Histogram<u64>>) {
    let q = |tag: &str, q: f64| get(tag).and_then(|h| quantile_us(h, q));
    row.latency_p50_us = q("latency", 0.5);
    row.latency_p90_us = q("latency", 0.9);
    row.latency_p99_us = q("latency", 0.99);
    row.latency_p999_us = q("latency", 0.999);
    row.latency_max_us = q("latency", 1.0);
    row.raw_latency_p50_us = q("raw_latency", 0.5);
    row.raw_latency_p90_us = q("raw_latency", 0.9);
    row.raw_latency_p99_us = q("raw_latency", 0.99);
    row.raw_latency_p999_us = q("raw_latency", 0.999);
    row.raw_latency_max_us = q("raw_latency", 1.0);
    row.connect_p50_us = q("connect", 0.5);
    row.connect_p99_us = q("connect", 0.99);
    row.accept_delay_p50_us = q("accept_delay", 0.5);
    row.accept_delay_p90_us = q("accept_delay", 0.9);
    row.accept_delay_p99_us = q("accept_delay", 0.99);
    row.accept_delay_p999_us = q("accept_delay", 0.999);
    row.accept_delay_max_us = q("accept_delay", 1.0);
    row.lateness_p50_us = q("lateness", 0.5);
    row.lateness_p99_us = q("lateness", 0.99);
    row.lateness_max_us = q("lateness", 1.0);
    row.late_share = get("lateness").and_then(|h| per(Some(row.late_conns), h.len()));
}

/// Counts and rates added; `None` for an empty list.
pub fn rows(parts: &[RunRow], hists: &[(String, Histogram<u64>)]) -> Option<RunRow> {
    let first = parts.first()?;
    let sum = |f: fn(&RunRow) -> u64| parts.iter().map(f).sum::<u64>();
    let add = |f: fn(&RunRow) -> f64| parts.iter().map(f).sum::<f64>();
    let max = |f: fn(&RunRow) -> Option<f64>| {
        parts
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let same = |f: fn(&RunRow) -> Option<String>| {
        let v = f(first);
        parts.iter().all(|r| f(r) == v).then_some(v).flatten()
    };
    let conns = sum(|r| r.conns_ok);
    let cpu = parts
        .iter()
        .filter_map(|r| Some(r.client_cpu_us_per_conn? * r.conns_ok as f64))
        .sum::<f64>();
    let timestamp = parts
        .iter()
        .map(|r| r.timestamp.clone())
        .min()
        .unwrap_or_default();
    let mut row = RunRow {
        run_id: first.run_id.clone(),
        timestamp,
        strategy: first.strategy.clone(),
        mode: first.mode.clone(),
        workers: first.workers,
        concurrency: sum(|r| r.concurrency),
        client_threads: sum(|r| r.client_threads),
        duration_s: parts.iter().map(|r| r.duration_s).fold(0.0, f64::max),
        work_us: first.work_us,
        sleep_us: first.sleep_us,
        requests_ok: sum(|r| r.requests_ok),
        errors: sum(|r| r.errors),
        err_refused: sum(|r| r.err_refused),
        err_reset: sum(|r| r.err_reset),
        err_timeout: sum(|r| r.err_timeout),
        err_short: sum(|r| r.err_short),
        err_other: sum(|r| r.err_other),
        conn_per_s: add(|r| r.conn_per_s),
        kernel: first.kernel.clone(),
        nproc: first.nproc,
        herd_version: first.herd_version.clone(),
        rate: add(|r| r.rate),
        arrivals: first.arrivals.clone(),
        burst: sum(|r| r.burst),
        burst_interval_ms: first.burst_interval_ms,
        requests_per_conn: first.requests_per_conn,
        conns_ok: conns,
        requests_per_s: add(|r| r.requests_per_s),
        late_conns: sum(|r| r.late_conns),
        unstarted_conns: sum(|r| r.unstarted_conns),
        target: first.target.clone(),
        client_cpu_us_per_conn: (conns > 0
            && parts.iter().all(|r| r.client_cpu_us_per_conn.is_some()))
        .then(|| cpu / conns as f64),
        host_cpu_busy_pct: max(|r| r.host_cpu_busy_pct),
        pacing_quantum_us: first.pacing_quantum_us,
        worker_model: first.worker_model.clone(),
        long_lived_interval_ms: first.long_lived_interval_ms,
        server_cpus: same(|r| r.server_cpus.clone()),
        client_cpus: same(|r| r.client_cpus.clone()),
        client_cpu_pct: max(|r| r.client_cpu_pct),
        foreign_cpu_pct: max(|r| r.foreign_cpu_pct),
        steal_pct: max(|r| r.steal_pct),
        irq_cpu_pct: max(|r| r.irq_cpu_pct),
        clients: Some(parts.len() as u64),
        ..Default::default()
    };
    fill_percentiles(&mut row, |tag| {
        hists.iter().find(|(t, _)| t == tag).map(|(_, h)| h)
    });
    Some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::{histogram, quantile_us};

    #[test]
    fn counts_and_rates_add_and_percentiles_come_from_the_added_histograms() {
        let part = |conns: u64, rate: f64, cpu: f64| RunRow {
            run_id: "fleet-1".into(),
            timestamp: format!("2026-01-01T00:00:0{conns}Z"),
            conns_ok: conns,
            requests_ok: conns,
            errors: 1,
            conn_per_s: rate,
            concurrency: 8,
            client_cpu_us_per_conn: Some(cpu),
            foreign_cpu_pct: Some(rate / 1000.0),
            latency_p50_us: Some(1e9),
            ..Default::default()
        };
        let (mut all, mut other) = (histogram(), histogram());
        for v in 1..=1000u64 {
            all.record(v * 1000).unwrap();
        }
        other.record(5).unwrap();
        let hists = vec![
            ("latency".to_string(), all.clone()),
            ("connect".into(), other),
        ];
        let r = rows(&[part(3, 3000.0, 10.0), part(1, 1000.0, 30.0)], &hists).unwrap();
        assert_eq!(
            (r.conns_ok, r.requests_ok, r.errors, r.concurrency),
            (4, 4, 2, 16)
        );
        assert_eq!(r.conn_per_s, 4000.0);
        assert_eq!(r.client_cpu_us_per_conn, Some(15.0));
        assert_eq!(r.foreign_cpu_pct, Some(3.0));
        assert_eq!(r.timestamp, "2026-01-01T00:00:01Z");
        assert_eq!(r.clients, Some(2));
        assert_eq!(r.latency_p50_us, quantile_us(&all, 0.5));
        assert_eq!(r.latency_p99_us, quantile_us(&all, 0.99));
        assert_eq!(r.raw_latency_p50_us, None, "no raw_latency histogram given");
        assert_eq!(r.accepted, None);
        assert!(rows(&[], &hists).is_none());
    }
}
