//! The master of `herd serve`: single-threaded, it sets up what the strategy shares, forks the
//! workers, prints `listening ADDR` once every worker is ready, then waits for signals on a
//! signalfd ([`events`] handles them):
//!
//! - SIGTERM, SIGINT: graceful stop. Workers finish their in-flight connection and exit; the
//!   signal is repeated every 100 ms (a worker can be between its stop check and accept()),
//!   and after `--graceful-timeout` the rest get SIGKILL. Every worker is reaped; exit 0.
//! - SIGQUIT: immediate stop (SIGKILL to every worker), reaped; exit 0.
//! - SIGHUP: graceful reload. A new generation of workers starts in free scoreboard slots; once
//!   it has claimed its slots (or after 5 s), the old workers get SIGTERM, finish their
//!   connection and exit (SIGKILL after `--graceful-timeout`). The listening socket stays open
//!   in the master throughout, so nothing queued on it is dropped. `reuseport`: see
//!   `--reuseport-reload`.
//! - SIGTTIN / SIGTTOU: one worker more / fewer (at least 1, at most 1024).
//! - SIGCHLD: reap. A serving worker that dies unexpectedly is reported (stderr and a
//!   `worker-exit {json}` line), counted in its slot's `restarts`, and restarted in its slot,
//!   at once the first time and with a doubling backoff (50 ms .. 2 s) while its successors keep
//!   dying within 1 s of starting. If it held an accept lock the kernel does not recover, the
//!   master releases it (`Shared::on_worker_exit`).
//! - SIGUSR1: print the scoreboard (active workers, lock holder, reloads) as one
//!   `scoreboard {json}` line on stdout.
//! - SIGUSR2: fault injection: the next worker to take the accept lock dies holding it.
//! - SIGWINCH: fault injection: the next worker to take the accept lock stops itself
//!   (SIGSTOP) holding it. With `--lock-watchdog`, the master kills a holder stuck like that
//!   ([`watchdog`]).
//!
//! A hand-off strategy (`handoff-*`) has an acceptor process beside the workers: forked after
//! them, ready when it has claimed its own slot, restarted like a worker when it dies (the
//! connections it held are counted as lost, `handoff_lost` in the scoreboard), and replaced
//! when SIGTTIN adds a seat whose channel it does not hold yet.
mod events;
mod pool;
mod watchdog;

pub(super) use pool::{backoff, QUICK_DEATH};

use super::worker::{self, WorkerCtx};
use super::ServerConfig;
use crate::fault;
use crate::metrics::Scoreboard;
use crate::protocol::{self, Line};
use crate::strategy::Shared;
use crate::sys::process::{self, Forked};
use crate::sys::signal;
use crate::Error;
use clap::ValueEnum;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use pool::{Pool, Role, Seat, Worker};
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// How long the master waits for every worker to report ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a reload does with `reuseport`'s per-worker sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ReuseportReload {
    /// Each new worker takes over its predecessor's socket (held by the master): nothing lost.
    #[default]
    Keep,
    /// Bind new sockets and shut the old ones down: connections queued on them are reset
    /// (unless net.ipv4.tcp_migrate_req=1 migrates them). For measuring that loss.
    Recreate,
    /// As recreate, with `reuseport-ebpf`'s program loaded as SELECT_OR_MIGRATE (Linux 5.14):
    /// it places the connections queued on each closing socket on a new one, whatever
    /// net.ipv4.tcp_migrate_req says.
    Migrate,
}

impl std::fmt::Display for ReuseportReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReuseportReload::Keep => "keep",
            ReuseportReload::Recreate => "recreate",
            ReuseportReload::Migrate => "migrate",
        })
    }
}

/// What the master needs to fork a worker.
pub(super) struct Ctx<'a> {
    pub cfg: &'a ServerConfig,
    pub board: &'a Scoreboard,
    pub master_pid: libc::pid_t,
    /// Where the server listens (the watchdog reads its accept queue).
    pub addr: std::net::SocketAddr,
}

/// Run the server until it is told to stop.
pub fn serve(cfg: &ServerConfig) -> Result<(), Error> {
    let (board, mut shared, addr) = super::prepare(cfg)?;
    if cfg.lock_watchdog.is_some() && shared.lock_holder().is_none() {
        eprintln!(
            "herd serve: --lock-watchdog: strategy {} has no accept lock; nothing to watch",
            cfg.strategy
        );
    }
    let cfg = &super::open_trace(cfg)?;
    fault::install_shared().map_err(|e| Error::io("mapping the fault word", e))?;

    // Block the master's signals before forking: the workers inherit the mask and unblock what
    // they handle, and nothing arrives before the signalfd exists.
    let mask = signal::master_signals();
    signal::block(&mask).map_err(|e| Error::io("blocking signals", e))?;
    io::stdout().flush().map_err(|e| Error::io("stdout", e))?;

    let ctx = Ctx {
        cfg,
        board: &board,
        master_pid: std::process::id() as libc::pid_t,
        addr,
    };
    let mut pool = Pool::default();
    for i in 0..cfg.workers {
        pool.seats.push(Seat {
            slot: i,
            quick_deaths: 0,
            restart_at: None,
        });
        spawn(&ctx, &shared, &mut pool, i, i)?;
    }
    if shared.acceptor_side().is_some() {
        spawn_acceptor(&ctx, &shared, &mut pool)?;
    }
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("signalfd", e.into()))?;

    wait_ready(&board, &shared, &mut pool)?;
    eprintln!(
        "herd serve: strategy {}, {} workers, pid {}, on {addr}",
        cfg.strategy, cfg.workers, ctx.master_pid
    );
    fault::server_ready();
    say(&Line::Listening(addr))?;

    events::Master::new(&ctx, &mut shared, pool).run(&sfd)
}

/// Fork a worker for `seat` into scoreboard slot `slot` and record it.
pub(super) fn spawn(
    ctx: &Ctx<'_>,
    shared: &Shared,
    pool: &mut Pool,
    seat: usize,
    slot: usize,
) -> Result<(), Error> {
    ctx.board.set_active(slot, true);
    match process::fork().map_err(|e| Error::io("fork", e))? {
        Forked::Child => worker_main(slot, seat, ctx, shared),
        Forked::Parent(pid) => pool.workers.push(Worker {
            pid: Pid::from_raw(pid),
            slot,
            seat,
            started: Instant::now(),
            role: Role::Serving,
        }),
    }
    Ok(())
}

/// Fork a hand-off strategy's acceptor and record it.
pub(super) fn spawn_acceptor(ctx: &Ctx<'_>, shared: &Shared, pool: &mut Pool) -> Result<(), Error> {
    match process::fork().map_err(|e| Error::io("fork", e))? {
        Forked::Child => acceptor_main(ctx, shared),
        Forked::Parent(pid) => pool.workers.push(Worker {
            pid: Pid::from_raw(pid),
            slot: usize::MAX,
            seat: usize::MAX,
            started: Instant::now(),
            role: Role::Acceptor,
        }),
    }
    Ok(())
}

/// Whether the acceptor, if any, has claimed its slot.
fn acceptor_ready(shared: &Shared, pool: &Pool) -> bool {
    match (shared.acceptor_side(), pool.acceptor()) {
        (Some(h), Some(a)) => crate::metrics::Slot::read(&h.slot().pid) == a.pid.as_raw() as u64,
        _ => true,
    }
}

/// Wait until every worker (and the hand-off acceptor) has claimed its slot (its acceptor is
/// built and it is about to wait), failing if one exits first.
fn wait_ready(board: &Scoreboard, shared: &Shared, pool: &mut Pool) -> Result<(), Error> {
    let start = Instant::now();
    loop {
        if let Some((w, status)) = pool.reap().into_iter().next() {
            let who = match w.role {
                Role::Acceptor => "the hand-off acceptor".to_string(),
                _ => format!("worker {}", w.slot),
            };
            return Err(Error::Server(format!(
                "{who} (pid {}) exited during startup: {status}",
                w.pid
            )));
        }
        if pool
            .serving()
            .all(|w| crate::metrics::Slot::read(&board.slot(w.slot).pid) == w.pid.as_raw() as u64)
            && acceptor_ready(shared, pool)
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

/// One protocol line on stdout.
pub(super) fn say(line: &Line) -> Result<(), Error> {
    protocol::say(line).map_err(|e| Error::io("stdout", e))
}

/// The body of the forked hand-off acceptor. Never returns.
fn acceptor_main(ctx: &Ctx<'_>, shared: &Shared) -> ! {
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> io::Result<()> {
        process::die_with_parent(libc::SIGTERM, ctx.master_pid)?;
        signal::install_worker_handlers()?;
        process::set_name(protocol::ACCEPTOR_NAME)?;
        let Some(h) = shared.acceptor_side() else {
            return Err(io::Error::other("no hand-off acceptor in this strategy"));
        };
        h.slot()
            .claim(std::process::id(), crate::sys::process::gettid());
        crate::strategy::handoff::acceptor::run(h)
    }));
    let code = match code {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            eprintln!("herd serve: acceptor (pid {}): {e}", std::process::id());
            1
        }
        Err(_) => 101,
    };
    process::exit_now(code)
}

/// The body of a forked worker process. Never returns.
fn worker_main(slot: usize, seat: usize, ctx: &Ctx<'_>, shared: &Shared) -> ! {
    let cfg = ctx.cfg;
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process::die_with_parent(libc::SIGTERM, ctx.master_pid)?;
        signal::install_worker_handlers()?;
        fault::install_in_worker(&cfg.faults);
        let wctx = WorkerCtx {
            index: slot,
            slot: ctx.board.slot(slot),
            epoch: ctx.board.epoch(),
            cfg,
        };
        worker::run(shared, seat, &wctx, true)
    }));
    let code = match code {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            eprintln!(
                "herd serve: worker {slot} (pid {}): {e}",
                std::process::id()
            );
            1
        }
        Err(_) => 101,
    };
    process::exit_now(code)
}
