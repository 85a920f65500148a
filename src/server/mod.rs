//! The prefork server (`herd serve`): a single-threaded master that binds, forks and reaps
//! ([`master`]), or the same workers as threads of one process ([`threads`]); workers that run
//! one strategy's accept loop in one of two models, one connection at a time or an event loop
//! over many ([`worker`]), and serve minimal HTTP/1.1 ([`http`]); and the per-connection trace
//! ([`trace`]). What it says on stdout is [`crate::protocol`].
pub(crate) mod http;
#[cfg(test)]
pub(crate) mod http_props;
mod lifeline;
mod master;
mod threads;
mod trace;
mod worker;

pub use master::ReuseportReload;

use crate::strategy::ListenConfig;
use crate::strategy::{Mode, StrategyKind, StrategyOptions, WorkerModel};
use crate::sys::affinity::{self, CpuSet};
use crate::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A validated server configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub strategy: StrategyKind,
    pub workers: usize,
    pub listen: ListenConfig,
    /// CPU time to burn per request.
    pub work: Duration,
    /// Time to sleep per request (a backend call: the worker is busy, the CPU is free).
    pub sleep: Duration,
    /// How long a graceful stop waits for workers before SIGKILL.
    pub graceful_timeout: Duration,
    /// Requests served on one keep-alive connection before the server closes it.
    pub max_requests_per_conn: u32,
    /// Flags that tune the strategy (`--multi-accept`, `--accept-mutex-*`, `--incoming-cpu`).
    pub strategy_options: StrategyOptions,
    /// Fault injection and worker resource limits (`--fault`, `--worker-nofile`).
    pub faults: crate::fault::FaultConfig,
    /// What a reload does with `reuseport`'s sockets (`--reuseport-reload`).
    pub reuseport_reload: ReuseportReload,
    /// `--trace FILE`: where to write one row per accepted connection.
    pub trace: Option<PathBuf>,
    /// The open trace, made by [`serve`] before any worker starts (`None` when not tracing).
    pub tracer: Option<Arc<trace::Tracer>>,
    /// How each worker serves its connections (`--worker-model`).
    pub worker_model: WorkerModel,
    /// Event model: the most connections one worker holds open (`--worker-connections`).
    pub worker_connections: usize,
    /// Stop gracefully when standard input reaches end of file (`--stop-on-stdin-eof`: the
    /// driver holds the pipe, see [`lifeline`]).
    pub stop_on_stdin_eof: bool,
    /// Process mode, lock strategies: kill a worker that holds the accept lock this long while
    /// connections wait (`--lock-watchdog`).
    pub lock_watchdog: Option<Duration>,
    /// `--server-cpus`: the CPUs the whole server runs on (`None`: not pinned). [`serve`] pins
    /// the master's thread before anything else starts, so every worker process or thread, in
    /// either model, inherits the set, and so does any helper the master starts later.
    pub cpus: Option<CpuSet>,
}

/// `herd serve`: run the workers as processes ([`master`]) or as threads ([`threads`]) until
/// told to stop. Each opens the trace, if any, once its socket is bound ([`open_trace`]).
pub fn serve(cfg: &ServerConfig) -> Result<(), Error> {
    match cfg.listen.mode {
        Mode::Process => master::serve(cfg),
        Mode::Thread => threads::serve(cfg),
    }
}

/// `cfg` with its trace open, if it asks for one: called after the socket is bound, so that a
/// server that cannot start leaves no trace file behind.
pub(crate) fn open_trace(cfg: &ServerConfig) -> Result<ServerConfig, Error> {
    let mut cfg = cfg.clone();
    pin_server(&cfg)?;
    if let Some(path) = &cfg.trace {
        let t = trace::Tracer::create(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound
            | std::io::ErrorKind::PermissionDenied
            | std::io::ErrorKind::InvalidInput => {
                Error::Usage(format!("--trace {}: {e}", path.display()))
            }
            _ => Error::file(path, e),
        })?;
        cfg.tracer = Some(Arc::new(t));
    }
    Ok(cfg)
}

/// `--server-cpus`: pin the calling thread, the master's, before it forks or spawns anything.
/// This is the one place the server's CPUs are set: workers (processes or threads, sync or
/// event), respawned workers and any process or thread a strategy's master starts (a hand-off
/// acceptor) inherit the set. A helper that must run on other CPUs than the workers calls
/// [`affinity::pin`] itself.
pub(crate) fn pin_server(cfg: &ServerConfig) -> Result<(), Error> {
    affinity::pin_current(cfg.cpus.as_ref()).map_err(|e| {
        Error::Usage(format!(
            "--server-cpus {}: sched_setaffinity: {e}",
            cfg.cpus.as_ref().map(CpuSet::to_string).unwrap_or_default()
        ))
    })
}

/// Check the strategy and its options, map the scoreboard and set up what the strategy
/// shares: the first steps of both the process and the thread master.
pub(crate) fn prepare(
    cfg: &ServerConfig,
) -> Result<
    (
        crate::metrics::Scoreboard,
        crate::strategy::Shared,
        std::net::SocketAddr,
    ),
    Error,
> {
    let board = crate::metrics::Scoreboard::new(cfg.workers)
        .map_err(|e| Error::io("mapping the scoreboard", e))?;
    let shared = cfg
        .strategy
        .prepare(&cfg.listen, cfg.workers, &cfg.strategy_options)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse
            | std::io::ErrorKind::AddrNotAvailable
            | std::io::ErrorKind::PermissionDenied => {
                Error::Usage(format!("--addr {}: {e}", cfg.listen.addr))
            }
            _ => Error::io(format!("setting up strategy {}", cfg.strategy), e),
        })?;
    let addr = shared
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    Ok((board, shared, addr))
}
