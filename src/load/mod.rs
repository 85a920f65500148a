//! The load generator: connections over a few client threads, each an event loop, measured
//! into HDR histograms. [`run_phase`] drives one bounded phase (warmup or measurement) and
//! returns when every connection it started has finished. The same code serves `herd run`
//! (against its own `herd serve` child) and `herd load --url` (against any HTTP/1.1 server).
pub(crate) mod conn;
pub(crate) mod engine;
pub(crate) mod hlog;
pub(crate) mod http;
pub(crate) mod long_lived;
pub(crate) mod pacing;
pub(crate) mod progress;
pub(crate) mod request;
pub mod source;
pub(crate) mod stats;
pub(crate) mod timer;
pub(crate) mod url;

use crate::metrics::procfs::HostCpu;
use crate::metrics::softirq;
use crate::sys::affinity::{self, CpuSet};
use crate::sys::clock::{monotonic_ns, process_cpu_ns};
use crate::Error;
use pacing::Shape;
use stats::Stats;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Descriptors kept free for everything but client connections.
pub const FD_RESERVE: u64 = 64;

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: SocketAddr,
    /// `Host` header value.
    pub host: String,
    pub path: String,
    /// The method, extra headers and body of each request (`herd load -m/-H/--body`).
    pub request: request::RequestSpec,
    pub concurrency: usize,
    pub threads: usize,
    pub timeout: Duration,
    /// Bind each connection to the next of 127.0.0.2..=254 (loopback targets only).
    pub rotate_sources: bool,
    /// Send the connect time as `X-Herd-Connect-Ns` in each request (for `--trace`); off by
    /// default, so that an untraced run sends the same bytes as before.
    pub send_connect_ns: bool,
    /// Closed loop, open loop at a rate, or bursts.
    pub shape: Shape,
    /// Requests on each connection (keep-alive when above 1).
    pub requests_per_conn: u32,
    /// Open loop: the pacing timer fires only on multiples of this (0: at each start).
    pub pacing_quantum_ns: u64,
    /// Show a live progress line for phases of [`PROGRESS_MIN`] or longer.
    pub progress: bool,
    /// Count completed connections by the value of this response header (`--worker-header`).
    pub worker_header: Option<String>,
    /// The target is an address of this host, so the server's clock is this host's clock and
    /// accept delays (server accept time minus client connect time) mean something.
    pub same_host: bool,
    /// `--client-cpus`: every client thread (and the progress line's) is pinned to these CPUs.
    pub cpus: Option<CpuSet>,
}

/// Whether `ip` is an address of this host: a socket can be bound to it (every 127.0.0.0/8
/// address, ::1, and the addresses of this host's interfaces). Accept delays subtract the
/// server's CLOCK_MONOTONIC from the client's, which is meaningless across hosts.
pub fn on_this_host(ip: std::net::IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// Phases shorter than this get no progress line.
pub const PROGRESS_MIN: Duration = Duration::from_secs(3);

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
            request: request::RequestSpec::default(),
            concurrency,
            threads: threads.unwrap_or(cpus).clamp(1, concurrency.max(1)),
            timeout,
            rotate_sources: target.ip().is_loopback() && target.is_ipv4(),
            send_connect_ns: false,
            shape: Shape::Closed,
            requests_per_conn: 1,
            pacing_quantum_ns: 0,
            progress: false,
            worker_header: None,
            same_host: on_this_host(target.ip()),
            cpus: None,
        }
    }

    /// The same load with its threads pinned to `cpus`; unless `threads` were given, one thread
    /// per CPU of the set (at most one per connection), as without a set one per CPU.
    pub fn pinned(mut self, cpus: Option<CpuSet>, threads: Option<usize>) -> Self {
        if let (Some(set), None) = (&cpus, threads) {
            self.threads = set.len().clamp(1, self.concurrency.max(1));
        }
        self.cpus = cpus;
        self
    }

    /// The same load against `target` (known once a server says where it listens).
    pub fn with_target(mut self, target: SocketAddr) -> Self {
        self.target = target;
        self.host = target.to_string();
        self.rotate_sources = target.ip().is_loopback() && target.is_ipv4();
        self.same_host = on_this_host(target.ip());
        self
    }

    /// Fail before any work when the connections cannot fit in the descriptor limit.
    pub fn check_fds(&self) -> Result<(), Error> {
        let limit = crate::sys::net::fd_limit().map_err(|e| Error::io("getrlimit", e))?;
        // Each client thread also holds an epoll and a timer descriptor.
        let need = self.concurrency as u64 + FD_RESERVE + 2 * self.threads as u64;
        if need > limit {
            return Err(Error::Usage(format!(
                "--connections {}: needs {need} file descriptors but the limit (ulimit -n) is {limit}",
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
    /// How busy the host's CPUs were over the phase, in percent of all of them: client,
    /// server and anything else together. At saturation client and server queue for a CPU.
    pub host_busy_pct: f64,
    /// The part of the host's time its hypervisor stole (percent of all CPUs; steal counts as
    /// busy in `host_busy_pct`).
    pub steal_pct: f64,
    /// Kernel time on packets charged to no task's time (percent of all CPUs): the ksoftirqd
    /// threads, and interrupts when the kernel accounts them apart ([`softirq`]). On loopback
    /// mostly the run's own packets.
    pub irq_pct: f64,
    /// CPU time of this whole process over the phase: the client threads and whatever else
    /// herd runs beside them (its sampling threads), in ns.
    pub process_cpu_ns: u64,
    /// Wall time × CPUs over the phase (100% of the host), in ns.
    pub capacity_ns: u64,
}

/// Run connections for `duration` (and at most `max_conns`), then let those in flight finish.
pub fn run_phase(
    cfg: &LoadConfig,
    duration: Duration,
    max_conns: Option<u64>,
    abort: &AtomicBool,
) -> Result<PhaseResult, Error> {
    let requests = conn::Requests {
        keep_alive: cfg.request.bytes(&cfg.host, &cfg.path, true),
        close: cfg.request.bytes(&cfg.host, &cfg.path, false),
        head_request: cfg.request.is_head(),
        per_conn: cfg.requests_per_conn.max(1),
        worker_header: cfg.worker_header.clone(),
        same_clock: cfg.same_host,
    };
    let budget = max_conns.map(AtomicU64::new);
    let threads = cfg.threads;
    let progress =
        (cfg.progress && duration >= PROGRESS_MIN).then(|| progress::Progress::new(threads));
    let read_host = || HostCpu::read().map_err(|e| Error::io("reading /proc/stat", e));
    let host_before = read_host()?;
    // (The first reading finds the ksoftirqd threads in /proc: before the client's clock.)
    let softirqd_before = softirq::ksoftirqd_ns();
    let cpu_before = process_cpu_ns();
    let start = monotonic_ns();
    let ctx = engine::PhaseCtx {
        cfg,
        requests: &requests,
        start_ns: start,
        end_ns: start + duration.as_nanos() as u64,
        budget: budget.as_ref(),
        abort,
        progress: progress.as_ref(),
    };
    let done = AtomicBool::new(false);
    let results: Vec<_> = std::thread::scope(|s| {
        if let Some(p) = &progress {
            let done = &done;
            s.spawn(move || {
                let _ = affinity::pin_current(cfg.cpus.as_ref());
                p.display(cfg.shape.name(), done)
            });
        }
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let conns = cfg.concurrency / threads + usize::from(t < cfg.concurrency % threads);
                let ctx = &ctx;
                s.spawn(move || {
                    // Timers (the open-loop pacer's) fire within 1 ns of their time rather
                    // than the default 50 µs slack; failure only costs precision.
                    let _ = nix::sys::prctl::set_timerslack(1);
                    affinity::pin_current(cfg.cpus.as_ref())
                        .map_err(|e| io::Error::other(format!("--client-cpus: {e}")))?;
                    engine::run(ctx, t, threads, conns)
                })
            })
            .collect();
        let r: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        done.store(true, Ordering::Relaxed);
        r
    });
    let elapsed = Duration::from_nanos(monotonic_ns() - start);
    let process_cpu_ns = process_cpu_ns().saturating_sub(cpu_before);
    let softirqd_ns = softirq::ksoftirqd_ns().saturating_sub(softirqd_before);
    let host_after = read_host()?;
    let tps = crate::sys::clock::clock_ticks_per_sec();
    let capacity_ns = host_after.capacity_ns_since(&host_before);
    // Interrupt time in /proc/stat is in no task's time only when the kernel accounts it apart;
    // otherwise it was charged to the threads it interrupted (herd's, mostly) already.
    let irq_apart = match softirq::irq_time_accounted() {
        Some(true) => host_after.irq_pct_since(&host_before, tps),
        _ => 0.0,
    };
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
        host_busy_pct: host_after.busy_pct_since(&host_before, tps),
        steal_pct: host_after.steal_pct_since(&host_before, tps),
        irq_pct: irq_apart + 100.0 * softirqd_ns as f64 / capacity_ns.max(1) as f64,
        process_cpu_ns,
        capacity_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_local_addresses_are_this_host_others_are_not() {
        assert!(on_this_host("127.0.0.1".parse().unwrap()));
        assert!(on_this_host("127.9.8.7".parse().unwrap()));
        // TEST-NET-1 (RFC 5737) is assigned to no host.
        assert!(!on_this_host("192.0.2.1".parse().unwrap()));
        let remote = SocketAddr::from(([192, 0, 2, 1], 80));
        let local = SocketAddr::from(([127, 0, 0, 1], 80));
        let cfg = LoadConfig::new(local, 1, None, Duration::from_secs(1));
        assert!(cfg.same_host);
        assert!(!cfg.with_target(remote).same_host);
    }
}
