//! The thread master's seats: reloads (a new generation beside the draining one), one worker
//! thread more or fewer, restarts of a thread that died, and the retirement of drained ones.
use super::pool::{Ended, Pool, Role, Seat};
use super::{say, Master, READY_WAIT, STOP_REPEAT};
use crate::metrics::MAX_WORKERS;
use crate::protocol::Line;
use crate::server::master::{backoff, QUICK_DEATH};
use crate::strategy::StrategyKind;
use crate::sys::signal;
use crate::Error;
use std::time::Instant;

impl Master<'_, '_> {
    pub(super) fn free_slot(&self) -> Result<usize, Error> {
        self.pool.free_slot(self.board).ok_or_else(|| {
            Error::Server(format!(
                "no free scoreboard slot (all {MAX_WORKERS} in use or draining)"
            ))
        })
    }

    /// Put the serving thread of `seat` (if any) out of service: it drains once the new
    /// generation is ready. Its slot leaves the scoreboard's active set.
    pub(super) fn drain_seat(&mut self, seat: usize) {
        let now = Instant::now();
        for t in self.pool.threads.iter_mut() {
            if t.seat == seat && t.role == Role::Serving {
                t.role = Role::Draining {
                    since: now,
                    signalled: None,
                    last_signal: now,
                };
                self.board.set_active(t.slot, false);
            }
        }
        if let Some(s) = self.pool.seats.get(seat) {
            self.board.set_active(s.slot, false);
        }
    }

    /// SIGHUP: a new generation in free slots; the old one drains.
    pub(super) fn reload(&mut self) -> Result<(), Error> {
        self.reloads += 1;
        for seat in 0..self.pool.seats.len() {
            self.drain_seat(seat);
            let slot = self.free_slot()?;
            self.pool.seats[seat] = Seat {
                slot,
                quick_deaths: 0,
                restart_at: None,
            };
            self.spawn(seat, slot)?;
        }
        eprintln!(
            "herd serve: reload {}: {} new worker threads started, {} draining",
            self.reloads,
            self.pool.seats.len(),
            self.pool.draining()
        );
        Ok(())
    }

    /// SIGTTIN: one more worker thread.
    pub(super) fn add_seat(&mut self) -> Result<(), Error> {
        let seat = self.pool.seats.len();
        if seat >= MAX_WORKERS {
            eprintln!("herd serve: SIGTTIN ignored: already {MAX_WORKERS} workers");
            return Ok(());
        }
        let per_worker_sockets = matches!(
            self.cfg.strategy,
            StrategyKind::Reuseport | StrategyKind::ReuseportCbpf | StrategyKind::ReuseportEbpf
        );
        if per_worker_sockets && seat >= self.cfg.workers {
            eprintln!(
                "herd serve: SIGTTIN ignored: reuseport in thread mode has {seat} sockets, one \
                 per worker bound at start"
            );
            return Ok(());
        }
        if let Some(h) = self.shared.acceptor_side() {
            // The running acceptor thread shares the seats' queues: no queue is added under it.
            if seat >= h.channels() {
                eprintln!(
                    "herd serve: SIGTTIN ignored: a hand-off in thread mode has {seat} seat \
                     queues, made at start"
                );
                return Ok(());
            }
            h.set_in_service(seat + 1)
                .map_err(|e| Error::io("adding a seat to the strategy", e))?;
        }
        let slot = self.free_slot()?;
        self.pool.seats.push(Seat {
            slot,
            quick_deaths: 0,
            restart_at: None,
        });
        self.spawn(seat, slot)?;
        eprintln!(
            "herd serve: SIGTTIN: {} worker threads",
            self.pool.seats.len()
        );
        Ok(())
    }

    /// SIGTTOU: one worker thread fewer (never below one).
    pub(super) fn remove_seat(&mut self) {
        let n = self.pool.seats.len();
        if n <= 1 {
            eprintln!("herd serve: SIGTTOU ignored: only one worker left");
            return;
        }
        self.drain_seat(n - 1);
        self.pool.seats.pop();
        if let Some(h) = self.shared.acceptor_side() {
            if let Err(e) = h.set_in_service(n - 1) {
                eprintln!("herd serve: SIGTTOU: removing a seat from the strategy: {e}");
            }
        }
        eprintln!("herd serve: SIGTTOU: {} worker threads", n - 1);
    }

    pub(super) fn on_exit(&mut self, x: Ended) -> Result<(), Error> {
        let expected =
            (self.stop.is_some() || x.role != Role::Serving) && x.exit.status == "exit 0";
        if !expected {
            eprintln!(
                "herd serve: worker thread {} (tid {}) died: {}",
                x.exit.worker, x.exit.pid, x.exit.status
            );
            say(&Line::WorkerExit(x.exit.clone()))?;
        }
        let removed = x.seat >= self.pool.seats.len();
        if x.role != Role::Serving && removed && self.stop.is_none() {
            // The last thread of a removed seat: what is left in its queue goes to the others.
            if !self.pool.threads.iter().any(|t| t.seat == x.seat) {
                match self.shared.seat_removed(x.seat) {
                    Ok(0) => {}
                    Ok(n) => eprintln!(
                        "herd serve: moved {n} connections from removed seat {} to the others",
                        x.seat
                    ),
                    Err(e) => eprintln!("herd serve: emptying removed seat {}: {e}", x.seat),
                }
            }
        }
        if self.stop.is_none() && x.role == Role::Serving {
            self.shared.seat_down(x.seat);
            if let Some(seat) = self.pool.seats.get_mut(x.seat) {
                if x.lived < QUICK_DEATH {
                    seat.quick_deaths = seat.quick_deaths.saturating_add(1);
                } else {
                    seat.quick_deaths = 1;
                }
                let delay = backoff(seat.quick_deaths);
                seat.restart_at = Some(Instant::now() + delay);
                self.board.count_restart(x.exit.worker);
                eprintln!(
                    "herd serve: restarting worker thread {} in {} ms (restart {} of this slot)",
                    x.exit.worker,
                    delay.as_millis(),
                    self.board.restarts(x.exit.worker)
                );
            }
        }
        Ok(())
    }

    /// Restart the seats whose backoff has expired, each in its own slot.
    pub(super) fn restart_due(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        for seat in 0..self.pool.seats.len() {
            let s = &mut self.pool.seats[seat];
            if s.restart_at.is_some_and(|t| t <= now) {
                s.restart_at = None;
                let slot = s.slot;
                self.shared.seat_up(seat);
                self.spawn(seat, slot)?;
            }
        }
        Ok(())
    }

    /// Tell draining threads to end once every serving thread has claimed its slot (or after
    /// [`READY_WAIT`]), repeating the drain signal every 100 ms; past `--graceful-timeout` say
    /// so once (a thread cannot be killed).
    pub(super) fn retire_old(&mut self) {
        let ready = self.pool.ready(self.board);
        let grace = self.cfg.graceful_timeout;
        let now = Instant::now();
        for t in &mut self.pool.threads {
            let Role::Draining {
                since,
                signalled,
                last_signal,
            } = &mut t.role
            else {
                continue;
            };
            let due = match *signalled {
                None => ready || since.elapsed() >= READY_WAIT,
                Some(_) => last_signal.elapsed() >= STOP_REPEAT,
            };
            if signalled.is_some_and(|s| s.elapsed() >= grace && s.elapsed() < grace + STOP_REPEAT)
            {
                eprintln!(
                    "herd serve: draining worker thread {} still busy after --graceful-timeout",
                    t.slot
                );
            }
            if due {
                signalled.get_or_insert(now);
                *last_signal = now;
                Pool::tgkill(t, signal::thread_drain_signal());
            }
        }
    }
}
