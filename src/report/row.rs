//! The CSV schema: one [`RunRow`] per run, one [`WorkerRow`] per worker per run, and
//! [`LatencyRow`]s with each latency distribution's percentiles. docs/csv-schema.md documents every
//! column; field order is column order.
use serde::{Deserialize, Serialize};

pub(crate) use super::row_build::{latency_rows, per, RunInputs};

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
    // The strategy's flags, and a hand-off strategy's acceptor (src/report/row_build.rs).
    /// The strategy flags that differ from the defaults (`least`, `accepts-per-wakeup=4`);
    /// `reuseport-ebpf` always names its policy. Empty for a strategy run as it is by default.
    #[serde(default)]
    pub strategy_options: Option<String>,
    /// A hand-off acceptor's wakeups (included in `wakeups`).
    #[serde(default)]
    pub acceptor_wakeups: Option<u64>,
    /// A hand-off acceptor's CPU per accepted connection (included in `cpu_us_per_conn`).
    #[serde(default)]
    pub acceptor_cpu_us_per_conn: Option<f64>,
    /// Connections the acceptor handed to a worker over the phase.
    #[serde(default)]
    pub handoffs: Option<u64>,
    /// Times the acceptor died and was restarted, and the connections the dead acceptors held,
    /// over the server's life up to the end of the phase.
    #[serde(default)]
    pub acceptor_restarts: Option<u64>,
    #[serde(default)]
    pub handoff_lost: Option<u64>,
    // Complete responses by status class (src/report/client.rs fills them); they add up to
    // requests_ok. Empty in files written before them.
    #[serde(default)]
    pub status_2xx: Option<u64>,
    #[serde(default)]
    pub status_3xx: Option<u64>,
    #[serde(default)]
    pub status_4xx: Option<u64>,
    #[serde(default)]
    pub status_5xx: Option<u64>,
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
    /// Mean and standard deviation of the latency (from the intended start), in µs
    /// (src/report/client.rs fills them). Empty in files written before them.
    #[serde(default)]
    pub latency_mean_us: Option<f64>,
    #[serde(default)]
    pub latency_stdev_us: Option<f64>,
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
