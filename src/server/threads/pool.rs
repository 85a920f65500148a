//! Thread mode's record of its workers, as the process master's `Pool`: the live worker threads
//! (serving, or draining after a reload or SIGTTOU), the seats they fill, and the scoreboard
//! slots they occupy. A restarted thread reuses its slot; a reload's new generation takes free
//! slots beside the draining one, so no slot ever has two writers.
use super::Status;
use crate::metrics::{Scoreboard, Slot};
use crate::protocol::WorkerExit;
use crate::strategy::Shared;
use crate::sys::signal;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Role {
    Serving,
    /// Replaced (reload) or removed (SIGTTOU): finishes its connections and ends.
    Draining {
        since: Instant,
        /// When the drain signal was first sent; `None` until the new generation is ready.
        signalled: Option<Instant>,
        last_signal: Instant,
    },
}

pub(super) struct WorkerThread<'scope> {
    pub handle: ScopedJoinHandle<'scope, Status>,
    /// The thread's kernel id, once it has started (0 before).
    pub tid: Arc<AtomicI32>,
    pub slot: usize,
    pub seat: usize,
    pub started: Instant,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub(super) struct Seat {
    /// The slot of the seat's serving thread, or the one kept for its restart.
    pub slot: usize,
    pub quick_deaths: u32,
    /// Set while the seat waits (backoff) to restart its dead thread.
    pub restart_at: Option<Instant>,
}

/// A thread that ended: where it was, and how it ended.
pub(super) struct Ended {
    pub exit: WorkerExit,
    pub seat: usize,
    pub role: Role,
    pub lived: Duration,
}

pub(super) struct Pool<'scope> {
    pub threads: Vec<WorkerThread<'scope>>,
    pub seats: Vec<Seat>,
}

impl<'scope> Pool<'scope> {
    pub fn live(&self) -> usize {
        self.threads.len()
    }

    pub fn serving(&self) -> impl Iterator<Item = &WorkerThread<'scope>> {
        self.threads.iter().filter(|t| t.role == Role::Serving)
    }

    pub fn draining(&self) -> usize {
        self.threads.len() - self.serving().count()
    }

    /// The lowest slot that is neither active nor held by a live (e.g. draining) thread.
    pub fn free_slot(&self, board: &Scoreboard) -> Option<usize> {
        (0..board.len()).find(|&i| !board.is_active(i) && self.threads.iter().all(|t| t.slot != i))
    }

    /// Every serving thread has claimed its slot (its acceptor is built).
    pub fn ready(&self, board: &Scoreboard) -> bool {
        self.serving().all(|t| {
            let tid = t.tid.load(Ordering::Acquire);
            tid != 0 && Slot::read(&board.slot(t.slot).tid) == tid as u64
        })
    }

    /// Send `sig` to thread `t` (ESRCH: it has just ended; it is joined next).
    pub fn tgkill(t: &WorkerThread<'_>, sig: libc::c_int) {
        let tid = t.tid.load(Ordering::Acquire);
        if tid != 0 {
            let _ = signal::tgkill(tid, sig);
        }
    }

    /// Raise the process-wide stop flag and send the stop signal to every live thread.
    pub fn kick_all(&self) {
        signal::request_stop();
        for t in &self.threads {
            Self::tgkill(t, signal::thread_stop_signal());
        }
    }

    /// Join every thread that has ended; release an accept lock it held and free its slot.
    pub fn join_finished(&mut self, shared: &Shared, board: &Scoreboard) -> Vec<Ended> {
        let mut ended = Vec::new();
        let mut i = 0;
        while i < self.threads.len() {
            if !self.threads[i].handle.is_finished() {
                i += 1;
                continue;
            }
            let t = self.threads.swap_remove(i);
            let status = t.handle.join().unwrap_or_else(|_| "panic".into());
            let tid = t.tid.load(Ordering::Acquire);
            match shared.on_worker_exit(tid as u64) {
                Ok(true) => eprintln!(
                    "herd serve: released the accept lock held by dead worker {} (tid {tid})",
                    t.slot
                ),
                Ok(false) => {}
                Err(e) => eprintln!(
                    "herd serve: could not release the lock of worker {}: {e}",
                    t.slot
                ),
            }
            board.clear_pid(t.slot);
            ended.push(Ended {
                exit: WorkerExit {
                    worker: t.slot,
                    pid: tid,
                    status,
                    role: None,
                },
                seat: t.seat,
                role: t.role,
                lived: t.started.elapsed(),
            });
        }
        ended
    }
}
