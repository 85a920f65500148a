//! Building the rows of one run from the client's figures and the server's counters.
use super::row::{LatencyRow, RunRow, WorkerRow};
use crate::load::stats::{quantile_us, ErrorKind, Stats};
use crate::metrics::fairness::{jain_index, max_share};
use crate::metrics::{HostInfo, Snapshot, WorkerSample};
use hdrhistogram::Histogram;

/// The percentiles written to latency.csv: enough points to draw a CDF with its tail.
pub const PERCENTILES: &[f64] = &[
    0.0, 1.0, 5.0, 10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 90.0, 95.0, 97.5,
    99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
];

/// Everything one run produced, before it becomes rows.
pub struct RunInputs<'a> {
    pub run_id: &'a str,
    pub strategy: &'a str,
    pub mode: &'a str,
    pub workers: usize,
    pub concurrency: usize,
    pub client_threads: usize,
    pub work_us: u64,
    pub sleep_us: u64,
    pub elapsed_s: f64,
    pub client: &'a Stats,
    /// The server's counters over exactly the measured phase; `None` when no server was
    /// measured (`herd load`): its columns are then left empty.
    pub server: Option<&'a Snapshot>,
    pub host: &'a HostInfo,
}

/// `n / d`; `None` when `d` is 0 (a ratio over nothing is no figure) or `n` is unknown.
pub(crate) fn per(n: Option<u64>, d: u64) -> Option<f64> {
    let n = n?;
    (d > 0).then(|| n as f64 / d as f64)
}

fn ticks_s(ticks: Option<u64>, per_s: u64) -> Option<f64> {
    let t = ticks?;
    (per_s > 0).then(|| t as f64 / per_s as f64)
}

impl RunRow {
    pub fn build(i: &RunInputs<'_>, timestamp: String) -> Self {
        let c = i.client;
        let h = &c.latency;
        let row = RunRow {
            run_id: i.run_id.to_string(),
            timestamp,
            strategy: i.strategy.to_string(),
            mode: i.mode.to_string(),
            workers: i.workers as u64,
            concurrency: i.concurrency as u64,
            client_threads: i.client_threads as u64,
            duration_s: i.elapsed_s,
            work_us: i.work_us,
            sleep_us: i.sleep_us,
            requests_ok: c.ok,
            errors: c.errors_total(),
            err_refused: c.errors_of(ErrorKind::Refused),
            err_reset: c.errors_of(ErrorKind::Reset),
            err_timeout: c.errors_of(ErrorKind::Timeout),
            err_short: c.errors_of(ErrorKind::ShortResponse),
            err_other: c.errors_other(),
            conn_per_s: if i.elapsed_s > 0.0 {
                c.ok as f64 / i.elapsed_s
            } else {
                0.0
            },
            latency_p50_us: quantile_us(h, 0.50),
            latency_p90_us: quantile_us(h, 0.90),
            latency_p99_us: quantile_us(h, 0.99),
            latency_p999_us: quantile_us(h, 0.999),
            latency_max_us: quantile_us(h, 1.0),
            connect_p50_us: quantile_us(&c.connect, 0.50),
            connect_p99_us: quantile_us(&c.connect, 0.99),
            accept_delay_p50_us: quantile_us(&c.accept_delay, 0.50),
            accept_delay_p99_us: quantile_us(&c.accept_delay, 0.99),
            kernel: i.host.kernel.clone(),
            nproc: i.host.nproc,
            herd_version: i.host.herd_version.clone(),
            ..Default::default()
        };
        match i.server {
            Some(s) => row.with_server(s),
            None => row,
        }
    }

    /// The server-side columns, from the server's counters over the measured phase. A kernel
    /// count missing for any worker leaves its columns empty. A hand-off acceptor's wakeups,
    /// context switches and CPU count in the server's (it is part of the server's cost), not
    /// in the per-worker shares.
    fn with_server(self, s: &Snapshot) -> Self {
        let accepted = s.total(|w| w.accepted);
        let vol = s.server_total_known(|w| w.vol_ctx_switches);
        let invol = s.server_total_known(|w| w.invol_ctx_switches);
        let ctx = vol.zip(invol).map(|(v, i)| v + i);
        let shares: Vec<u64> = s.workers.iter().map(|w| w.accepted).collect();
        let sum = |f: fn(&WorkerSample) -> u64| Some(s.server_total(f));
        let acceptor = s.acceptor.as_ref();
        RunRow {
            accepted: Some(accepted),
            wakeups: sum(|w| w.wakeups),
            spurious_wakeups: sum(|w| w.spurious_wakeups),
            eagain: sum(|w| w.eagain),
            accept_errors: sum(|w| {
                w.accept_err_no_fds + w.accept_err_connaborted + w.accept_err_other
            }),
            wakeups_per_accept: per(sum(|w| w.wakeups), accepted),
            spurious_per_accept: per(sum(|w| w.spurious_wakeups), accepted),
            eagain_per_accept: per(sum(|w| w.eagain), accepted),
            lock_acquires: sum(|w| w.lock_acquires),
            lock_wait_us_per_accept: per(sum(|w| w.lock_wait_ns), accepted).map(|ns| ns / 1e3),
            vol_ctx_switches: vol,
            invol_ctx_switches: invol,
            ctx_switches_per_accept: per(ctx, accepted),
            cpu_user_s: ticks_s(s.server_total_known(|w| w.utime_ticks), s.ticks_per_s),
            cpu_sys_s: ticks_s(s.server_total_known(|w| w.stime_ticks), s.ticks_per_s),
            cpu_us_per_conn: per(s.server_total_known(|w| w.cpu_ns), accepted).map(|ns| ns / 1e3),
            jain_fairness: jain_index(&shares),
            max_worker_share: max_share(&shares),
            acceptor_wakeups: acceptor.map(|a| a.wakeups),
            acceptor_cpu_us_per_conn: acceptor
                .and_then(|a| per(a.cpu_ns, accepted))
                .map(|ns| ns / 1e3),
            handoffs: acceptor.map(|a| a.handoffs),
            acceptor_restarts: acceptor.map(|a| a.restarts),
            handoff_lost: acceptor.map(|_| s.handoff_lost),
            ..self
        }
    }
}

impl WorkerRow {
    /// The row of worker `w` of the measured server `server`.
    pub fn build(i: &RunInputs<'_>, server: &Snapshot, w: &WorkerSample) -> Self {
        let total = server.total(|w| w.accepted);
        let tps = server.ticks_per_s;
        WorkerRow {
            run_id: i.run_id.to_string(),
            strategy: i.strategy.to_string(),
            workers: i.workers as u64,
            worker: w.worker as u64,
            pid: w.pid,
            accepted: Some(w.accepted),
            share: per(Some(w.accepted), total),
            wakeups: Some(w.wakeups),
            spurious_wakeups: Some(w.spurious_wakeups),
            eagain: Some(w.eagain),
            lock_acquires: Some(w.lock_acquires),
            lock_wait_us: Some(w.lock_wait_ns as f64 / 1000.0),
            vol_ctx_switches: w.vol_ctx_switches,
            invol_ctx_switches: w.invol_ctx_switches,
            cpu_user_s: ticks_s(w.utime_ticks, tps),
            cpu_sys_s: ticks_s(w.stime_ticks, tps),
            cpu_ms: w.cpu_ns.map(|ns| ns as f64 / 1e6),
            busy_ms: Some(w.busy_ns as f64 / 1e6),
            ..Default::default()
        }
    }
}

/// The percentile rows of one distribution.
pub fn latency_rows(i: &RunInputs<'_>, metric: &str, h: &Histogram<u64>) -> Vec<LatencyRow> {
    if h.is_empty() {
        return Vec::new();
    }
    PERCENTILES
        .iter()
        .filter_map(|&p| {
            Some(LatencyRow {
                run_id: i.run_id.to_string(),
                strategy: i.strategy.to_string(),
                workers: i.workers as u64,
                metric: metric.to_string(),
                percentile: p,
                value_us: quantile_us(h, p / 100.0)?,
                count: h.len(),
            })
        })
        .collect()
}
