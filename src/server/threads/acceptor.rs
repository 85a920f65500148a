//! Thread mode's hand-off acceptor (`handoff-*`): a thread of its own (`herd-acceptor`) beside
//! the worker threads, as the process master's acceptor process. Ready when it has claimed its
//! slot; one that ends while the server is not stopping is reported (`"role":"acceptor"`), the
//! connections it held are counted as lost (`handoff_lost`), and it is started again with the
//! process master's backoff. It is not part of a reload: the new generation takes connections
//! from the same seats' queues.
use super::{say, status_of, Master, Status};
use crate::metrics::{Slot, Snapshot, WorkerSample};
use crate::protocol::{Line, WorkerExit};
use crate::server::master::{backoff, QUICK_DEATH};
use crate::strategy::Shared;
use crate::sys::process::gettid;
use crate::sys::signal;
use crate::Error;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::ScopedJoinHandle;
use std::time::Instant;

/// What the thread master keeps about the acceptor thread.
pub(super) struct AcceptorThread<'scope> {
    handle: Option<ScopedJoinHandle<'scope, Status>>,
    /// The thread's kernel id, once it has started (0 before).
    tid: Arc<AtomicI32>,
    started: Instant,
    quick_deaths: u32,
    /// Set while it waits (backoff) to restart the dead acceptor.
    pub restart_at: Option<Instant>,
    /// Unexpected ends, each followed by a restart.
    restarts: u64,
    /// Connections the ended acceptors held (taken from the kernel, not handed over).
    lost: u64,
}

impl Default for AcceptorThread<'_> {
    fn default() -> Self {
        AcceptorThread {
            handle: None,
            tid: Arc::new(AtomicI32::new(0)),
            started: Instant::now(),
            quick_deaths: 0,
            restart_at: None,
            restarts: 0,
            lost: 0,
        }
    }
}

impl AcceptorThread<'_> {
    /// Whether the thread runs (started and not joined yet).
    pub fn live(&self) -> bool {
        self.handle.is_some()
    }

    /// Send the thread stop signal (the caller raised the stop flag).
    pub fn kick(&self) {
        let tid = self.tid.load(Ordering::Acquire);
        if self.handle.is_some() && tid != 0 {
            let _ = signal::tgkill(tid, signal::thread_stop_signal());
        }
    }
}

/// The body of the acceptor thread.
fn acceptor_thread(shared: &Shared, tid: &AtomicI32) -> Status {
    tid.store(gettid(), Ordering::Release);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> io::Result<()> {
        signal::unblock_thread_stop()?;
        let Some(h) = shared.acceptor_side() else {
            return Err(io::Error::other("no hand-off acceptor in this strategy"));
        };
        h.slot().claim(std::process::id(), gettid());
        crate::strategy::handoff::acceptor::run(h)
    }));
    status_of(res)
}

impl Master<'_, '_> {
    /// Start the acceptor thread, if the strategy has one.
    pub(super) fn spawn_acceptor(&mut self) -> Result<(), Error> {
        if self.shared.acceptor_side().is_none() {
            return Ok(());
        }
        let tid = Arc::new(AtomicI32::new(0));
        let (shared, t) = (self.shared, tid.clone());
        let handle = std::thread::Builder::new()
            .name(crate::protocol::ACCEPTOR_NAME.into())
            .spawn_scoped(self.scope, move || acceptor_thread(shared, &t))
            .map_err(|e| Error::io("spawning the acceptor thread", e))?;
        let a = &mut self.acceptor;
        (a.handle, a.tid, a.started) = (Some(handle), tid, Instant::now());
        Ok(())
    }

    /// Whether the acceptor, if any, has claimed its slot.
    pub(super) fn acceptor_ready(&self) -> bool {
        let Some(h) = self.shared.acceptor_side() else {
            return true;
        };
        let tid = self.acceptor.tid.load(Ordering::Acquire);
        tid != 0 && Slot::read(&h.slot().tid) == tid as u64
    }

    /// Join the acceptor thread if it has ended: count what it held; unless the server is
    /// stopping, report it and schedule its restart. Returns its exit when it ended.
    pub(super) fn join_acceptor(&mut self) -> Result<Option<WorkerExit>, Error> {
        let a = &mut self.acceptor;
        if !a.handle.as_ref().is_some_and(|h| h.is_finished()) {
            return Ok(None);
        }
        let Some(handle) = a.handle.take() else {
            return Ok(None);
        };
        let status = handle.join().unwrap_or_else(|_| "panic".into());
        let lost = self.shared.acceptor_side().map_or(0, |h| h.lost_in_hand());
        a.lost += lost;
        let exit = WorkerExit {
            worker: 0,
            pid: a.tid.load(Ordering::Acquire),
            status,
            role: Some("acceptor".into()),
        };
        if self.stop.is_some() {
            return Ok(Some(exit));
        }
        eprintln!(
            "herd serve: acceptor thread (tid {}) died: {}; it held {lost} connections",
            exit.pid, exit.status
        );
        say(&Line::WorkerExit(exit.clone()))?;
        a.quick_deaths = match a.started.elapsed() < QUICK_DEATH {
            true => a.quick_deaths.saturating_add(1),
            false => 1,
        };
        a.restarts += 1;
        let delay = backoff(a.quick_deaths);
        a.restart_at = Some(Instant::now() + delay);
        eprintln!(
            "herd serve: restarting the acceptor thread in {} ms (restart {})",
            delay.as_millis(),
            a.restarts
        );
        Ok(Some(exit))
    }

    /// Restart the acceptor thread once its backoff has expired.
    pub(super) fn restart_acceptor_due(&mut self) -> Result<(), Error> {
        if self
            .acceptor
            .restart_at
            .is_some_and(|t| t <= Instant::now())
        {
            self.acceptor.restart_at = None;
            self.spawn_acceptor()?;
        }
        Ok(())
    }

    /// The acceptor's sample and losses in a scoreboard snapshot.
    pub(super) fn acceptor_sample(&self, snap: &mut Snapshot) {
        if let Some(h) = self.shared.acceptor_side() {
            snap.acceptor = Some(WorkerSample {
                restarts: self.acceptor.restarts,
                ..WorkerSample::read_at(usize::MAX, h.slot(), snap.t_ns, 0)
            });
            snap.handoff_lost = self.acceptor.lost;
        }
    }
}
