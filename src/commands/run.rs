//! `herd run`: one measured run. Starts `herd serve` as a child, waits for `listening`, warms
//! up, takes a scoreboard snapshot while the client is quiet, measures, snapshots again, stops
//! the server, and reports the difference: the server's counters cover exactly the measured
//! connections, so `accepted` can be checked against the client's count.
use super::output::Output;
use crate::harness::ServerChild;
use crate::load::{self, LoadConfig};
use crate::metrics::probe::{Probe, ProbeConfig};
use crate::report::csv::ResultFiles;
use crate::report::kernel::probe_notes;
use crate::report::record::{Report, RunOutcome};
use crate::report::{meta, repeat, summary};
use crate::server::ServerConfig;
use crate::sys::affinity::Partition;
use crate::sys::signal::interrupted;
use crate::Error;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A validated `herd run`.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The server as `herd serve` will build it (its address: the one asked for).
    pub server: ServerConfig,
    /// The `herd serve` arguments that build exactly that server.
    pub serve_args: Vec<String>,
    /// The load; its target is set once the server says where it listens.
    pub load: LoadConfig,
    /// Load before the measurement, not counted (zero: none).
    pub warmup: Duration,
    /// How long the measurement lasts, and at most how many connections it makes.
    pub duration: Duration,
    pub max_conns: Option<u64>,
    /// Where rows are appended.
    pub out: Option<PathBuf>,
    /// `--accept-queue-interval` (zero: no sampling).
    pub queue_interval: Duration,
    /// `--json`: the row as JSON on stdout, the summary on stderr.
    pub json: bool,
    /// `--server-cpus`, `--client-cpus` (the server's is also in `server.cpus`, the client's
    /// in `load.cpus`).
    pub partition: Partition,
    /// `--repeat`: how many times the run is made.
    pub repeat: u32,
}

pub fn run(cfg: &RunConfig) -> Result<(), Error> {
    crate::sys::signal::install_interrupt_flag()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    if cfg.repeat > 1 {
        return repeated(cfg);
    }
    let outcome = measure(cfg)?;
    let out = Output::new(cfg.json);
    out.text(&summary::summary(&outcome.row));
    if let Some(sig) = outcome.interrupted {
        return Err(interrupted_run(sig, &outcome));
    }
    // Noted once the rows are written: an interrupted run leaves nothing behind.
    if let Some(dir) = &cfg.out {
        meta::note_invocation(dir, &cfg.partition)?;
    }
    out.text(&summary::saved(cfg.out.as_deref(), &outcome.row.run_id));
    out.object(&outcome.row.rounded())
}

/// What an interrupted run says after its partial summary.
pub fn interrupted_run(sig: i32, outcome: &RunOutcome) -> Error {
    Error::interrupted(
        sig,
        format!(
            "the figures above are the client's over the {:.1} s measured before the signal; \
             the server was stopped and nothing was written",
            outcome.row.duration_s
        ),
    )
}

/// Nothing was measured yet when the signal came.
fn interrupted_early(sig: i32, when: &str) -> Error {
    Error::interrupted(
        sig,
        format!("{when}: nothing measured; the server was stopped and nothing was written"),
    )
}

/// `--repeat N`: N runs, one line each, then the median and min–max of each headline figure.
fn repeated(cfg: &RunConfig) -> Result<(), Error> {
    let mut rows = Vec::new();
    for i in 0..cfg.repeat {
        let outcome = measure(cfg)?;
        if let Some(sig) = outcome.interrupted {
            print!("{}", summary::summary(&outcome.row));
            if let (Some(dir), false) = (&cfg.out, rows.is_empty()) {
                meta::note_invocation(dir, &cfg.partition)?;
            }
            return Err(interrupted_run(sig, &outcome));
        }
        let row = outcome.row;
        println!(
            "{}",
            repeat::one_line(i as usize + 1, cfg.repeat as usize, &row)
        );
        rows.push(row);
    }
    print!("{}", repeat::summary(&rows));
    if let Some(dir) = &cfg.out {
        meta::note_invocation(dir, &cfg.partition)?;
        println!(
            "  {:<26} {} rows appended to {}/{{runs,workers,latency}}.csv",
            "saved",
            rows.len(),
            dir.display()
        );
    }
    Ok(())
}

/// Do the run and append its rows; the summary is the caller's to print.
pub fn measure(cfg: &RunConfig) -> Result<RunOutcome, Error> {
    // The files first: an --out that cannot be written fails before the server starts.
    let mut files = cfg.out.as_deref().map(ResultFiles::open).transpose()?;
    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let mut server = ServerChild::start(&exe, &cfg.serve_args, true)?;
    let mut load = cfg.load.clone().with_target(server.addr);
    // Tracing: tell the server when each connection started, for its accept-queue delay.
    load.send_connect_ns = cfg.server.trace.is_some();
    let abort = server.gone().clone();

    if let Some(sig) = interrupted() {
        return Err(interrupted_early(sig, "while the server started"));
    }
    if !cfg.warmup.is_zero() {
        load::run_phase(&load, cfg.warmup, None, &abort)?;
        if let Some(sig) = interrupted() {
            return Err(interrupted_early(sig, "during the warmup"));
        }
        check_server(&mut server, "during the warmup")?;
    }
    let before = server.snapshot()?;
    let probe = Probe::start(&ProbeConfig {
        port: server.addr.port(),
        queue_interval: cfg.queue_interval,
        server_pids: vec![server.pid().as_raw() as u64],
        measure_tree: false,
        cpus: cfg.partition.client.clone(),
    })
    .map_err(Error::Run)?;
    let started = SystemTime::now();
    let phase = load::run_phase(&load, cfg.duration, cfg.max_conns, &abort)?;
    let measured = probe.finish();
    if let Some(sig) = interrupted() {
        // What the client measured so far; the server's counters are not read (it may be
        // stopping: a terminal's Ctrl-C reaches it too) and nothing is written.
        drop(server);
        let s = &cfg.server;
        let report = Report {
            strategy: s.strategy.name(),
            mode: s.listen.mode.name(),
            workers: s.workers,
            work_us: s.work.as_micros() as u64,
            sleep_us: s.sleep.as_micros() as u64,
            target: "herd serve".into(),
            server: None,
            probe: Some(&measured),
            strategy_options: s.strategy_options.label(s.strategy),
            partition: &cfg.partition,
            backlog: Some(s.listen.backlog.max(0) as u64),
            run_id: None,
        };
        let mut outcome = report.record(&load, &phase, started, None)?;
        outcome.interrupted = Some(sig);
        return Ok(outcome);
    }
    check_server(&mut server, "during the measurement")?;
    let after = server.snapshot()?;
    for n in probe_notes(&measured) {
        eprintln!("herd run: {n}");
    }
    let status = server.stop(cfg.server.graceful_timeout + Duration::from_secs(5))?;
    if !status.success() {
        return Err(Error::Server(format!(
            "herd serve exited with {status} when stopped"
        )));
    }

    let delta = after.since(&before);
    let s = &cfg.server;
    let report = Report {
        strategy: s.strategy.name(),
        mode: s.listen.mode.name(),
        workers: s.workers,
        work_us: s.work.as_micros() as u64,
        sleep_us: s.sleep.as_micros() as u64,
        target: format!("http://{}/", server.addr),
        server: Some(&delta),
        probe: Some(&measured),
        strategy_options: s.strategy_options.label(s.strategy),
        partition: &cfg.partition,
        backlog: Some(s.listen.backlog.max(0) as u64),
        run_id: None,
    };
    report.record(&load, &phase, started, files.as_mut())
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
