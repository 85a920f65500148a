//! `chaos.csv`: one row per strategy per fault kind (one schedule item = one segment with its
//! own server), and the table `herd chaos` prints.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChaosRow {
    pub run_id: String,
    pub timestamp: String,
    pub strategy: String,
    pub workers: u64,
    pub concurrency: u64,
    /// `reload`, `kill` or `kill-holder`.
    pub fault: String,
    pub interval_s: f64,
    /// The faulted part of the segment (the recovery tail after it not included).
    pub duration_s: f64,
    /// Faults applied (0 for `kill-holder` on a strategy without a lock: not applicable).
    pub faults_applied: u64,
    /// Client side, over the faulted part and its tail.
    pub requests_ok: u64,
    pub errors: u64,
    pub err_refused: u64,
    pub err_reset: u64,
    pub err_timeout: u64,
    pub err_short: u64,
    pub err_other: u64,
    /// Median phase rate before the first fault, conn/s.
    pub baseline_conn_per_s: f64,
    /// Over the faulted part and its tail.
    pub conn_per_s: f64,
    pub recovered: u64,
    pub unrecovered: u64,
    pub recovery_p50_ms: f64,
    pub recovery_max_ms: f64,
    /// `worker-exit` lines: workers that died while serving.
    pub worker_deaths: u64,
    /// Restarts the master counted (scoreboard, summed over the final workers' slots).
    pub restarts: u64,
    pub reloads: u64,
    /// Serving workers in the final scoreboard, all claimed and alive.
    pub final_workers: u64,
    /// Final check: `workers` workers serving and a probe of 200 connections all answered.
    pub serving_after: bool,
    pub reuseport_reload: String,
    /// net.ipv4.tcp_migrate_req (-1: the kernel has none).
    pub tcp_migrate_req: i64,
    pub phase_ms: f64,
    pub kernel: String,
    pub nproc: u64,
    pub herd_version: String,
    // Added after the first schema: files written before them read as empty.
    /// `sync` or `event`.
    #[serde(default)]
    pub worker_model: String,
    /// Requests per connection of the load (above 1: keep-alive; `requests_ok` counts
    /// requests).
    #[serde(default)]
    pub requests_per_conn: u64,
}

/// The printed table: a header and one line per row.
pub fn table(rows: &[ChaosRow]) -> String {
    let mut s = format!(
        "{:<16} {:<11} {:>5} {:>8} {:>6} {:>22} {:>9} {:>9} {:>15} {:>5} {:>8} {:>6}\n",
        "strategy",
        "fault",
        "n",
        "ok",
        "lost",
        "refused/reset/tmo/short",
        "base c/s",
        "c/s",
        "recov p50/max",
        "unrec",
        "restarts",
        "serves"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:<11} {:>5} {:>8} {:>6} {:>22} {:>9.0} {:>9.0} {:>15} {:>5} {:>8} {:>6}\n",
            r.strategy,
            r.fault,
            if r.faults_applied == 0 && r.fault == "kill-holder" {
                "n/a".to_string()
            } else {
                r.faults_applied.to_string()
            },
            r.requests_ok,
            r.errors,
            format!(
                "{}/{}/{}/{}",
                r.err_refused, r.err_reset, r.err_timeout, r.err_short
            ),
            r.baseline_conn_per_s,
            r.conn_per_s,
            format!("{:.0}/{:.0} ms", r.recovery_p50_ms, r.recovery_max_ms),
            r.unrecovered,
            r.restarts,
            if r.serving_after { "yes" } else { "NO" }
        ));
    }
    s
}
