//! The master's event loop: signals from the signalfd, reaped workers, due restarts, the
//! retirement of drained generations, and the graceful stop. See the module above for what
//! each signal does; a hand-off strategy's acceptor: [`acceptor`].
mod acceptor;
use super::pool::{backoff, Pool, Role, Seat, QUICK_DEATH};
use super::watchdog::Watchdog;
use super::{say, spawn, spawn_acceptor, Ctx, ReuseportReload};
use crate::fault;
use crate::metrics::{Slot, Snapshot, WorkerSample, MAX_WORKERS};
use crate::protocol::{Line, WorkerExit};
use crate::server::lifeline::Lifeline;
use crate::strategy::{reuseport, Shared};
use crate::Error;
use acceptor::AcceptorRecord;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// How often a stop signal is repeated while workers are still running.
const STOP_REPEAT: Duration = Duration::from_millis(100);
/// After a reload, how long the old generation waits for the new one to be ready before it is
/// told to stop anyway.
const READY_WAIT: Duration = Duration::from_secs(5);

pub(super) struct Master<'a> {
    ctx: &'a Ctx<'a>,
    shared: &'a mut Shared,
    pool: Pool,
    /// Graceful-stop deadline, and when SIGTERM was last repeated.
    stop: Option<(Instant, Instant)>,
    reloads: u64,
    /// `reuseport` sockets to shut down once their old workers have been told to stop.
    retiring: Vec<TcpListener>,
    /// The hand-off acceptor's record.
    acceptor: AcceptorRecord,
    /// `--stop-on-stdin-eof`: the driver's pipe.
    lifeline: Lifeline,
    /// `--lock-watchdog`.
    watchdog: Option<Watchdog>,
}

impl<'a> Master<'a> {
    pub fn new(ctx: &'a Ctx<'a>, shared: &'a mut Shared, pool: Pool) -> Self {
        Master {
            ctx,
            shared,
            pool,
            stop: None,
            reloads: 0,
            retiring: Vec::new(),
            acceptor: AcceptorRecord::default(),
            lifeline: Lifeline::new(ctx.cfg.stop_on_stdin_eof),
            watchdog: ctx
                .cfg
                .lock_watchdog
                .map(|limit| Watchdog::new(limit, ctx.addr.port())),
        }
    }

    pub fn run(mut self, sfd: &SignalFd) -> Result<(), Error> {
        loop {
            let busy = self.stop.is_some()
                || self.pool.seats.iter().any(|s| s.restart_at.is_some())
                || self.acceptor.restart_at.is_some()
                || self.pool.draining() > 0;
            let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            fds.extend(self.lifeline.poll_fd());
            match poll(&mut fds, PollTimeout::from(if busy { 5u16 } else { 50 })) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::io("poll on signalfd", e.into())),
            }
            let life = fds.get(1).and_then(|f| f.revents());
            drop(fds);
            if self.lifeline.driver_gone(life) {
                self.on_signal(Signal::SIGTERM)?;
            }
            while let Ok(Some(info)) = sfd.read_signal() {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                    self.on_signal(sig)?;
                }
            }
            for (w, status) in self.pool.reap() {
                self.on_exit(w, status)?;
            }
            if let Some((deadline, last)) = self.stop {
                if self.pool.workers.is_empty() {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    self.pool.signal_all(Signal::SIGKILL);
                } else if last.elapsed() >= STOP_REPEAT {
                    self.pool.signal_all(Signal::SIGTERM);
                    self.stop = Some((deadline, Instant::now()));
                }
                continue;
            }
            self.restart_due()?;
            self.retire_old();
            if let Some(w) = self.watchdog.as_mut() {
                if let Some(pid) = w.check(self.shared.lock_holder(), self.ctx.board) {
                    let _ = kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
                }
            }
        }
    }

    fn on_signal(&mut self, sig: Signal) -> Result<(), Error> {
        let stopping = self.stop.is_some();
        match sig {
            Signal::SIGTERM | Signal::SIGINT if !stopping => {
                let now = Instant::now();
                self.stop = Some((now + self.ctx.cfg.graceful_timeout, now));
                self.pool.signal_all(Signal::SIGTERM);
                self.retire_sockets();
            }
            Signal::SIGQUIT => {
                self.stop = Some((Instant::now(), Instant::now()));
                self.pool.signal_all(Signal::SIGKILL);
            }
            Signal::SIGUSR1 => {
                let mut snap = Snapshot::take(self.ctx.board);
                snap.lock_holder = self.shared.lock_holder();
                snap.reloads = self.reloads;
                snap.draining = self.pool.draining() as u64;
                snap.worker_model = self.ctx.cfg.worker_model.name().into();
                snap.worker_connections = self.ctx.cfg.worker_connections as u64;
                if let Some(h) = self.shared.acceptor_side() {
                    snap.acceptor = Some(WorkerSample {
                        restarts: self.acceptor.restarts,
                        ..WorkerSample::read_at(usize::MAX, h.slot(), snap.t_ns, 0)
                    });
                    snap.handoff_lost = self.acceptor.lost;
                }
                say(&Line::Scoreboard(Box::new(snap)))?;
            }
            Signal::SIGUSR2 => fault::arm_die_next_holder(),
            Signal::SIGWINCH => fault::arm_freeze_next_holder(),
            Signal::SIGHUP if !stopping => self.reload()?,
            Signal::SIGTTIN if !stopping => self.add_seat()?,
            Signal::SIGTTOU if !stopping => self.remove_seat(),
            Signal::SIGCHLD => {}
            _ if stopping => {}
            other => eprintln!("herd serve: {other} is not handled; ignored"),
        }
        Ok(())
    }

    /// Put the serving worker of `seat` (if any) out of service: it drains once the new
    /// generation is ready. Its slot leaves the scoreboard's active set.
    fn drain_seat(&mut self, seat: usize) {
        let board = self.ctx.board;
        if let Some(w) = self.pool.serving_in(seat) {
            let now = Instant::now();
            w.role = Role::Draining {
                since: now,
                signalled: None,
                last_signal: now,
            };
            board.set_active(w.slot, false);
        }
        if let Some(s) = self.pool.seats.get(seat) {
            board.set_active(s.slot, false);
        }
    }

    fn free_slot(&self) -> Result<usize, Error> {
        self.pool.free_slot(self.ctx.board).ok_or_else(|| {
            Error::Server(format!(
                "no free scoreboard slot (all {MAX_WORKERS} in use or draining)"
            ))
        })
    }

    /// SIGHUP: a new generation in free slots; the old one drains.
    fn reload(&mut self) -> Result<(), Error> {
        self.reloads += 1;
        if self.ctx.cfg.reuseport_reload != ReuseportReload::Keep {
            if let Some(r) = self.shared.reuseport_mut() {
                let old = r
                    .recreate()
                    .map_err(|e| Error::io("re-creating the reuseport sockets", e))?;
                self.retiring.extend(old);
                let seats = self.pool.seats.len();
                self.shared
                    .seats_changed(seats)
                    .map_err(|e| Error::io("placing the new reuseport sockets", e))?;
            }
        }
        for seat in 0..self.pool.seats.len() {
            self.drain_seat(seat);
            let slot = self.free_slot()?;
            self.pool.seats[seat] = Seat {
                slot,
                quick_deaths: 0,
                restart_at: None,
            };
            spawn(self.ctx, self.shared, &mut self.pool, seat, slot)?;
        }
        eprintln!(
            "herd serve: reload {}: {} new workers started, {} draining",
            self.reloads,
            self.pool.seats.len(),
            self.pool.draining()
        );
        Ok(())
    }

    /// SIGTTIN: one more worker.
    fn add_seat(&mut self) -> Result<(), Error> {
        let seat = self.pool.seats.len();
        if seat >= MAX_WORKERS {
            eprintln!("herd serve: SIGTTIN ignored: already {MAX_WORKERS} workers");
            return Ok(());
        }
        if let Some(r) = self.shared.reuseport_mut() {
            r.ensure(seat + 1)
                .map_err(|e| Error::io("binding a reuseport socket", e))?;
        }
        let slot = self.free_slot()?;
        let replace = self
            .shared
            .seats_changed(seat + 1)
            .map_err(|e| Error::io("adding a seat to the strategy", e))?;
        self.pool.seats.push(Seat {
            slot,
            quick_deaths: 0,
            restart_at: None,
        });
        spawn(self.ctx, self.shared, &mut self.pool, seat, slot)?;
        if replace {
            self.replace_acceptor();
        }
        eprintln!("herd serve: SIGTTIN: {} workers", self.pool.seats.len());
        Ok(())
    }

    /// SIGTTOU: one worker fewer (never below one).
    fn remove_seat(&mut self) {
        let n = self.pool.seats.len();
        if n <= 1 {
            eprintln!("herd serve: SIGTTOU ignored: only one worker left");
            return;
        }
        self.drain_seat(n - 1);
        self.pool.seats.pop();
        if let Some(r) = self.shared.reuseport_mut() {
            let gone = r.truncate(n - 1);
            self.retiring.extend(gone);
        }
        if let Err(e) = self.shared.seats_changed(n - 1) {
            eprintln!("herd serve: SIGTTOU: removing a seat from the strategy: {e}");
        }
        eprintln!("herd serve: SIGTTOU: {} workers", n - 1);
    }

    fn on_exit(&mut self, w: super::pool::Worker, status: String) -> Result<(), Error> {
        if w.role == Role::Acceptor {
            return self.on_acceptor_exit(w, status);
        }
        let board = self.ctx.board;
        match self.shared.on_worker_exit(w.pid.as_raw() as u64) {
            Ok(true) => eprintln!(
                "herd serve: released the accept lock held by dead worker {} (pid {})",
                w.slot, w.pid
            ),
            Ok(false) => {}
            Err(e) => eprintln!(
                "herd serve: could not release the lock of dead worker {}: {e}",
                w.slot
            ),
        }
        board.clear_pid(w.slot);
        let clean = status == "exit 0" || status.contains("SIGKILL");
        let expected = match w.role {
            _ if self.stop.is_some() => clean,
            Role::Draining { .. } => clean,
            Role::Serving => false,
            Role::Acceptor => true,
        };
        if !expected {
            eprintln!(
                "herd serve: worker {} (pid {}) died: {status}",
                w.slot, w.pid
            );
            let x = WorkerExit {
                worker: w.slot,
                pid: w.pid.as_raw(),
                status,
                role: None,
            };
            say(&Line::WorkerExit(x))?;
        }
        if matches!(w.role, Role::Draining { .. }) && w.seat >= self.pool.seats.len() {
            let last = !self.pool.workers.iter().any(|o| o.seat == w.seat);
            if last && self.stop.is_none() {
                match self.shared.seat_removed(w.seat) {
                    Ok(0) => {}
                    Ok(n) => eprintln!(
                        "herd serve: moved {n} connections from removed seat {} to the others",
                        w.seat
                    ),
                    Err(e) => eprintln!("herd serve: emptying removed seat {}: {e}", w.seat),
                }
            }
        }
        if self.stop.is_none() && w.role == Role::Serving {
            self.shared.seat_down(w.seat);
            if let Some(seat) = self.pool.seats.get_mut(w.seat) {
                if w.started.elapsed() < QUICK_DEATH {
                    seat.quick_deaths = seat.quick_deaths.saturating_add(1);
                } else {
                    seat.quick_deaths = 1;
                }
                let delay = backoff(seat.quick_deaths);
                seat.restart_at = Some(Instant::now() + delay);
                board.count_restart(w.slot);
                eprintln!(
                    "herd serve: restarting worker {} in {} ms (restart {} of this slot)",
                    w.slot,
                    delay.as_millis(),
                    board.restarts(w.slot)
                );
            }
        }
        Ok(())
    }

    /// Restart the seats whose backoff has expired, each in its own slot.
    fn restart_due(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        for seat in 0..self.pool.seats.len() {
            let s = &mut self.pool.seats[seat];
            if s.restart_at.is_some_and(|t| t <= now) {
                s.restart_at = None;
                let slot = s.slot;
                self.shared.seat_up(seat);
                spawn(self.ctx, self.shared, &mut self.pool, seat, slot)?;
            }
        }
        if self.acceptor.restart_at.is_some_and(|t| t <= now) {
            self.acceptor.restart_at = None;
            spawn_acceptor(self.ctx, self.shared, &mut self.pool)?;
        }
        Ok(())
    }

    /// Tell draining workers to stop once every serving worker has claimed its slot (or after
    /// [`READY_WAIT`]); repeat SIGTERM every 100 ms; SIGKILL after `--graceful-timeout`.
    fn retire_old(&mut self) {
        let board = self.ctx.board;
        let ready = self
            .pool
            .serving()
            .all(|w| Slot::read(&board.slot(w.slot).pid) == w.pid.as_raw() as u64);
        let grace = self.ctx.cfg.graceful_timeout;
        let now = Instant::now();
        let mut waiting = false;
        for w in &mut self.pool.workers {
            let Role::Draining {
                since,
                signalled,
                last_signal,
            } = &mut w.role
            else {
                continue;
            };
            match *signalled {
                None if ready || since.elapsed() >= READY_WAIT => {
                    let _ = kill(w.pid, Signal::SIGTERM);
                    *signalled = Some(now);
                    *last_signal = now;
                }
                None => waiting = true,
                Some(t) if t.elapsed() >= grace => {
                    let _ = kill(w.pid, Signal::SIGKILL);
                }
                Some(_) if last_signal.elapsed() >= STOP_REPEAT => {
                    let _ = kill(w.pid, Signal::SIGTERM);
                    *last_signal = now;
                }
                Some(_) => {}
            }
        }
        if !waiting {
            self.retire_sockets();
        }
    }

    fn retire_sockets(&mut self) {
        for l in self.retiring.drain(..) {
            reuseport::retire(l);
        }
    }
}
