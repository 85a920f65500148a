//! The CSV schema: one [`RunRow`] per run, one [`WorkerRow`] per worker per run, and
//! [`LatencyRow`]s with each latency distribution's percentiles. docs/csv-schema.md documents every
//! column; field order is column order.
use crate::load::stats::{quantile_us, ErrorKind, Stats};
use crate::metrics::fairness::{jain_index, max_share};
use crate::metrics::{HostInfo, Snapshot, WorkerSample};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub run_id: String,
    pub timestamp: String,
    pub strategy: String,
    pub mode: String,
    pub workers: u64,
    pub concurrency: u64,
    pub client_threads: u64,
    pub duration_s: f64,
    pub work_us: u64,
    pub sleep_us: u64,
    pub requests_ok: u64,
    pub errors: u64,
    pub err_refused: u64,
    pub err_reset: u64,
    pub err_timeout: u64,
    pub err_short: u64,
    pub err_other: u64,
    pub conn_per_s: f64,
    pub latency_p50_us: Option<f64>,
    pub latency_p90_us: Option<f64>,
    pub latency_p99_us: Option<f64>,
    pub latency_p999_us: Option<f64>,
    pub latency_max_us: Option<f64>,
    pub connect_p50_us: Option<f64>,
    pub connect_p99_us: Option<f64>,
    pub accept_delay_p50_us: Option<f64>,
    pub accept_delay_p99_us: Option<f64>,
    pub accepted: Option<u64>,
    pub wakeups: Option<u64>,
    pub spurious_wakeups: Option<u64>,
    pub eagain: Option<u64>,
    pub accept_errors: Option<u64>,
    pub wakeups_per_accept: Option<f64>,
    pub spurious_per_accept: Option<f64>,
    pub eagain_per_accept: Option<f64>,
    pub lock_acquires: Option<u64>,
    pub lock_wait_us_per_accept: Option<f64>,
    pub vol_ctx_switches: Option<u64>,
    pub invol_ctx_switches: Option<u64>,
    pub ctx_switches_per_accept: Option<f64>,
    pub cpu_user_s: Option<f64>,
    pub cpu_sys_s: Option<f64>,
    pub cpu_us_per_conn: Option<f64>,
    pub jain_fairness: Option<f64>,
    pub max_worker_share: Option<f64>,
    pub kernel: String,
    pub nproc: u64,
    pub herd_version: String,
    // Load shape and open-loop columns (src/report/client.rs fills them).
    pub rate: f64,
    pub arrivals: String,
    pub burst: u64,
    pub burst_interval_ms: f64,
    pub requests_per_conn: u64,
    pub conns_ok: u64,
    pub requests_per_s: f64,
    pub raw_latency_p50_us: Option<f64>,
    pub raw_latency_p90_us: Option<f64>,
    pub raw_latency_p99_us: Option<f64>,
    pub raw_latency_p999_us: Option<f64>,
    pub raw_latency_max_us: Option<f64>,
    pub lateness_p50_us: Option<f64>,
    pub lateness_p99_us: Option<f64>,
    pub lateness_max_us: Option<f64>,
    pub late_conns: u64,
    pub unstarted_conns: u64,
    pub accept_delay_p90_us: Option<f64>,
    pub accept_delay_p999_us: Option<f64>,
    pub accept_delay_max_us: Option<f64>,
    pub target: String,
    pub server_metrics: bool,
    // Added after the first schema: files written before them read as empty (or 0).
    #[serde(default)]
    pub client_cpu_us_per_conn: Option<f64>,
    #[serde(default)]
    pub host_cpu_busy_pct: Option<f64>,
    #[serde(default)]
    pub pacing_quantum_us: f64,
    // Server measured from outside, and the accept queue (report/kernel.rs fills them). Empty
    // when not measured.
    /// Where the server-side columns come from: `scoreboard` (herd's own server), `procfs`
    /// (any server's processes, `herd load --server-pid`: kernel columns only), with `+header`
    /// when per-worker connections come from a response header.
    #[serde(default)]
    pub server_source: Option<String>,
    /// The PIDs given to `--server-pid`, space separated.
    #[serde(default)]
    pub server_pids: Option<String>,
    /// Processes and threads of the server's tree seen over the phase.
    #[serde(default)]
    pub server_processes: Option<u64>,
    #[serde(default)]
    pub server_threads: Option<u64>,
    /// Threads that exited during the phase (their last moments are not counted).
    #[serde(default)]
    pub server_threads_exited: Option<u64>,
    /// The largest share of the workers' CPU time one worker took.
    #[serde(default)]
    pub max_worker_cpu_share: Option<f64>,
    /// The response header per-worker connections were counted by (`--worker-header`).
    #[serde(default)]
    pub worker_header: Option<String>,
    /// Listening sockets seen on the target port, and the largest backlog among them.
    #[serde(default)]
    pub listeners: Option<u64>,
    #[serde(default)]
    pub listen_backlog: Option<u64>,
    /// sock_diag dumps taken over the phase.
    #[serde(default)]
    pub accept_queue_samples: Option<u64>,
    /// The deepest one listener's accept queue was at a sample.
    #[serde(default)]
    pub accept_queue_max: Option<u64>,
    /// Mean over the samples of the connections waiting in all listeners together.
    #[serde(default)]
    pub accept_queue_mean: Option<f64>,
    /// The highest mean depth of any one listener (with one listener: `accept_queue_mean`).
    #[serde(default)]
    pub accept_queue_busiest_mean: Option<f64>,
    /// TcpExt counters over the phase, for the whole network namespace.
    #[serde(default)]
    pub listen_overflows: Option<u64>,
    #[serde(default)]
    pub listen_drops: Option<u64>,
    #[serde(default)]
    pub reqq_full_drop: Option<u64>,
    #[serde(default)]
    pub reqq_full_do_cookies: Option<u64>,
    // The worker model and the spread of connections and requests over the workers
    // (src/report/skew.rs fills them; empty when not measured).
    #[serde(default)]
    pub worker_model: String,
    #[serde(default)]
    pub worker_connections: Option<u64>,
    #[serde(default)]
    pub requests_served: Option<u64>,
    #[serde(default)]
    pub open_mean: Option<f64>,
    #[serde(default)]
    pub open_max: Option<u64>,
    #[serde(default)]
    pub open_max_share: Option<f64>,
    #[serde(default)]
    pub request_jain: Option<f64>,
    #[serde(default)]
    pub request_max_share: Option<f64>,
    #[serde(default)]
    pub long_lived_interval_ms: Option<f64>,
    // The CPU partition, the host's CPU time by whom (% of wall time x CPUs: herd's client
    // process, the server's threads, interrupts charged to no task, steal, all else), the
    // backlog asked for and somaxconn, the clients a `herd merge` row combines, and the share of
    // late starts (src/report/noise.rs, merge.rs, client.rs; docs/csv-schema.md).
    #[serde(default)]
    pub server_cpus: Option<String>,
    #[serde(default)]
    pub client_cpus: Option<String>,
    #[serde(default)]
    pub client_cpu_pct: Option<f64>,
    #[serde(default)]
    pub server_cpu_pct: Option<f64>,
    #[serde(default)]
    pub foreign_cpu_pct: Option<f64>,
    #[serde(default)]
    pub steal_pct: Option<f64>,
    #[serde(default)]
    pub irq_cpu_pct: Option<f64>,
    #[serde(default)]
    pub backlog: Option<u64>,
    #[serde(default)]
    pub somaxconn: Option<u64>,
    #[serde(default)]
    pub clients: Option<u64>,
    #[serde(default)]
    pub late_share: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    pub run_id: String,
    pub strategy: String,
    pub workers: u64,
    pub worker: u64,
    pub pid: u64,
    pub accepted: Option<u64>,
    pub share: Option<f64>,
    pub wakeups: Option<u64>,
    pub spurious_wakeups: Option<u64>,
    pub eagain: Option<u64>,
    pub lock_acquires: Option<u64>,
    pub lock_wait_us: Option<f64>,
    pub vol_ctx_switches: Option<u64>,
    pub invol_ctx_switches: Option<u64>,
    pub cpu_user_s: Option<f64>,
    pub cpu_sys_s: Option<f64>,
    pub cpu_ms: Option<f64>,
    pub busy_ms: Option<f64>,
    // Client-side per-worker columns (src/report/client.rs fills them).
    pub client_conns: u64,
    pub accept_delay_p50_us: Option<f64>,
    pub accept_delay_p90_us: Option<f64>,
    pub accept_delay_p99_us: Option<f64>,
    pub accept_delay_p999_us: Option<f64>,
    pub accept_delay_max_us: Option<f64>,
    // Added with `herd load --server-pid` (report/kernel.rs fills them).
    /// `master`, `worker`, or `header` for a worker known only by the response header's value.
    #[serde(default)]
    pub role: Option<String>,
    /// The thread, for a row that is one thread of a one-process server.
    #[serde(default)]
    pub tid: Option<u64>,
    /// This worker's share of the workers' CPU time.
    #[serde(default)]
    pub cpu_share: Option<f64>,
    /// Started, or exited, during the phase.
    #[serde(default)]
    pub started_in_phase: Option<bool>,
    #[serde(default)]
    pub exited_in_phase: Option<bool>,
    // The spread of connections and requests (src/report/skew.rs fills them).
    #[serde(default)]
    pub requests: Option<u64>,
    #[serde(default)]
    pub request_share: Option<f64>,
    #[serde(default)]
    pub open_mean: Option<f64>,
    #[serde(default)]
    pub open_max: Option<u64>,
    #[serde(default)]
    pub open_share: Option<f64>,
}

/// One listening socket's accept queue over a run (listeners.csv).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenerRow {
    pub run_id: String,
    pub strategy: String,
    pub workers: u64,
    /// The socket's inode (`socket:[INODE]` in /proc/PID/fd).
    pub inode: u64,
    pub addr: String,
    pub port: u64,
    pub backlog: u64,
    pub samples: u64,
    pub queue_max: u64,
    pub queue_mean: f64,
    /// The server's processes holding it, space separated (empty when not known).
    pub holders: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyRow {
    pub run_id: String,
    pub strategy: String,
    pub workers: u64,
    /// `latency`, `raw_latency`, `connect` or `accept_delay`.
    pub metric: String,
    pub percentile: f64,
    pub value_us: f64,
    /// How many values the distribution holds.
    pub count: u64,
}

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
    /// count missing for any worker leaves its columns empty.
    fn with_server(self, s: &Snapshot) -> Self {
        let accepted = s.total(|w| w.accepted);
        let vol = s.total_known(|w| w.vol_ctx_switches);
        let invol = s.total_known(|w| w.invol_ctx_switches);
        let ctx = vol.zip(invol).map(|(v, i)| v + i);
        let shares: Vec<u64> = s.workers.iter().map(|w| w.accepted).collect();
        let sum = |f: fn(&WorkerSample) -> u64| Some(s.total(f));
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
            cpu_user_s: ticks_s(s.total_known(|w| w.utime_ticks), s.ticks_per_s),
            cpu_sys_s: ticks_s(s.total_known(|w| w.stime_ticks), s.ticks_per_s),
            cpu_us_per_conn: per(s.total_known(|w| w.cpu_ns), accepted).map(|ns| ns / 1e3),
            jain_fairness: jain_index(&shares),
            max_worker_share: max_share(&shares),
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
