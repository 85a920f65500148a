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
    /// `reload`, `kill`, `kill-holder` or `kill-acceptor`.
    pub fault: String,
    pub interval_s: f64,
    /// The faulted part of the segment (the recovery tail after it not included).
    pub duration_s: f64,
    /// Faults applied (0 for `kill-holder` on a strategy without a lock, `kill-acceptor` on one
    /// without an acceptor: not applicable).
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
    /// Empty when no fault recovered (or none was applied).
    pub recovery_p50_ms: Option<f64>,
    pub recovery_max_ms: Option<f64>,
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
    /// A hand-off strategy's acceptor: times the master restarted it after it died, and the
    /// connections the dead acceptors held (taken from the kernel, not handed to a worker),
    /// over the segment. Empty for other strategies.
    #[serde(default)]
    pub acceptor_restarts: Option<u64>,
    #[serde(default)]
    pub handoff_lost: Option<u64>,
    /// `--server-cpus`, `--client-cpus` (empty: not pinned).
    #[serde(default)]
    pub server_cpus: Option<String>,
    #[serde(default)]
    pub client_cpus: Option<String>,
}

/// A recovery time at the resolution it has: the recovery is known to have happened by the
/// start of the first good phase, and the phase before it was not good, so it is known to one
/// phase. Printed as the upper bound rounded up to whole phases: `<50` (no phase was
/// disrupted), `≤100`; `-` when nothing recovered.
fn at_phase(ms: Option<f64>, phase_ms: f64) -> String {
    match ms {
        None => "-".into(),
        Some(_) if phase_ms <= 0.0 => "?".into(),
        Some(v) if v <= 0.0 => format!("<{phase_ms:.0}"),
        Some(v) => format!("≤{:.0}", (v / phase_ms).ceil() * phase_ms),
    }
}

/// The printed table: a header and one line per row.
pub fn table(rows: &[ChaosRow]) -> String {
    let mut s = format!(
        "{:<16} {:<11} {:>5} {:>8} {:>6} {:>22} {:>9} {:>9} {:>17} {:>5} {:>8} {:>6}\n",
        "strategy",
        "fault",
        "n",
        "ok",
        "lost",
        "refused/reset/tmo/short",
        "base c/s",
        "c/s",
        "recovery p50/max",
        "unrec",
        "restarts",
        "serves"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:<11} {:>5} {:>8} {:>6} {:>22} {:>9.0} {:>9.0} {:>17} {:>5} {:>8} {:>6}\n",
            r.strategy,
            r.fault,
            if r.faults_applied == 0 && (r.fault == "kill-holder" || r.fault == "kill-acceptor") {
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
            format!(
                "{}/{} ms",
                at_phase(r.recovery_p50_ms, r.phase_ms),
                at_phase(r.recovery_max_ms, r.phase_ms)
            ),
            r.unrecovered,
            r.restarts + r.acceptor_restarts.unwrap_or(0),
            if r.serving_after { "yes" } else { "NO" }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_is_printed_in_whole_phases_and_nothing_recovered_is_no_time() {
        assert_eq!(at_phase(Some(0.0), 50.0), "<50");
        assert_eq!(at_phase(Some(5.0), 50.0), "≤50");
        assert_eq!(at_phase(Some(37.0), 50.0), "≤50");
        assert_eq!(at_phase(Some(51.0), 50.0), "≤100");
        assert_eq!(at_phase(None, 50.0), "-");
        let row = ChaosRow {
            strategy: "blocking".into(),
            fault: "kill".into(),
            faults_applied: 3,
            unrecovered: 3,
            phase_ms: 50.0,
            ..Default::default()
        };
        let t = table(&[row]);
        assert!(t.contains("-/- ms"), "{t}");
        assert!(!t.contains("0/0 ms"), "{t}");
    }
}
