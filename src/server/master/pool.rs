//! The master's record of its workers: the live processes (serving, or draining after a reload
//! or SIGTTOU) and the seats they fill. A seat is one position of the configured worker count;
//! for `reuseport` it is also the index of the socket its worker accepts on. A worker lives in
//! one scoreboard slot; a restarted worker reuses its slot (generation + 1), a reload puts the
//! new generation in free slots beside the draining one, so no slot ever has two writers.
use crate::metrics::Scoreboard;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// A worker that dies younger than this counts as a quick death for the backoff.
pub const QUICK_DEATH: Duration = Duration::from_secs(1);
/// First backoff after repeated quick deaths, doubled each time, capped at `MAX_BACKOFF`.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(50);
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long to wait before restarting a seat whose workers died `quick_deaths` times in a row
/// within [`QUICK_DEATH`] of starting: at once for the first, then 50 ms, 100 ms, ... 2 s.
pub fn backoff(quick_deaths: u32) -> Duration {
    match quick_deaths {
        0 | 1 => Duration::ZERO,
        n => FIRST_BACKOFF
            .saturating_mul(1u32 << (n - 2).min(16))
            .min(MAX_BACKOFF),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    Serving,
    /// Replaced (reload) or removed (SIGTTOU): finishes its connection and exits.
    Draining {
        since: Instant,
        /// When SIGTERM was first sent; `None` until the new generation is ready.
        signalled: Option<Instant>,
        last_signal: Instant,
    },
    /// A hand-off strategy's acceptor (no slot, no seat).
    Acceptor,
}

#[derive(Debug, Clone)]
pub struct Worker {
    pub pid: Pid,
    pub slot: usize,
    pub seat: usize,
    pub started: Instant,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Seat {
    /// The slot of the seat's serving worker, or the one kept for its restart.
    pub slot: usize,
    pub quick_deaths: u32,
    /// Set while the seat waits (backoff) to restart its dead worker.
    pub restart_at: Option<Instant>,
}

/// Dropping it kills and reaps every worker still alive, so no error path in the master leaves
/// a worker behind.
#[derive(Default)]
pub struct Pool {
    pub workers: Vec<Worker>,
    pub seats: Vec<Seat>,
}

impl Pool {
    pub fn signal_all(&self, sig: Signal) {
        for w in &self.workers {
            let _ = kill(w.pid, sig);
        }
    }

    /// The lowest slot that is neither active nor held by a live (e.g. draining) worker.
    pub fn free_slot(&self, board: &Scoreboard) -> Option<usize> {
        (0..board.len()).find(|&i| !board.is_active(i) && self.workers.iter().all(|w| w.slot != i))
    }

    pub fn serving(&self) -> impl Iterator<Item = &Worker> {
        self.workers.iter().filter(|w| w.role == Role::Serving)
    }

    pub fn draining(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| matches!(w.role, Role::Draining { .. }))
            .count()
    }

    /// The hand-off acceptor, if one runs.
    pub fn acceptor(&self) -> Option<&Worker> {
        self.workers.iter().find(|w| w.role == Role::Acceptor)
    }

    /// The serving worker of `seat`, as a mutable reference.
    pub fn serving_in(&mut self, seat: usize) -> Option<&mut Worker> {
        self.workers
            .iter_mut()
            .find(|w| w.seat == seat && w.role == Role::Serving)
    }

    /// Reap every child that has exited, without blocking: the workers and how they ended
    /// (`exit N` or `signal N (NAME)`).
    pub fn reap(&mut self) -> Vec<(Worker, String)> {
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
            if let Some(i) = self.workers.iter().position(|w| w.pid == pid) {
                exits.push((self.workers.swap_remove(i), status));
            }
        }
        exits
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.signal_all(Signal::SIGKILL);
        for w in self.workers.drain(..) {
            let _ = waitpid(w.pid, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_immediate_first_then_doubles_to_a_cap() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), Duration::ZERO);
        assert_eq!(backoff(2), Duration::from_millis(50));
        assert_eq!(backoff(3), Duration::from_millis(100));
        assert_eq!(backoff(7), Duration::from_millis(1600));
        assert_eq!(backoff(8), MAX_BACKOFF);
        assert_eq!(backoff(60), MAX_BACKOFF);
    }

    #[test]
    fn free_slot_skips_active_and_occupied_slots() {
        let board = Scoreboard::new(2).unwrap();
        let mut pool = Pool::default();
        assert_eq!(pool.free_slot(&board), Some(2));
        pool.workers.push(Worker {
            pid: Pid::from_raw(i32::MAX),
            slot: 2,
            seat: 0,
            started: Instant::now(),
            role: Role::Serving,
        });
        assert_eq!(pool.free_slot(&board), Some(3));
        pool.workers.clear();
    }
}
