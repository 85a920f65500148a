//! `herd run`: one measured run. Starts `herd serve` as a child, waits for `listening`, warms
//! up, takes a scoreboard snapshot while the client is quiet, measures, snapshots again, stops
//! the server, and reports the difference: the server's counters cover exactly the measured
//! connections, so `accepted` can be checked against the client's count.
use crate::cli::RunArgs;
use crate::harness::ServerChild;
use crate::load::{self, LoadConfig, PhaseResult};
use crate::metrics::Snapshot;
use crate::report::csv::ResultFiles;
use crate::report::row::{latency_rows, HostInfo, RunInputs, RunRow, WorkerRow};
use crate::report::table;
use crate::Error;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one run produced.
pub struct RunOutcome {
    pub row: RunRow,
    pub workers: Vec<WorkerRow>,
}

pub fn run(args: &RunArgs) -> Result<(), Error> {
    let outcome = measure(args)?;
    print!("{}", table::summary(&outcome.row));
    Ok(())
}

/// Do the run and append its rows; the summary is the caller's to print.
pub fn measure(args: &RunArgs) -> Result<RunOutcome, Error> {
    // Every check on input happens before the server starts.
    let mut files = args.out.as_deref().map(ResultFiles::open).transpose()?;
    if let Some(t) = &args.server.trace {
        // The server truncates it again; this only checks that it can be written.
        std::fs::File::create(t)
            .map_err(|e| Error::Usage(format!("--trace {}: {e}", t.display())))?;
    }
    // The address is a placeholder until the server says where it listens.
    LoadConfig::from_args(args.addr, &args.load)?;
    if args.load.requests_per_conn > args.server.max_requests_per_conn {
        return Err(Error::Usage(format!(
            "--requests-per-conn {}: above --max-requests-per-conn {}, so the server would close connections early",
            args.load.requests_per_conn, args.server.max_requests_per_conn
        )));
    }
    args.server
        .strategy
        .supported()
        .map_err(|why| Error::Usage(format!("--strategy {}: {why}", args.server.strategy)))?;

    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let mut serve_args = args.server.to_args();
    serve_args.push(format!("--addr={}", args.addr));
    let mut server = ServerChild::start(&exe, &serve_args, true)?;
    let mut cfg = LoadConfig::from_args(server.addr, &args.load)?;
    // Tracing: tell the server when each connection started, for its accept-queue delay.
    cfg.send_connect_ns = args.server.trace.is_some();
    let abort = server.gone().clone();

    if !args.warmup.is_zero() {
        load::run_phase(&cfg, args.warmup, None, &abort)?;
        check_server(&mut server, "during the warmup")?;
    }
    let before = server.snapshot()?;
    let started = SystemTime::now();
    let phase = load::run_phase(&cfg, args.load.duration, args.load.requests, &abort)?;
    check_server(&mut server, "during the measurement")?;
    let after = server.snapshot()?;
    let status = server.stop(args.server.graceful_timeout + Duration::from_secs(5))?;
    if !status.success() {
        return Err(Error::Server(format!(
            "herd serve exited with {status} when stopped"
        )));
    }

    let delta = after.since(&before);
    let report = Report {
        strategy: args.server.strategy.name(),
        mode: args.server.mode.name(),
        workers: args.server.workers as usize,
        work_us: args.server.work_us,
        sleep_us: args.server.sleep_us,
        target: format!("http://{}/", server.addr),
        server: Some(&delta),
    };
    report.record(&cfg, &phase, started, files.as_mut())
}

/// What a run reports besides the client's figures: the server's, when it was measured.
pub struct Report<'a> {
    pub strategy: &'a str,
    /// `process` (worker processes); empty for `herd load`.
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
    /// Shared by `herd run` and `herd load`.
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
        load::report::fill_run(&mut row, cfg, phase, &self.target, measured);
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
            load::report::fill_worker(w, &phase.stats);
        }
        if let Some(f) = files {
            f.runs.append(&row)?;
            for w in &workers {
                f.workers.append(w)?;
            }
            for (metric, h) in load::report::histograms(&phase.stats) {
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
            let hists = load::report::histograms(&phase.stats);
            load::hlog::write(&path, &comment, started, phase.elapsed, &hists)?;
        }
        Ok(RunOutcome { row, workers })
    }
}

/// Fail the run if the server died or lost a worker: its figures would not be comparable.
fn check_server(server: &mut ServerChild, when: &str) -> Result<(), Error> {
    if server.gone().load(std::sync::atomic::Ordering::SeqCst) {
        return Err(server.exit_error(when));
    }
    if let Some(x) = server.worker_exits().first() {
        return Err(Error::Server(format!(
            "worker {} (pid {}) died {when}: {}; the run's figures are discarded",
            x.worker, x.pid, x.status
        )));
    }
    Ok(())
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
fn timestamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
