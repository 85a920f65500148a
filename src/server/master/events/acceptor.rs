//! The master's side of a hand-off strategy's acceptor: its record, its replacement when
//! SIGTTIN adds a seat, and what happens when it exits.
use super::super::pool::{backoff, Worker, QUICK_DEATH};
use super::super::{say, spawn_acceptor};
use super::Master;
use crate::protocol::{Line, WorkerExit};
use crate::Error;
use nix::sys::signal::{kill, Signal};
use std::time::Instant;

/// What the master keeps about a hand-off strategy's acceptor.
#[derive(Debug, Default)]
pub(super) struct AcceptorRecord {
    pub quick_deaths: u32,
    /// Set while it waits (backoff) to restart the dead acceptor.
    pub restart_at: Option<Instant>,
    /// Unexpected deaths, each followed by a restart.
    pub restarts: u64,
    /// Connections the dead acceptors held (taken from the kernel, not handed over).
    pub lost: u64,
    /// Told to stop so that a successor holding every seat's channel replaces it.
    pub replacing: bool,
}

impl Master<'_> {
    /// Tell the acceptor to stop; a successor starts when it has exited (and holds every
    /// seat's channel). Nothing is lost: it stops between connections.
    pub(super) fn replace_acceptor(&mut self) {
        if let Some(a) = self.pool.acceptor() {
            let _ = kill(a.pid, Signal::SIGTERM);
            self.acceptor.replacing = true;
        }
    }

    /// The hand-off acceptor exited: count what it held, then start its successor (at once
    /// when it was replaced, after the backoff when it died).
    pub(super) fn on_acceptor_exit(&mut self, w: Worker, status: String) -> Result<(), Error> {
        let lost = self.shared.acceptor_side().map_or(0, |h| h.lost_in_hand());
        self.acceptor.lost += lost;
        if self.stop.is_some() {
            return Ok(());
        }
        if std::mem::take(&mut self.acceptor.replacing) && status == "exit 0" {
            return spawn_acceptor(self.ctx, self.shared, &mut self.pool);
        }
        eprintln!(
            "herd serve: acceptor (pid {}) died: {status}; it held {lost} connections",
            w.pid
        );
        say(&Line::WorkerExit(WorkerExit {
            worker: 0,
            pid: w.pid.as_raw(),
            status,
            role: Some("acceptor".into()),
        }))?;
        let a = &mut self.acceptor;
        a.quick_deaths = match w.started.elapsed() < QUICK_DEATH {
            true => a.quick_deaths.saturating_add(1),
            false => 1,
        };
        a.restarts += 1;
        let delay = backoff(a.quick_deaths);
        a.restart_at = Some(Instant::now() + delay);
        eprintln!(
            "herd serve: restarting the acceptor in {} ms (restart {})",
            delay.as_millis(),
            a.restarts
        );
        Ok(())
    }
}
