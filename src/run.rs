//! `herd run`: one measured run. Starts `herd serve` as a child, waits for `listening`, warms
//! up, takes a scoreboard snapshot while the client is quiet, measures, snapshots again, stops
//! the server, and reports the difference: the server's counters cover exactly the measured
//! connections, so `accepted` can be checked against the client's count.
use crate::cli::RunArgs;
use crate::load::{self, LoadConfig};
use crate::report::csv::ResultFiles;
use crate::report::row::{latency_rows, HostInfo, RunInputs, RunRow, WorkerRow};
use crate::report::table;
use crate::server::child::ServerChild;
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
    let concurrency = args.load.concurrency as usize;
    let threads = args.load.client_threads.map(|t| t as usize);
    LoadConfig::new(args.addr, concurrency, threads, args.load.timeout).check_fds()?;
    args.server
        .strategy
        .supported()
        .map_err(|why| Error::Usage(format!("--strategy {}: {why}", args.server.strategy)))?;

    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let mut serve_args = args.server.to_args();
    serve_args.push(format!("--addr={}", args.addr));
    let mut server = ServerChild::start(&exe, &serve_args, true)?;
    let mut cfg = LoadConfig::new(server.addr, concurrency, threads, args.load.timeout);
    // Tracing: tell the server when each connection started, for its accept-queue delay.
    cfg.send_connect_ns = args.server.trace.is_some();
    let abort = server.gone().clone();

    if !args.warmup.is_zero() {
        load::run_phase(&cfg, args.warmup, None, &abort)?;
        check_server(&mut server, "during the warmup")?;
    }
    let before = server.snapshot()?;
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
    let host = HostInfo::detect();
    let run_id = new_run_id();
    let strategy = args.server.strategy.name();
    let inputs = RunInputs {
        run_id: &run_id,
        strategy,
        mode: args.server.mode.name(),
        workers: args.server.workers as usize,
        concurrency,
        client_threads: phase.threads,
        work_us: args.server.work_us,
        sleep_us: args.server.sleep_us,
        elapsed_s: phase.elapsed.as_secs_f64(),
        client: &phase.stats,
        server: &delta,
        host: &host,
    };
    let row = RunRow::build(&inputs, timestamp());
    let workers: Vec<WorkerRow> = delta
        .workers
        .iter()
        .map(|w| WorkerRow::build(&inputs, w))
        .collect();
    if let Some(f) = files.as_mut() {
        f.runs.append(&row)?;
        for w in &workers {
            f.workers.append(w)?;
        }
        let s = &phase.stats;
        for (metric, h) in [
            ("latency", &s.latency),
            ("connect", &s.connect),
            ("accept_delay", &s.accept_delay),
        ] {
            for r in latency_rows(&inputs, metric, h) {
                f.latency.append(&r)?;
            }
        }
        f.flush()?;
    }
    Ok(RunOutcome { row, workers })
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
fn new_run_id() -> String {
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
