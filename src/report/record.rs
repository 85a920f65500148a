//! Turning a measured phase into rows: the run row, one row per worker, the latency percentiles
//! and the histogram log, appended to a results directory. Shared by `herd run` (which adds the
//! server's counters) and `herd load` (which has none).
use super::client::{fill_run, fill_worker};
use super::csv::ResultFiles;
use super::kernel;
use super::noise::{self, ServerCpu};
use super::row::{latency_rows, ListenerRow, RunInputs, RunRow, WorkerRow};
use super::skew;
use crate::load::{hlog, LoadConfig, PhaseResult};
use crate::metrics::probe::PhaseProbe;
use crate::metrics::{HostInfo, Snapshot};
use crate::protocol::WORKER_HEADER;
use crate::sys::affinity::Partition;
use crate::Error;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a run produced.
pub struct RunOutcome {
    pub row: RunRow,
    pub workers: Vec<WorkerRow>,
    pub listeners: Vec<ListenerRow>,
    /// The signal that cut the measurement short (the figures are partial and were not
    /// written), if one did.
    pub interrupted: Option<i32>,
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
    /// The strategy flags that differ from the defaults (`strategy_options`).
    pub strategy_options: Option<String>,
    /// The CPUs the server and the client were pinned to.
    pub partition: &'a Partition,
    /// The listen backlog asked for (`herd run --backlog`), when herd made the listener.
    pub backlog: Option<u64>,
    /// The run's id, when given (`herd load --run-id`, shared by the clients of one run);
    /// otherwise a new one.
    pub run_id: Option<String>,
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
        if phase.stats.unrecorded > 0 {
            return Err(Error::Run(format!(
                "{} measured values could not be recorded in the histograms (out of memory?); \
                 the run's percentiles would miss them, so it is not reported",
                phase.stats.unrecorded
            )));
        }
        let host = HostInfo::detect();
        let run_id = self.run_id.clone().unwrap_or_else(new_run_id);
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
            server: self.server,
            host: &host,
        };
        let mut row = RunRow::build(&inputs, timestamp());
        row.strategy_options = self.strategy_options.clone();
        let measured = self.server.is_some();
        fill_run(&mut row, cfg, phase, &self.target, measured);
        let server_cpu = match self.probe.and_then(|p| p.server_cpu_ns) {
            Some(ns) => ServerCpu::Measured(ns),
            None if !cfg.same_host => ServerCpu::Elsewhere,
            None => ServerCpu::Unknown,
        };
        noise::fill(&mut row, phase, server_cpu, self.partition);
        if self.backlog.is_some() {
            row.backlog = self.backlog;
            row.somaxconn = noise::somaxconn();
        }
        if let Some(s) = self.server {
            skew::fill_run(&mut row, s);
        }
        let mut workers: Vec<WorkerRow> = match self.server {
            Some(d) => d
                .workers
                .iter()
                .map(|w| WorkerRow::build(&inputs, d, w))
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
            f.runs.append(&row.clone().rounded())?;
            for w in &workers {
                f.workers.append(&w.clone().rounded())?;
            }
            for l in &listeners {
                f.listeners.append(l)?;
            }
            for (metric, h) in phase.stats.histograms() {
                for r in latency_rows(&inputs, metric, h) {
                    f.latency.append(&r)?;
                }
            }
            // The histogram log first, the rows last (runs.csv the very last): a run in
            // runs.csv has everything else written.
            let path = f.dir.join("hist").join(format!("{run_id}.hlog"));
            let comment = hlog_comment(&row);
            hlog::write(
                &path,
                &comment,
                started,
                phase.elapsed,
                &phase.stats.histograms(),
            )?;
            f.flush()?;
        }
        Ok(RunOutcome {
            row,
            workers,
            listeners,
            interrupted: None,
        })
    }
}

/// The `#herd` comment of a run's histogram log: its id and everything that makes it a
/// different run from another (`herd merge` compares these before adding logs up). The
/// target of `herd run` is its own `herd serve` on a port of the moment, so it is not named.
pub fn hlog_comment(r: &RunRow) -> String {
    let target = if r.server_metrics {
        "herd-serve"
    } else {
        &r.target
    };
    format!(
        "herd run_id={} strategy={} mode={} workers={} target={target} arrivals={} rate={} \
         burst={} burst_interval_ms={} concurrency={} requests_per_conn={} \
         pacing_quantum_us={} work_us={} sleep_us={}",
        r.run_id,
        r.strategy,
        r.mode,
        r.workers,
        r.arrivals,
        r.rate,
        r.burst,
        r.burst_interval_ms,
        r.concurrency,
        r.requests_per_conn,
        r.pacing_quantum_us,
        r.work_us,
        r.sleep_us
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn phase(stats: crate::load::stats::Stats) -> PhaseResult {
        PhaseResult {
            stats,
            elapsed: Duration::from_secs(1),
            threads: 1,
            host_busy_pct: 50.0,
            steal_pct: 0.0,
            irq_pct: 0.0,
            process_cpu_ns: 0,
            capacity_ns: 2_000_000_000,
        }
    }

    const NO_PARTITION: &Partition = &Partition {
        server: None,
        client: None,
    };

    fn report(server: Option<&Snapshot>) -> Report<'_> {
        Report {
            strategy: "blocking",
            mode: "process",
            workers: 2,
            work_us: 0,
            sleep_us: 0,
            target: "http://127.0.0.1:1/".into(),
            server,
            probe: None,
            strategy_options: None,
            partition: NO_PARTITION,
            backlog: None,
            run_id: None,
        }
    }

    #[test]
    fn a_value_no_histogram_could_take_fails_the_run() {
        let cfg = LoadConfig::new(
            "127.0.0.1:1".parse().unwrap(),
            1,
            None,
            Duration::from_secs(1),
        );
        let stats = crate::load::stats::Stats {
            unrecorded: 1,
            ..Default::default()
        };
        let e = report(None)
            .record(&cfg, &phase(stats), SystemTime::now(), None)
            .err()
            .expect("an error");
        assert!(e.to_string().contains("could not be recorded"), "{e}");
    }

    #[test]
    fn without_a_server_every_server_column_is_empty() {
        let cfg = LoadConfig::new(
            "127.0.0.1:1".parse().unwrap(),
            1,
            None,
            Duration::from_secs(1),
        );
        let out = report(None)
            .record(&cfg, &phase(Default::default()), SystemTime::now(), None)
            .unwrap();
        let r = &out.row;
        assert!(!r.server_metrics);
        assert_eq!((r.accepted, r.wakeups_per_accept), (None, None));
        assert_eq!((r.jain_fairness, r.max_worker_share), (None, None));
        assert_eq!((r.ctx_switches_per_accept, r.cpu_us_per_conn), (None, None));
        // Nothing completed: no latency, no accept delay, no client CPU per connection.
        assert_eq!((r.latency_p50_us, r.accept_delay_p99_us), (None, None));
        assert_eq!(r.client_cpu_us_per_conn, None);
        // A measured server that accepted nothing: counts of 0, ratios and fairness empty.
        let idle = Snapshot {
            ticks_per_s: 100,
            workers: vec![
                crate::metrics::WorkerSample {
                    vol_ctx_switches: Some(3),
                    invol_ctx_switches: Some(0),
                    ..Default::default()
                };
                2
            ],
            ..Default::default()
        };
        let out = report(Some(&idle))
            .record(&cfg, &phase(Default::default()), SystemTime::now(), None)
            .unwrap();
        let r = &out.row;
        assert_eq!((r.accepted, r.vol_ctx_switches), (Some(0), Some(6)));
        assert_eq!((r.ctx_switches_per_accept, r.jain_fairness), (None, None));
        assert_eq!(r.cpu_user_s, None, "no tick counts were read");
    }
}
