//! `herd load`: the generator alone against any HTTP/1.1 server, with `herd run`'s summary and
//! CSV through the same code. The listeners' accept queues on the target port are sampled; with
//! `--server-pid` the server's processes are measured from /proc as well.
use super::output::Output;
use crate::load::{self, url, LoadConfig};
use crate::metrics::probe::{self, Probe, ProbeConfig};
use crate::report::csv::ResultFiles;
use crate::report::kernel::probe_notes;
use crate::report::record::{Report, RunOutcome};
use crate::report::{meta, summary};
use crate::sys::affinity::{self, CpuSet, Partition};
use crate::Error;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

/// A validated `herd load`.
#[derive(Debug, Clone)]
pub struct LoadCommand {
    /// http://HOST[:PORT][/PATH], its form checked.
    pub url: String,
    /// The load; its target is set once the URL's host resolves.
    pub load: LoadConfig,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_conns: Option<u64>,
    pub out: Option<PathBuf>,
    /// `--server-pid`: the server's processes to measure (each existed when checked).
    pub server_pids: Vec<u64>,
    /// `--accept-queue-interval` (zero: no sampling).
    pub queue_interval: Duration,
    /// `--label`: the rows' `strategy` column.
    pub label: String,
    /// `--json`: the row as JSON on stdout, the summary on stderr.
    pub json: bool,
    /// `--server-cpus` (applied to the `--server-pid` trees) and `--client-cpus`.
    pub partition: Partition,
    /// `--start-at`: the wall-clock time to start at.
    pub start_at: Option<SystemTime>,
    /// `--run-id`: the id shared by the clients of one run.
    pub run_id: Option<String>,
}

pub fn run(cfg: &LoadCommand) -> Result<(), Error> {
    crate::sys::signal::install_interrupt_flag()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    let outcome = measure(cfg)?;
    let out = Output::new(cfg.json);
    out.text(&summary::summary(&outcome.row));
    if let Some(sig) = outcome.interrupted {
        return Err(Error::interrupted(
            sig,
            format!(
                "the figures above cover the {:.1} s measured before the signal; nothing was written",
                outcome.row.duration_s
            ),
        ));
    }
    out.text(&summary::saved(cfg.out.as_deref(), &outcome.row.run_id));
    out.object(&outcome.row.rounded())
}

/// Load the server and append the rows (unless a signal cut the measurement short: then the
/// outcome says which, and nothing is written); the summary is the caller's to print.
pub fn measure(cfg: &LoadCommand) -> Result<RunOutcome, Error> {
    let mut files = cfg.out.as_deref().map(ResultFiles::open).transpose()?;
    let t = url::resolve(&cfg.url)?;
    let port = t.addr.port();
    check_server(&cfg.server_pids, port, &cfg.url)?;
    if let Some(set) = &cfg.partition.server {
        pin_server(&cfg.server_pids, set)?;
    }
    let mut load = cfg.load.clone().with_target(t.addr);
    load.host = t.host.clone();
    load.path = t.path.clone();
    let abort = AtomicBool::new(false);
    if let Some(at) = cfg.start_at {
        wait_until(at)?;
    }
    if !cfg.warmup.is_zero() {
        load::run_phase(&load, cfg.warmup, None, &abort)?;
    }
    if let Some(sig) = crate::sys::signal::interrupted() {
        return Err(Error::interrupted(
            sig,
            "during the warmup: nothing measured or written",
        ));
    }
    let probe = Probe::start(&ProbeConfig {
        port,
        queue_interval: cfg.queue_interval,
        server_pids: cfg.server_pids.clone(),
        measure_tree: !cfg.server_pids.is_empty(),
        cpus: cfg.partition.client.clone(),
    })
    .map_err(|e| {
        Error::Run(format!(
            "--server-pid: {e} (it exited before the measurement)"
        ))
    })?;
    let started = SystemTime::now();
    let phase = load::run_phase(&load, cfg.duration, cfg.max_conns, &abort)?;
    let measured = probe.finish();
    for n in probe_notes(&measured) {
        eprintln!("herd load: {n}");
    }
    let report = Report {
        strategy: &cfg.label,
        mode: "",
        workers: 0,
        work_us: 0,
        sleep_us: 0,
        target: cfg.url.clone(),
        server: None,
        probe: Some(&measured),
        strategy_options: None,
        partition: &cfg.partition,
        backlog: None,
        run_id: cfg.run_id.clone(),
    };
    let sig = crate::sys::signal::interrupted();
    // An interrupted measurement is reported, not written: its figures cover less than asked.
    let files = if sig.is_some() { None } else { files.as_mut() };
    let mut outcome = report.record(&load, &phase, started, files)?;
    outcome.interrupted = sig;
    // Noted once the rows are written: an interrupted run leaves nothing behind.
    if let (None, Some(dir)) = (sig, &cfg.out) {
        meta::note_invocation(dir, &cfg.partition)?;
    }
    Ok(outcome)
}

/// `--start-at`: sleep until the wall clock reads `at`. A time already past (the URL took
/// long to resolve) fails the run rather than starting it out of step with the other clients.
fn wait_until(at: SystemTime) -> Result<(), Error> {
    match at.duration_since(SystemTime::now()) {
        Ok(d) => {
            std::thread::sleep(d);
            Ok(())
        }
        Err(late) => Err(Error::Run(format!(
            "--start-at: the time passed {:?} before the load was ready",
            late.duration()
        ))),
    }
}

/// `--server-cpus` with `--server-pid`: pin every thread of every process under the PIDs (as
/// `taskset -a -p` does); processes they start later inherit the set.
fn pin_server(pids: &[u64], set: &CpuSet) -> Result<(), Error> {
    let mut pinned = 0;
    for p in crate::metrics::tree::processes(pids) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue; // gone since the walk
        };
        for tid in tasks
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        {
            match affinity::pin(tid, set) {
                Ok(()) => pinned += 1,
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    return Err(Error::Usage(format!(
                        "--server-cpus {set}: cannot pin thread {tid} of process {p}: {e}"
                    )))
                }
            }
        }
    }
    eprintln!("herd load: --server-cpus {set}: pinned {pinned} threads of the server");
    Ok(())
}

/// Every `--server-pid` must have a listening socket on the target port somewhere in its tree
/// (usage error otherwise); when sock_diag cannot tell, a note says so and the run goes on.
fn check_server(pids: &[u64], port: u16, url: &str) -> Result<(), Error> {
    if pids.is_empty() {
        return Ok(());
    }
    let mine = crate::metrics::tree::ancestors(std::process::id() as u64);
    for &p in pids {
        if mine.contains(&p) {
            return Err(Error::Usage(format!(
                "--server-pid {p}: this herd load is itself in its tree (PID {p} is herd's own or an ancestor), so the client would be measured as the server"
            )));
        }
        match probe::holds_listener(&[p], port) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::Usage(format!(
                    "--server-pid {p}: no process from it down holds a listening socket on port {port} ({url}): not that server's PID?"
                )))
            }
            Err(e) => {
                eprintln!("herd load: cannot check that --server-pid {p} listens on port {port}: {e}");
                return Ok(());
            }
        }
    }
    Ok(())
}
