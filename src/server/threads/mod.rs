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
//! - SIGHUP: graceful reload, as in process mode: a new generation of worker threads starts in
//!   free scoreboard slots; once it has claimed them (or after 5 s) each old thread gets the
//!   drain signal ([`signal::thread_drain_signal`], its own stop flag), finishes its
//!   connections and ends. The listening socket never closes. `reuseport`: the new threads
//!   take over the seats' sockets (`--reuseport-reload recreate` needs processes).
//! - SIGTTIN / SIGTTOU: one worker thread more / fewer (`reuseport`: only up to the sockets
//!   bound at start, which a running thread shares and cannot be re-bound under it).
//! - SIGUSR1: the scoreboard, as in process mode (each slot has the worker's pid and tid, so
//!   the kernel counts come from /proc/PID/task/TID).
//! - A worker thread that panics or fails is caught (catch_unwind), reported on stderr and as a
//!   `worker-exit {json}` line whose `pid` is the thread's tid; an accept lock it held is
//!   released as for a dead process; and it is restarted in its slot, at once the first time
//!   and with the process master's backoff while its successors keep dying young. (`--fault
//!   crash-after:N` makes a worker thread panic, where a process would exit.)
//! - SIGUSR2 / SIGWINCH: fault injection, as in process mode, in the form a thread can take:
//!   the next worker thread to take the accept lock panics holding it (and is handled as
//!   above), or sleeps holding it until it is told to stop (frozen; no watchdog can end a
//!   thread, so the lock strategies stall until a stop or a reload drains it).
//! - A hand-off strategy's acceptor is a thread too ([`acceptor`]).
use super::lifeline::Lifeline;
use super::worker::{self, WorkerCtx};
use super::ServerConfig;
use crate::metrics::{Scoreboard, Snapshot};
use crate::protocol::{self, Line};
use crate::strategy::Shared;
use crate::sys::process::gettid;
use crate::sys::signal;
use crate::Error;
use acceptor::AcceptorThread;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use pool::{Pool, Role, Seat, WorkerThread};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::Scope;
use std::time::{Duration, Instant};

mod acceptor;
mod pool;
mod seats;

/// How long the master waits for every worker to report ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the stop (or drain) signal is repeated while workers are still running.
const STOP_REPEAT: Duration = Duration::from_millis(100);
/// After a reload, how long the old generation waits for the new one to be ready.
const READY_WAIT: Duration = Duration::from_secs(5);

/// Run the server with thread workers until it is told to stop.
pub fn serve(cfg: &ServerConfig) -> Result<(), Error> {
    let (board, shared, addr) = super::prepare(cfg)?;
    let cfg = &super::open_trace(cfg)?;
    crate::fault::install_shared().map_err(|e| Error::io("mapping the fault word", e))?;
    signal::ignore_sigpipe().map_err(|e| Error::io("ignoring SIGPIPE", e))?;
    let mask = signal::master_signals();
    signal::block(&mask).map_err(|e| Error::io("blocking signals", e))?;
    signal::install_thread_stop().map_err(|e| Error::io("installing the stop signal", e))?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("signalfd", e.into()))?;
    io::stdout().flush().map_err(|e| Error::io("stdout", e))?;

    std::thread::scope(|s| {
        let mut m = Master {
            scope: s,
            cfg,
            board: &board,
            shared: &shared,
            pool: Pool {
                threads: Vec::new(),
                seats: Vec::new(),
            },
            stop: None,
            overdue_said: false,
            reloads: 0,
            acceptor: AcceptorThread::default(),
        };
        for i in 0..cfg.workers {
            m.pool.seats.push(Seat {
                slot: i,
                quick_deaths: 0,
                restart_at: None,
            });
            m.spawn(i, i)?;
        }
        m.spawn_acceptor()?;
        m.wait_ready()?;
        crate::fault::server_ready();
        eprintln!(
            "herd serve: strategy {}, {} worker threads, pid {}, on {addr}",
            cfg.strategy,
            cfg.workers,
            std::process::id()
        );
        say(&Line::Listening(addr))?;
        m.run(&sfd)
    })
}

/// How a worker thread ended: `exit 0` (stopped), `error: ...` or `panic: ...`.
type Status = String;

/// The body of worker thread in `slot`, for `seat`.
fn worker_thread(
    slot: usize,
    seat: usize,
    cfg: &ServerConfig,
    shared: &Shared,
    board: &Scoreboard,
    tid: &AtomicI32,
) -> Status {
    tid.store(gettid(), Ordering::Release);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> io::Result<()> {
        signal::unblock_thread_stop()?;
        crate::fault::install_in_thread_worker(&cfg.faults);
        let ctx = WorkerCtx {
            index: slot,
            slot: board.slot(slot),
            epoch: board.epoch(),
            cfg,
        };
        worker::run(shared, seat, &ctx, false)
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

/// The thread master: the process master's duties for threads of this process.
struct Master<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    cfg: &'env ServerConfig,
    board: &'env Scoreboard,
    shared: &'env Shared,
    pool: Pool<'scope>,
    /// Graceful-stop deadline, and when the stop signal was last repeated.
    stop: Option<(Instant, Instant)>,
    overdue_said: bool,
    reloads: u64,
    /// A hand-off strategy's acceptor thread.
    acceptor: AcceptorThread<'scope>,
}

impl<'scope, 'env> Master<'scope, 'env> {
    /// Start a worker thread for `seat` in scoreboard slot `slot`.
    fn spawn(&mut self, seat: usize, slot: usize) -> Result<(), Error> {
        self.board.set_active(slot, true);
        let tid = Arc::new(AtomicI32::new(0));
        let (cfg, shared, board, t) = (self.cfg, self.shared, self.board, tid.clone());
        let handle = std::thread::Builder::new()
            .name(format!("herd-worker-{slot}"))
            .spawn_scoped(self.scope, move || {
                worker_thread(slot, seat, cfg, shared, board, &t)
            })
            .map_err(|e| Error::io("spawning a worker thread", e))?;
        self.pool.threads.push(WorkerThread {
            handle,
            tid,
            slot,
            seat,
            started: Instant::now(),
            role: Role::Serving,
        });
        Ok(())
    }

    /// Wait until every worker has claimed its slot, failing if one ends first.
    fn wait_ready(&mut self) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            if let Some(x) = self
                .pool
                .join_finished(self.shared, self.board)
                .into_iter()
                .next()
            {
                return Err(Error::Server(format!(
                    "worker thread {} (tid {}) ended during startup: {}",
                    x.exit.worker, x.exit.pid, x.exit.status
                )));
            }
            if let Some(x) = self.join_acceptor()? {
                return Err(Error::Server(format!(
                    "the acceptor thread (tid {}) ended during startup: {}",
                    x.pid, x.status
                )));
            }
            if self.pool.ready(self.board) && self.acceptor_ready() {
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

    fn run(&mut self, sfd: &SignalFd) -> Result<(), Error> {
        let mut lifeline = Lifeline::new(self.cfg.stop_on_stdin_eof);
        loop {
            let busy = self.stop.is_some()
                || self.pool.seats.iter().any(|s| s.restart_at.is_some())
                || self.acceptor.restart_at.is_some()
                || self.pool.draining() > 0;
            let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            fds.extend(lifeline.poll_fd());
            match poll(&mut fds, PollTimeout::from(if busy { 5u16 } else { 50 })) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::io("poll on signalfd", e.into())),
            }
            let life = fds.get(1).and_then(|f| f.revents());
            drop(fds);
            if lifeline.driver_gone(life) {
                self.on_signal(Signal::SIGTERM)?;
            }
            while let Ok(Some(info)) = sfd.read_signal() {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                    self.on_signal(sig)?;
                }
            }
            for x in self.pool.join_finished(self.shared, self.board) {
                self.on_exit(x)?;
            }
            self.join_acceptor()?;
            if let Some((deadline, last)) = self.stop {
                if self.live() == 0 {
                    return Ok(());
                }
                if Instant::now() >= deadline && !self.overdue_said {
                    self.overdue_said = true;
                    eprintln!(
                        "herd serve: {} worker threads still busy after --graceful-timeout; a \
                         thread cannot be killed, waiting for them to finish",
                        self.live()
                    );
                }
                if last.elapsed() >= STOP_REPEAT {
                    self.kick_all();
                    self.stop = Some((deadline, Instant::now()));
                }
                continue;
            }
            self.restart_due()?;
            self.restart_acceptor_due()?;
            self.retire_old();
        }
    }

    fn on_signal(&mut self, sig: Signal) -> Result<(), Error> {
        let stopping = self.stop.is_some();
        match sig {
            Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT if !stopping => {
                let now = Instant::now();
                self.stop = Some((now + self.cfg.graceful_timeout, now));
                self.kick_all();
            }
            Signal::SIGUSR1 => {
                let mut snap = Snapshot::take(self.board);
                snap.lock_holder = self.shared.lock_holder();
                snap.reloads = self.reloads;
                snap.draining = self.pool.draining() as u64;
                snap.worker_model = self.cfg.worker_model.name().into();
                snap.worker_connections = self.cfg.worker_connections as u64;
                self.acceptor_sample(&mut snap);
                say(&Line::Scoreboard(Box::new(snap)))?;
            }
            Signal::SIGHUP if !stopping => self.reload()?,
            Signal::SIGTTIN if !stopping => self.add_seat()?,
            Signal::SIGTTOU if !stopping => self.remove_seat(),
            Signal::SIGUSR2 => crate::fault::arm_die_next_holder(),
            Signal::SIGWINCH => crate::fault::arm_freeze_next_holder(),
            Signal::SIGCHLD => {}
            _ if stopping => {}
            other => eprintln!("herd serve: {other} is not handled in thread mode; ignored"),
        }
        Ok(())
    }

    /// Live threads: the workers (serving or draining) and the acceptor.
    fn live(&self) -> usize {
        self.pool.live() + usize::from(self.acceptor.live())
    }

    /// Raise the stop flag and send the stop signal to every live thread.
    fn kick_all(&self) {
        self.pool.kick_all();
        self.acceptor.kick();
    }
}

impl Drop for Master<'_, '_> {
    /// An error path: stop and join every live thread, so that the scope can end.
    fn drop(&mut self) {
        self.stop.get_or_insert((Instant::now(), Instant::now()));
        while self.live() > 0 {
            self.kick_all();
            std::thread::sleep(Duration::from_millis(10));
            self.pool.join_finished(self.shared, self.board);
            let _ = self.join_acceptor();
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
