//! Turning a measured phase into rows: the run row, one row per worker, the latency percentiles
//! and the histogram log, appended to a results directory. Shared by `herd run` (which adds the
//! server's counters) and `herd load` (which has none).
use super::client::{fill_run, fill_worker};
use super::csv::ResultFiles;
use super::kernel;
use super::row::{latency_rows, ListenerRow, RunInputs, RunRow, WorkerRow};
use crate::load::{hlog, LoadConfig, PhaseResult};
use crate::metrics::probe::PhaseProbe;
use crate::metrics::{HostInfo, Snapshot};
use crate::protocol::WORKER_HEADER;
use crate::Error;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a run produced.
pub struct RunOutcome {
    pub row: RunRow,
    pub workers: Vec<WorkerRow>,
    pub listeners: Vec<ListenerRow>,
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
    /// What the kernel said about the server over the phase (accept queues, listen counters,
    /// and with `herd load --server-pid` the server's processes).
    pub probe: Option<&'a PhaseProbe>,
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
        if self.server.is_some() {
            kernel::fill_cpu_shares(&mut row, &mut workers);
        }
        let header = cfg.worker_header.as_deref().unwrap_or(WORKER_HEADER);
        if let Some(p) = self.probe {
            kernel::fill_queue(&mut row, p);
            if let Some(s) = &p.server {
                kernel::fill_foreign(&mut row, &mut workers, s, &phase.stats, header);
            }
        }
        if self.server.is_none() && !matches!(self.probe, Some(p) if p.server.is_some()) {
            // --worker-header without --server-pid: a row per value the header took.
            workers.extend(kernel::header_rows(&row, &phase.stats));
        }
        let listeners = self
            .probe
            .map(|p| kernel::listener_rows(&row, p))
            .unwrap_or_default();
        if let Some(f) = files {
            f.runs.append(&row)?;
            for w in &workers {
                f.workers.append(w)?;
            }
            for l in &listeners {
                f.listeners.append(l)?;
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
        Ok(RunOutcome {
            row,
            workers,
            listeners,
        })
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
