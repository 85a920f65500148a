//! The master of `herd serve`: single-threaded, it sets up what the strategy shares, forks the
//! workers, prints `listening ADDR` once every worker is ready, then waits for signals on a
//! signalfd:
//!
//! - SIGTERM, SIGINT: graceful stop. Workers finish their in-flight connection and exit; the
//!   signal is repeated every 100 ms (a worker can be between its stop check and accept()),
//!   and after `--graceful-timeout` the rest get SIGKILL. Every worker is reaped; exit 0.
//! - SIGQUIT: immediate stop (SIGKILL to every worker), reaped; exit 0.
//! - SIGUSR1: print the scoreboard as one `scoreboard {json}` line on stdout.
//! - SIGCHLD: reap. A worker that dies while the server is not stopping is reported on stderr
//!   and as a `worker-exit {json}` line on stdout.
use super::worker::{Loop, WorkerCtx};
use super::ServerConfig;
use crate::metrics::{Scoreboard, Snapshot};
use crate::strategy::Shared;
use crate::sys::process::{self, Forked};
use crate::sys::signal;
use crate::Error;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// How long the master waits for every worker to report ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a stop signal is repeated while workers are still running.
const STOP_REPEAT: Duration = Duration::from_millis(100);

/// Why a worker's process ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerExit {
    pub worker: usize,
    pub pid: i32,
    /// `exit N` or `signal N (NAME)`.
    pub status: String,
}

struct Worker {
    pid: Pid,
    alive: bool,
}

/// The forked workers. Dropping it kills and reaps any still alive, so no error path in the
/// master leaves a worker behind.
struct Workers {
    list: Vec<Worker>,
}

impl Workers {
    fn live(&self) -> impl Iterator<Item = &Worker> {
        self.list.iter().filter(|w| w.alive)
    }

    fn signal_all(&self, sig: Signal) {
        for w in self.live() {
            let _ = kill(w.pid, sig);
        }
    }

    /// Reap every child that has exited, without blocking.
    fn reap(&mut self) -> Vec<WorkerExit> {
        let mut exits = Vec::new();
        loop {
            let (pid, status) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, format!("exit {code}")),
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    (pid, format!("signal {} ({sig})", sig as i32))
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            };
            if let Some((i, w)) = self.list.iter_mut().enumerate().find(|(_, w)| w.pid == pid) {
                w.alive = false;
                exits.push(WorkerExit {
                    worker: i,
                    pid: pid.as_raw(),
                    status,
                });
            }
        }
        exits
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.signal_all(Signal::SIGKILL);
        for w in self.list.iter_mut().filter(|w| w.alive) {
            let _ = waitpid(w.pid, None);
            w.alive = false;
        }
    }
}

/// Run the server until it is told to stop.
pub fn serve(cfg: &ServerConfig) -> Result<(), Error> {
    cfg.strategy
        .supported()
        .map_err(|why| Error::Usage(format!("--strategy {}: {why}", cfg.strategy)))?;
    cfg.strategy_options
        .check(cfg.strategy)
        .map_err(Error::Usage)?;
    let board = Scoreboard::new(cfg.workers).map_err(|e| Error::io("mapping the scoreboard", e))?;
    let shared = cfg
        .strategy
        .prepare(&cfg.listen, cfg.workers, &cfg.strategy_options)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::PermissionDenied => {
                Error::Usage(format!("--addr {}: {e}", cfg.listen.addr))
            }
            _ => Error::io(format!("setting up strategy {}", cfg.strategy), e),
        })?;
    let addr = shared
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;

    // Block the master's signals before forking: the workers inherit the mask and unblock what
    // they handle, and nothing arrives before the signalfd exists.
    let mask = signal::master_signals();
    signal::block(&mask).map_err(|e| Error::io("blocking signals", e))?;
    io::stdout().flush().map_err(|e| Error::io("stdout", e))?;

    let master_pid = std::process::id() as libc::pid_t;
    let mut workers = Workers {
        list: Vec::with_capacity(cfg.workers),
    };
    for i in 0..cfg.workers {
        match process::fork().map_err(|e| Error::io("fork", e))? {
            Forked::Child => worker_main(i, cfg, &shared, &board, master_pid),
            Forked::Parent(pid) => workers.list.push(Worker {
                pid: Pid::from_raw(pid),
                alive: true,
            }),
        }
    }
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("signalfd", e.into()))?;

    wait_ready(&board, &mut workers)?;
    eprintln!(
        "herd serve: strategy {}, {} workers, pid {master_pid}, on {addr}",
        cfg.strategy, cfg.workers
    );
    say(&format!("listening {addr}"))?;

    run_master(cfg, &board, &shared, &mut workers, &sfd)
}

/// Wait until every worker has claimed its slot (its acceptor is built and it is about to
/// wait), failing if one exits first.
fn wait_ready(board: &Scoreboard, workers: &mut Workers) -> Result<(), Error> {
    let start = Instant::now();
    loop {
        if let Some(x) = workers.reap().into_iter().next() {
            return Err(Error::Server(format!(
                "worker {} (pid {}) exited during startup: {}",
                x.worker, x.pid, x.status
            )));
        }
        if board
            .slots()
            .iter()
            .all(|s| crate::metrics::Slot::read(&s.pid) != 0)
        {
            return Ok(());
        }
        if start.elapsed() > STARTUP_TIMEOUT {
            return Err(Error::Server(
                "workers did not become ready within 30 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run_master(
    cfg: &ServerConfig,
    board: &Scoreboard,
    shared: &Shared,
    workers: &mut Workers,
    sfd: &SignalFd,
) -> Result<(), Error> {
    let mut stop_deadline: Option<Instant> = None;
    let mut last_repeat = Instant::now();
    loop {
        let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(50u16)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::io("poll on signalfd", e.into())),
        }
        while let Ok(Some(info)) = sfd.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGTERM | Signal::SIGINT) if stop_deadline.is_none() => {
                    stop_deadline = Some(Instant::now() + cfg.graceful_timeout);
                    workers.signal_all(Signal::SIGTERM);
                    last_repeat = Instant::now();
                }
                Ok(Signal::SIGQUIT) => {
                    stop_deadline = Some(Instant::now());
                    workers.signal_all(Signal::SIGKILL);
                }
                Ok(Signal::SIGUSR1) => {
                    let snap = Snapshot::take(board);
                    let json =
                        serde_json::to_string(&snap).map_err(|e| Error::Server(e.to_string()))?;
                    say(&format!("scoreboard {json}"))?;
                }
                Ok(Signal::SIGCHLD) => {}
                Ok(other) => eprintln!("herd serve: {other} is not handled; ignored"),
                Err(_) => {}
            }
        }
        for x in workers.reap() {
            match shared.on_worker_exit(x.pid as u64) {
                Ok(true) => eprintln!(
                    "herd serve: released the accept lock held by dead worker {} (pid {})",
                    x.worker, x.pid
                ),
                Ok(false) => {}
                Err(e) => eprintln!(
                    "herd serve: could not release the lock of dead worker {}: {e}",
                    x.worker
                ),
            }
            let expected =
                stop_deadline.is_some() && (x.status == "exit 0" || x.status.contains("SIGKILL"));
            if !expected {
                eprintln!(
                    "herd serve: worker {} (pid {}) died: {}",
                    x.worker, x.pid, x.status
                );
                let json = serde_json::to_string(&x).map_err(|e| Error::Server(e.to_string()))?;
                say(&format!("worker-exit {json}"))?;
            }
        }
        if workers.live().next().is_none() {
            return match stop_deadline {
                Some(_) => Ok(()),
                None => Err(Error::Server("every worker has died".into())),
            };
        }
        if let Some(deadline) = stop_deadline {
            if Instant::now() >= deadline {
                workers.signal_all(Signal::SIGKILL);
            } else if last_repeat.elapsed() >= STOP_REPEAT {
                workers.signal_all(Signal::SIGTERM);
                last_repeat = Instant::now();
            }
        }
    }
}

/// One line on stdout, flushed at once (`herd run` reads it through a pipe).
fn say(line: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("stdout", e))
}

/// The body of a forked worker process. Never returns.
fn worker_main(
    index: usize,
    cfg: &ServerConfig,
    shared: &Shared,
    board: &Scoreboard,
    master: libc::pid_t,
) -> ! {
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process::die_with_parent(libc::SIGTERM, master)?;
        signal::install_worker_handlers()?;
        let slot = board.slot(index);
        let ctx = WorkerCtx { index, slot, cfg };
        shared.with_acceptor(index, ReadyThenLoop { ctx: &ctx })?
    }));
    let code = match code {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            eprintln!(
                "herd serve: worker {index} (pid {}): {e}",
                std::process::id()
            );
            1
        }
        Err(_) => 101,
    };
    process::exit_now(code)
}

/// Claims the worker's slot once its acceptor exists, then runs the loop.
struct ReadyThenLoop<'a> {
    ctx: &'a WorkerCtx<'a>,
}

impl crate::strategy::RunWorker<io::Result<()>> for ReadyThenLoop<'_> {
    fn run<A: crate::strategy::Acceptor>(self, acceptor: A) -> io::Result<()> {
        self.ctx.slot.claim(std::process::id(), process::gettid());
        Loop(self.ctx).run(acceptor)
    }
}
