//! How evenly the workers held the connections and served the requests: the skew that
//! event-loop servers show (one nginx worker taking most connections, over 70% of a Node
//! cluster's connections in two of eight processes). `accepted` per worker (`max_worker_share`,
//! `jain_fairness`) counts connections as they arrive; in the event model a connection can
//! stay open for the whole run, so what each worker *holds* and *serves* is measured apart:
//!
//! - open connections, from each worker's scoreboard slot: the time-average over the measured
//!   phase (`open_mean`: the integral of the number open, divided by the phase's length) and
//!   the most open at once (`open_max`: the worker's high-water mark since the snapshot at the
//!   phase's start), and the busiest worker's share of the time-averaged total
//!   (`open_max_share`; 1/N is even, 1 is one worker holding everything);
//! - requests answered per worker, their shares, Jain's index over them (`request_jain`) and
//!   the busiest worker's share (`request_max_share`).
use super::row::{per, RunRow, WorkerRow};
use crate::metrics::fairness::{jain_index, max_share};
use crate::metrics::{Snapshot, WorkerSample};

/// The mean number of connections `w` held open over the snapshot interval (`None` for an
/// interval of no length).
fn mean_open(w: &WorkerSample, span_ns: u64) -> Option<f64> {
    per(Some(w.open_ns), span_ns)
}

/// `part / total`, empty when there is no total to share (nothing was open).
fn share(part: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| part / total)
}

/// The server-side spread columns of the run row, from the phase's snapshot difference.
pub fn fill_run(row: &mut RunRow, server: &Snapshot) {
    row.worker_model = server.worker_model.clone();
    row.worker_connections = (server.worker_model == "event").then_some(server.worker_connections);
    let ws = &server.workers;
    let requests: Vec<u64> = ws.iter().map(|w| w.requests).collect();
    row.requests_served = Some(requests.iter().sum());
    row.request_jain = jain_index(&requests);
    row.request_max_share = max_share(&requests);
    row.open_max = ws.iter().map(|w| w.open_max).max();
    let means: Option<Vec<f64>> = ws.iter().map(|w| mean_open(w, server.span_ns)).collect();
    if let Some(means) = means.filter(|m| !m.is_empty()) {
        let total: f64 = means.iter().sum();
        row.open_mean = Some(total / means.len() as f64);
        row.open_max_share = share(means.iter().copied().fold(0.0, f64::max), total);
    }
}

/// The server-side spread columns of worker `w`'s row.
pub fn fill_worker(row: &mut WorkerRow, server: &Snapshot, w: &WorkerSample) {
    let total_open: Option<f64> = server
        .workers
        .iter()
        .map(|x| mean_open(x, server.span_ns))
        .sum();
    let mean = mean_open(w, server.span_ns);
    row.requests = Some(w.requests);
    row.request_share = per(Some(w.requests), server.total(|x| x.requests));
    row.open_mean = mean;
    row.open_max = Some(w.open_max);
    row.open_share = mean.zip(total_open).and_then(|(m, t)| share(m, t));
}

/// The summary's lines on the spread, when the server was measured.
pub fn summary_lines(r: &RunRow) -> String {
    let (Some(mean), Some(max), Some(share), Some(jain), Some(rshare)) = (
        r.open_mean,
        r.open_max,
        r.open_max_share,
        r.request_jain,
        r.request_max_share,
    ) else {
        return String::new();
    };
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<26} {v}\n"));
    line(
        "open connections",
        format!(
            "{mean:.1} per worker on average, at most {max} in one; busiest worker {:.1}% of them",
            share * 100.0
        ),
    );
    line(
        "requests per worker",
        format!("Jain {jain:.3}, busiest worker {:.1}%", rshare * 100.0),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(i: usize, requests: u64, open_ns: u64, open_max: u64) -> WorkerSample {
        WorkerSample {
            worker: i,
            requests,
            open_ns,
            open_max,
            ..Default::default()
        }
    }

    #[test]
    fn one_worker_holding_most_connections_shows() {
        // 1 s: worker 0 held 30 connections throughout, worker 1 held 2, worker 2 none.
        let snap = Snapshot {
            span_ns: 1_000_000_000,
            workers: vec![
                worker(0, 9_000, 30_000_000_000, 31),
                worker(1, 1_000, 2_000_000_000, 2),
                worker(2, 0, 0, 0),
            ],
            ..Default::default()
        };
        let mut row = RunRow::default();
        fill_run(&mut row, &snap);
        assert_eq!(row.requests_served, Some(10_000));
        assert!((row.open_mean.unwrap() - 32.0 / 3.0).abs() < 1e-9);
        assert_eq!(row.open_max, Some(31));
        assert!((row.open_max_share.unwrap() - 30.0 / 32.0).abs() < 1e-9);
        assert!((row.request_max_share.unwrap() - 0.9).abs() < 1e-9);
        let jain = 1e8 / (3.0 * (81e6 + 1e6));
        assert!((row.request_jain.unwrap() - jain).abs() < 1e-9);
        let mut w = WorkerRow::default();
        fill_worker(&mut w, &snap, &snap.workers[1]);
        assert_eq!(w.requests, Some(1_000));
        assert!((w.request_share.unwrap() - 0.1).abs() < 1e-9);
        assert!((w.open_mean.unwrap() - 2.0).abs() < 1e-9);
        assert!((w.open_share.unwrap() - 2.0 / 32.0).abs() < 1e-9);
        assert!(summary_lines(&row).contains("busiest worker 93.8%"));
        assert!(summary_lines(&RunRow::default()).is_empty());
        // Nothing open and nothing served: no share to speak of.
        let idle = Snapshot {
            span_ns: 1_000_000_000,
            workers: vec![worker(0, 0, 0, 0), worker(1, 0, 0, 0)],
            ..Default::default()
        };
        let mut row = RunRow::default();
        fill_run(&mut row, &idle);
        assert_eq!(row.open_mean, Some(0.0));
        assert_eq!((row.open_max_share, row.request_jain), (None, None));
    }
}
