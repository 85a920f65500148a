//! `herd series`: the task-farm half of the master-worker pattern. The master forks workers
//! that each compute terms x^i/i! of e^x and send them back over pipes; the master collects
//! them sequentially, with select, with poll or with epoll ([`CollectKind`]), checks every
//! frame, sums in index order, and reports the result against f64::exp with the master's own
//! system-call and wakeup counts.
//!
//! Files: `term.rs` (the arithmetic and its error bound), `frame.rs` (the pipe protocol),
//! `worker.rs` (the child), `pool.rs` (fork, reap, kill), `master.rs` (the collection loop),
//! `collect.rs` + one file per method. Its CSV row and chart are in [`crate::report::series`]
//! and [`crate::report::plot::series`].
pub(crate) mod collect;
pub(crate) mod epoll;
pub(crate) mod frame;
pub(crate) mod master;
pub(crate) mod poll;
pub(crate) mod pool;
pub(crate) mod select;
pub(crate) mod sequential;
pub mod term;
pub(crate) mod worker;

use crate::sys::{fds, signal};
use crate::Error;
pub use collect::{CollectKind, Counters};
use nix::sys::resource::{getrlimit, getrusage, Resource, UsageWho};
use std::time::{Duration, Instant};
use worker::{Fault, Job};

/// At most this many worker processes.
pub const MAX_WORKERS: u32 = 4096;
/// At most this many terms.
pub const MAX_TERMS: u32 = 1_000_000;

/// A validated `herd series` run.
#[derive(Debug, Clone)]
pub struct SeriesConfig {
    pub x: f64,
    pub terms: u32,
    pub workers: u32,
    pub collect: CollectKind,
    pub timeout: Duration,
    pub work: Duration,
    pub sleep: Duration,
    pub fault: Option<Fault>,
}

impl SeriesConfig {
    /// Check the inputs; every failure is a usage error naming its flag. The timeout is 10 s,
    /// no work or sleep per term, no fault; set those fields afterwards
    /// ([`SeriesConfig::with_fault`] checks its term).
    pub fn new(
        x: f64,
        terms: u32,
        workers: Option<u32>,
        collect: CollectKind,
    ) -> Result<Self, Error> {
        if !x.is_finite() || x.abs() > term::MAX_ABS_X {
            return Err(Error::Usage(format!(
                "--x {x}: must be a finite number with |x| <= {} (e^x overflows f64 beyond 709.78)",
                term::MAX_ABS_X
            )));
        }
        if terms == 0 || terms > MAX_TERMS {
            return Err(Error::Usage(format!(
                "--terms {terms}: must be 1 to {MAX_TERMS}"
            )));
        }
        let workers = match workers {
            Some(0) => return Err(Error::Usage("--workers 0: need at least one".into())),
            Some(w) if w > terms => {
                return Err(Error::Usage(format!(
                    "--workers {w}: more workers than --terms {terms}"
                )))
            }
            Some(w) => w,
            None => terms,
        };
        if workers > MAX_WORKERS {
            return Err(Error::Usage(format!(
                "--terms {terms}: one process per term needs {workers} workers, at most \
                 {MAX_WORKERS}; give --workers to use a pool"
            )));
        }
        let cfg = SeriesConfig {
            x,
            terms,
            workers,
            collect,
            timeout: Duration::from_secs(10),
            work: Duration::ZERO,
            sleep: Duration::ZERO,
            fault: None,
        };
        cfg.check_fds()?;
        Ok(cfg)
    }

    /// Inject `fault` (tests): its term must be one of the terms.
    pub fn with_fault(mut self, fault: Option<Fault>) -> Result<Self, Error> {
        if let Some(f) = fault.filter(|f| f.term >= self.terms) {
            return Err(Error::Usage(format!(
                "--fault: term {} >= --terms {}",
                f.term, self.terms
            )));
        }
        self.fault = fault;
        Ok(self)
    }

    /// A pool (workers take several terms each) rather than one process per term.
    pub fn pool(&self) -> bool {
        self.workers < self.terms
    }

    /// The master holds one pipe end per worker (two in a pool), plus the two ends of the
    /// pipe being set up and an epoll descriptor: 1024 workers need about 1030 descriptors
    /// (2050 in a pool), well within `ulimit -n` 20000.
    fn check_fds(&self) -> Result<(), Error> {
        let per = if self.pool() { 2 } else { 1 };
        let open = fds::open_count().unwrap_or(3) as u64;
        let need = open + u64::from(self.workers) * per + 8;
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE)
            .map_err(|e| Error::io("getrlimit(RLIMIT_NOFILE)", e.into()))?;
        if need > soft {
            return Err(Error::Usage(format!(
                "--workers {}: needs {need} descriptors, ulimit -n is {soft}",
                self.workers
            )));
        }
        Ok(())
    }
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub value: f64,
    pub counters: Counters,
    pub spawn: Duration,
    pub collect: Duration,
    pub reap: Duration,
    /// The master's voluntary and involuntary context switches while collecting.
    pub vol_ctx: u64,
    pub invol_ctx: u64,
    pub waitpids: u64,
}

/// Descriptors this process has open, from /proc/self/fd: an error when it cannot be read,
/// so that a leak check never compares two made-up counts.
pub fn open_fds() -> Result<usize, Error> {
    fds::open_count().map_err(|e| Error::io("counting descriptors in /proc/self/fd", e))
}

/// Child processes (live or zombie) of this process right now, found by their parent pid in
/// /proc/PID/stat (field 4). Scans every process of the host: the no-zombie check of
/// `herd series`, not part of a timed run.
pub fn children_left() -> Result<usize, Error> {
    let me = std::process::id().to_string();
    let procs = std::fs::read_dir("/proc").map_err(|e| Error::io("listing /proc", e))?;
    Ok(procs
        .flatten()
        .filter_map(|p| std::fs::read_to_string(p.path().join("stat")).ok())
        .filter(|stat| {
            let after = stat.rsplit_once(')').map_or("", |(_, s)| s);
            after.split_whitespace().nth(1) == Some(me.as_str())
        })
        .count())
}

/// The master's voluntary and involuntary context switches so far; an error if getrusage
/// fails (a count of 0 would read as "never slept").
fn ctx_switches() -> Result<(u64, u64), Error> {
    usage_ctx(getrusage(UsageWho::RUSAGE_SELF))
}

fn usage_ctx(u: nix::Result<nix::sys::resource::Usage>) -> Result<(u64, u64), Error> {
    let u = u.map_err(|e| Error::io("getrusage(RUSAGE_SELF)", e.into()))?;
    Ok((
        u.voluntary_context_switches() as u64,
        u.involuntary_context_switches() as u64,
    ))
}

/// Fork the workers, collect every term, reap every worker. The calling process must be
/// single-threaded (fork refuses otherwise).
pub fn compute(cfg: &SeriesConfig) -> Result<Outcome, Error> {
    // A write to the task pipe of a dead worker must be an EPIPE error, not a fatal signal.
    signal::ignore_sigpipe().map_err(|e| Error::io("ignoring SIGPIPE", e))?;
    let job = Job {
        abs_x: cfg.x.abs(),
        work: cfg.work,
        sleep: cfg.sleep,
        fault: cfg.fault,
    };
    let t0 = Instant::now();
    let nonblocking = cfg.collect != CollectKind::Sequential;
    let mut workers = pool::Workers::spawn(cfg.workers, cfg.pool(), job, nonblocking)?;
    let t1 = Instant::now();
    let deadline = t1 + cfg.timeout;
    let mut collector = cfg
        .collect
        .build(cfg.workers as usize)
        .map_err(|e| Error::io(format!("setting up {} collection", cfg.collect), e))?;
    let cs0 = ctx_switches()?;
    let m = master::Master::new(
        &mut workers,
        collector.as_mut(),
        cfg.terms,
        cfg.pool(),
        deadline,
    );
    let (terms, counters) = m.run()?;
    let cs1 = ctx_switches()?;
    drop(collector);
    let t2 = Instant::now();
    workers.reap_all(deadline)?;
    let t3 = Instant::now();
    let waitpids = workers.waitpids;
    drop(workers);
    Ok(Outcome {
        value: term::assemble(cfg.x, &terms),
        counters,
        spawn: t1 - t0,
        collect: t2 - t1,
        reap: t3 - t2,
        vol_ctx: cs1.0 - cs0.0,
        invol_ctx: cs1.1 - cs0.1,
        waitpids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_getrusage_is_an_error_not_zero_switches() {
        let e = usage_ctx(Err(nix::errno::Errno::EFAULT)).unwrap_err();
        assert!(e.to_string().contains("getrusage"), "{e}");
        let (vol, invol) = ctx_switches().unwrap();
        // This test thread's process has run: it has switched at least once.
        assert!(vol + invol > 0);
        assert!(open_fds().unwrap() >= 3);
        // Other tests of this process may have children right now: only that it reads.
        children_left().unwrap();
    }
}
