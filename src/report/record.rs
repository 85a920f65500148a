//! Turning a measured phase into rows: the run row, one row per worker, the latency percentiles
//! and the histogram log, appended to a results directory. Shared by `herd run` (which adds the
//! server's counters) and `herd load` (which has none).
use super::client::{fill_run, fill_worker};
use super::csv::ResultFiles;
use super::row::{latency_rows, RunInputs, RunRow, WorkerRow};
use super::skew;
use crate::load::{hlog, LoadConfig, PhaseResult};
use crate::metrics::{HostInfo, Snapshot};
use crate::Error;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a run produced.
pub struct RunOutcome {
    pub row: RunRow,
    pub workers: Vec<WorkerRow>,
}

/// What a run reports besides the client's figures: the server's, when it was measured.
pub struct Report<'a> {
    pub strategy: &'a str,
    /// `process` or `thread`; empty for `herd load`.
    pub mode: &'a str,
    pub workers: usize,
    pub work_us: u64,
    pub sleep_us: u64,
    /// The URL loaded.
    pub target: String,
    /// The server's counters over the measured phase; `None` for `herd load`.
    pub server: Option<&'a Snapshot>,
}

impl Report<'_> {
    /// Build the rows of a measured phase and append them (and the histogram log) to `files`.
    pub fn record(
        &self,
        cfg: &LoadConfig,
        phase: &PhaseResult,
        started: SystemTime,
        files: Option<&mut ResultFiles>,
    ) -> Result<RunOutcome, Error> {
        let host = HostInfo::detect();
        let run_id = new_run_id();
        let none = Snapshot::default();
        let inputs = RunInputs {
            run_id: &run_id,
            strategy: self.strategy,
            mode: self.mode,
            workers: self.workers,
            concurrency: cfg.concurrency,
            client_threads: phase.threads,
            work_us: self.work_us,
            sleep_us: self.sleep_us,
            elapsed_s: phase.elapsed.as_secs_f64(),
            client: &phase.stats,
            server: self.server.unwrap_or(&none),
            host: &host,
        };
        let mut row = RunRow::build(&inputs, timestamp());
        let measured = self.server.is_some();
        fill_run(&mut row, cfg, phase, &self.target, measured);
        if let Some(s) = self.server {
            skew::fill_run(&mut row, s);
        }
        let mut workers: Vec<WorkerRow> = match self.server {
            Some(d) => d
                .workers
                .iter()
                .map(|w| WorkerRow::build(&inputs, w))
                .collect(),
            // Against another server, a worker is known only from X-Herd-Worker headers.
            None => (0..phase.stats.per_worker.len())
                .map(|w| WorkerRow {
                    run_id: run_id.clone(),
                    strategy: self.strategy.to_string(),
                    worker: w as u64,
                    ..Default::default()
                })
                .collect(),
        };
        for w in &mut workers {
            fill_worker(w, &phase.stats);
        }
        if let Some(s) = self.server {
            for (row, w) in workers.iter_mut().zip(&s.workers) {
                skew::fill_worker(row, s, w);
            }
        }
        if let Some(f) = files {
            f.runs.append(&row)?;
            for w in &workers {
                f.workers.append(w)?;
            }
            for (metric, h) in phase.stats.histograms() {
                for r in latency_rows(&inputs, metric, h) {
                    f.latency.append(&r)?;
                }
            }
            f.flush()?;
            let path = f.dir.join("hist").join(format!("{run_id}.hlog"));
            let comment = format!(
                "herd run_id={run_id} strategy={} target={} arrivals={}",
                self.strategy, self.target, row.arrivals
            );
            hlog::write(
                &path,
                &comment,
                started,
                phase.elapsed,
                &phase.stats.histograms(),
            )?;
        }
        Ok(RunOutcome { row, workers })
    }
}

/// A run id that sorts by time and does not collide between concurrent runs.
pub fn new_run_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}-{:05}-{:04x}",
        now.as_secs(),
        std::process::id() % 100_000,
        fastrand::u16(..)
    )
}

/// RFC 3339 UTC, seconds precision.
pub fn timestamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
