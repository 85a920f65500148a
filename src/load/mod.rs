//! The load generator: connections over a few client threads, each an event loop, measured
//! into HDR histograms. [`run_phase`] drives one bounded phase (warmup or measurement) and
//! returns when every connection it started has finished.
pub mod engine;
pub mod http;
pub mod source;
pub mod stats;

use crate::sys::clock::monotonic_ns;
use crate::Error;
use stats::Stats;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

/// Descriptors kept free for everything but client connections.
pub const FD_RESERVE: u64 = 64;

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: SocketAddr,
    /// `Host` header value.
    pub host: String,
    pub path: String,
    pub concurrency: usize,
    pub threads: usize,
    pub timeout: Duration,
    /// Bind each connection to the next of 127.0.0.2..=254 (loopback targets only).
    pub rotate_sources: bool,
    /// Send the connect time as `X-Herd-Connect-Ns` in each request (for `--trace`); off by
    /// default, so that an untraced run sends the same bytes as before.
    pub send_connect_ns: bool,
}

impl LoadConfig {
    /// A closed-loop configuration against `target`, with threads defaulting to one per CPU.
    pub fn new(
        target: SocketAddr,
        concurrency: usize,
        threads: Option<usize>,
        timeout: Duration,
    ) -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        LoadConfig {
            target,
            host: target.to_string(),
            path: "/".into(),
            concurrency,
            threads: threads.unwrap_or(cpus).clamp(1, concurrency.max(1)),
            timeout,
            rotate_sources: target.ip().is_loopback() && target.is_ipv4(),
            send_connect_ns: false,
        }
    }

    /// Fail before any work when the connections cannot fit in the descriptor limit.
    pub fn check_fds(&self) -> Result<(), Error> {
        let limit = crate::sys::net::fd_limit().map_err(|e| Error::io("getrlimit", e))?;
        let need = self.concurrency as u64 + FD_RESERVE;
        if need > limit {
            return Err(Error::Usage(format!(
                "--concurrency {}: needs {need} file descriptors but the limit (ulimit -n) is {limit}",
                self.concurrency
            )));
        }
        Ok(())
    }
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    pub stats: Stats,
    /// From the phase's start to the last connection's end.
    pub elapsed: Duration,
    pub threads: usize,
}

/// Run connections for `duration` (and at most `max_conns`), then let those in flight finish.
pub fn run_phase(
    cfg: &LoadConfig,
    duration: Duration,
    max_conns: Option<u64>,
    abort: &AtomicBool,
) -> Result<PhaseResult, Error> {
    let request = http::request(&cfg.host, &cfg.path, false);
    let budget = max_conns.map(AtomicU64::new);
    let start = monotonic_ns();
    let ctx = engine::PhaseCtx {
        cfg,
        request: &request,
        end_ns: start + duration.as_nanos() as u64,
        budget: budget.as_ref(),
        abort,
    };
    let threads = cfg.threads;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let conns = cfg.concurrency / threads + usize::from(t < cfg.concurrency % threads);
                let ctx = &ctx;
                s.spawn(move || engine::run(ctx, t, threads, conns))
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let elapsed = Duration::from_nanos(monotonic_ns() - start);
    let mut stats = Stats::default();
    for r in results {
        match r {
            Ok(Ok(s)) => stats.merge(&s),
            Ok(Err(e)) => return Err(Error::io("client event loop", e)),
            Err(_) => return Err(Error::Run("a client thread panicked".into())),
        }
    }
    Ok(PhaseResult {
        stats,
        elapsed,
        threads,
    })
}
