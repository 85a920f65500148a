//! Thread mode (`herd serve --mode thread`): the same workers as threads of one process. The
//! main thread keeps the master's role and its stdout protocol; each worker thread runs the
//! same worker loop over the acceptor [`Shared::with_acceptor`] builds for it, so every
//! strategy works here without code of its own (a strategy whose process form cannot exclude
//! threads reads `ListenConfig::mode` in `prepare`, see [`crate::strategy::mode`]).
//!
//! Signals. The signal mask is per thread: the main thread blocks the master's signals and the
//! thread stop signal before spawning (threads inherit the mask), reads the master's signals
//! from a signalfd, and each worker thread unblocks only the thread stop signal (a real-time
//! signal, see [`signal::thread_stop_signal`]), whose handler raises the process-wide stop flag
//! without SA_RESTART, so the worker's accept(), epoll_wait() or semop() returns EINTR.
//!
//! - SIGTERM, SIGINT: graceful stop. The stop flag is raised and the stop signal sent to every
//!   live worker thread with tgkill(2), again every 100 ms until it has been joined (a thread
//!   may be between its flag check and its wait). Threads finish their in-flight connection
//!   (after a stop the server closes keep-alive connections after the current request, and a
//!   silent client is dropped after `--read-timeout`). A thread cannot be killed on its own, so
//!   past `--graceful-timeout` the master says so on stderr and keeps waiting; every thread is
//!   joined, the strategy's resources (a SysV set) are released, exit 0.
//! - SIGQUIT: as SIGTERM (there is no SIGKILL for a thread).
//! - SIGUSR1: the scoreboard, as in process mode (each slot has the worker's pid and tid, so
//!   the kernel counts come from /proc/PID/task/TID).
//! - A worker thread that panics or fails is caught (catch_unwind), reported on stderr and as a
//!   `worker-exit {json}` line whose `pid` is the thread's tid; an accept lock it held is
//!   released as for a dead process. It is not restarted.
use super::lifeline::Lifeline;
use super::worker::{self, WorkerCtx};
use super::ServerConfig;
use crate::metrics::{Scoreboard, Slot, Snapshot};
use crate::protocol::{self, Line, WorkerExit};
use crate::strategy::Shared;
use crate::sys::process::gettid;
use crate::sys::signal;
use crate::Error;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

/// How long the master waits for every worker to report ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the stop signal is repeated while workers are still running.
const STOP_REPEAT: Duration = Duration::from_millis(100);

/// Run the server with thread workers until it is told to stop.
pub fn serve(cfg: &ServerConfig) -> Result<(), Error> {
    let (board, shared, addr) = super::prepare(cfg)?;
    let cfg = &super::open_trace(cfg)?;
    signal::ignore_sigpipe().map_err(|e| Error::io("ignoring SIGPIPE", e))?;
    let mask = signal::master_signals();
    signal::block(&mask).map_err(|e| Error::io("blocking signals", e))?;
    signal::install_thread_stop().map_err(|e| Error::io("installing the stop signal", e))?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("signalfd", e.into()))?;
    io::stdout().flush().map_err(|e| Error::io("stdout", e))?;

    let tids: Vec<AtomicI32> = (0..cfg.workers).map(|_| AtomicI32::new(0)).collect();
    std::thread::scope(|s| {
        let mut threads = Threads {
            list: Vec::with_capacity(cfg.workers),
            tids: &tids,
            shared: &shared,
        };
        for (i, tid) in tids.iter().enumerate() {
            let (shared, board) = (&shared, &board);
            let handle = std::thread::Builder::new()
                .name(format!("herd-worker-{i}"))
                .spawn_scoped(s, move || worker_thread(i, cfg, shared, board, tid))
                .map_err(|e| Error::io("spawning a worker thread", e))?;
            threads.list.push(Some(handle));
        }
        threads.wait_ready(&board)?;
        eprintln!(
            "herd serve: strategy {}, {} worker threads, pid {}, on {addr}",
            cfg.strategy,
            cfg.workers,
            std::process::id()
        );
        say(&Line::Listening(addr))?;
        run_master(cfg, &board, &mut threads, &sfd)
    })
}

/// How a worker thread ended: `exit 0` (stopped), `error: ...` or `panic: ...`.
type Status = String;

/// The body of worker thread `index`.
fn worker_thread(
    index: usize,
    cfg: &ServerConfig,
    shared: &Shared,
    board: &Scoreboard,
    tid: &AtomicI32,
) -> Status {
    tid.store(gettid(), Ordering::Release);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> io::Result<()> {
        signal::unblock_thread_stop()?;
        let ctx = WorkerCtx {
            index,
            slot: board.slot(index),
            epoch: board.epoch(),
            cfg,
        };
        worker::run(shared, index, &ctx, false)
    }));
    status_of(res)
}

/// The status line of a worker thread's end, from what its body returned or how it panicked.
fn status_of(res: std::thread::Result<io::Result<()>>) -> Status {
    match res {
        Ok(Ok(())) => "exit 0".into(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            format!("panic: {msg}")
        }
    }
}

/// The worker threads. Dropping it (an error path) stops and joins every live thread, so the
/// scope can end.
struct Threads<'scope, 'env> {
    list: Vec<Option<ScopedJoinHandle<'scope, Status>>>,
    tids: &'env [AtomicI32],
    shared: &'env Shared,
}

impl Threads<'_, '_> {
    fn live(&self) -> usize {
        self.list.iter().flatten().count()
    }

    /// Raise the stop flag and send the stop signal to every live thread.
    fn kick(&self) {
        signal::request_stop();
        for (i, h) in self.list.iter().enumerate() {
            let tid = self.tids[i].load(Ordering::Acquire);
            if h.is_some() && tid != 0 {
                // ESRCH: the thread has just exited; it is joined next.
                let _ = signal::tgkill(tid, signal::thread_stop_signal());
            }
        }
    }

    /// Join every thread that has finished.
    fn join_finished(&mut self) -> Vec<WorkerExit> {
        let mut exits = Vec::new();
        for (i, h) in self.list.iter_mut().enumerate() {
            if !h.as_ref().is_some_and(|h| h.is_finished()) {
                continue;
            }
            let Some(handle) = h.take() else { continue };
            let status = handle.join().unwrap_or_else(|_| "panic".into());
            let tid = self.tids[i].load(Ordering::Acquire);
            match self.shared.on_worker_exit(tid as u64) {
                Ok(true) => eprintln!(
                    "herd serve: released the accept lock held by dead worker {i} (tid {tid})"
                ),
                Ok(false) => {}
                Err(e) => eprintln!("herd serve: could not release the lock of worker {i}: {e}"),
            }
            exits.push(WorkerExit {
                worker: i,
                pid: tid,
                status,
            });
        }
        exits
    }

    /// Wait until every worker has claimed its slot, failing if one ends first.
    fn wait_ready(&mut self, board: &Scoreboard) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            if let Some(x) = self.join_finished().into_iter().next() {
                return Err(Error::Server(format!(
                    "worker thread {} (tid {}) ended during startup: {}",
                    x.worker, x.pid, x.status
                )));
            }
            if board
                .active_slots()
                .all(|i| Slot::read(&board.slot(i).pid) != 0)
            {
                return Ok(());
            }
            if start.elapsed() > STARTUP_TIMEOUT {
                return Err(Error::Server(
                    "worker threads did not become ready within 30 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Threads<'_, '_> {
    fn drop(&mut self) {
        while self.live() > 0 {
            self.kick();
            std::thread::sleep(Duration::from_millis(10));
            self.join_finished();
        }
    }
}

fn run_master(
    cfg: &ServerConfig,
    board: &Scoreboard,
    threads: &mut Threads<'_, '_>,
    sfd: &SignalFd,
) -> Result<(), Error> {
    let mut stop_deadline: Option<Instant> = None;
    let mut overdue_said = false;
    let mut last_kick = Instant::now();
    let mut lifeline = Lifeline::new(cfg.stop_on_stdin_eof);
    loop {
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        fds.extend(lifeline.poll_fd());
        match poll(&mut fds, PollTimeout::from(50u16)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::io("poll on signalfd", e.into())),
        }
        let life = fds.get(1).and_then(|f| f.revents());
        drop(fds);
        let mut signals: Vec<Option<Signal>> = Vec::new();
        if lifeline.driver_gone(life) {
            signals.push(Some(Signal::SIGTERM));
        }
        while let Ok(Some(info)) = sfd.read_signal() {
            signals.push(Signal::try_from(info.ssi_signo as i32).ok());
        }
        for sig in signals {
            match sig.ok_or(()) {
                Ok(Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT)
                    if stop_deadline.is_none() =>
                {
                    stop_deadline = Some(Instant::now() + cfg.graceful_timeout);
                    threads.kick();
                    last_kick = Instant::now();
                }
                Ok(Signal::SIGUSR1) => {
                    let mut snap = Snapshot::take(board);
                    snap.worker_model = cfg.worker_model.name().into();
                    snap.worker_connections = cfg.worker_connections as u64;
                    say(&Line::Scoreboard(Box::new(snap)))?;
                }
                Ok(Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT | Signal::SIGCHLD) => {}
                Ok(other) => eprintln!("herd serve: {other} is not handled; ignored"),
                Err(_) => {}
            }
        }
        for x in threads.join_finished() {
            if !(stop_deadline.is_some() && x.status == "exit 0") {
                eprintln!(
                    "herd serve: worker thread {} (tid {}) died: {}",
                    x.worker, x.pid, x.status
                );
                say(&Line::WorkerExit(x))?;
            }
        }
        if threads.live() == 0 {
            return match stop_deadline {
                Some(_) => Ok(()),
                None => Err(Error::Server("every worker thread has died".into())),
            };
        }
        if let Some(deadline) = stop_deadline {
            if Instant::now() >= deadline && !overdue_said {
                overdue_said = true;
                eprintln!(
                    "herd serve: {} worker threads still busy after --graceful-timeout; a thread \
                     cannot be killed, waiting for them to finish",
                    threads.live()
                );
            }
            if last_kick.elapsed() >= STOP_REPEAT {
                threads.kick();
                last_kick = Instant::now();
            }
        }
    }
}

/// One protocol line on stdout.
fn say(line: &Line) -> Result<(), Error> {
    protocol::say(line).map_err(|e| Error::io("stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_or_failing_worker_gets_a_status() {
        let caught = |f: fn() -> io::Result<()>| {
            status_of(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
        };
        assert_eq!(caught(|| Ok(())), "exit 0");
        assert_eq!(
            caught(|| Err(io::Error::other("epoll_create failed"))),
            "error: epoll_create failed"
        );
        assert_eq!(caught(|| panic!("boom")), "panic: boom");
        assert_eq!(caught(|| panic!("slot {}", 3)), "panic: slot 3");
    }
}
