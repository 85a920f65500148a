//! The accept-lock scheme shared by every lock strategy: take a cross-process lock, wait in
//! accept(2) on the shared socket while holding it, release it. Only the holder waits on the
//! socket, so a connection can wake no one else; the price is a lock handoff per connection
//! (one more wakeup and context switch, for the next holder).
//!
//! Apache's prefork MPM (`AcceptMutex`) and uWSGI's `--thunder-lock` work this way. Apache polls
//! the socket then accepts; herd blocks in accept() directly, which is equivalent for one
//! listener and one fewer system call.
//!
//! A lock strategy is a file that implements [`AcceptLock`] for its primitive; the acceptor is
//! written once, here.
//!
//! In thread mode the same acceptor runs in each worker thread; the holder record uses the
//! kernel thread id (the pid, in process mode). A primitive whose process form cannot exclude
//! threads of one process (fcntl record locks) picks its thread form from
//! `ListenConfig::mode` when it is prepared.
use super::event::Refused;
use super::listen::{self, ListenConfig};
use super::{blocking_accept, Acceptor, Prepared};
use crate::metrics::Slot;
use crate::sys::atomic_lock::LockWord;
use crate::sys::clock::monotonic_ns;
use crate::sys::shm::SharedArray;
use crate::sys::signal::stop_requested;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;

/// Why no lock strategy has an event form.
pub const EVENT_REFUSAL: &str = "its wait is a blocking lock held around a blocking accept(): a \
     worker waiting there could not serve the connections it already holds (an event loop's \
     lock is a try-lock: accept-mutex)";

/// How the lock was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    Clean,
    /// The previous holder died holding it and the lock was recovered.
    Recovered,
}

/// A lock that serialises accept() across processes.
pub trait AcceptLock {
    /// Block until the lock is held. `Err(Interrupted)` when a signal ended the wait.
    fn acquire(&self) -> io::Result<Acquired>;
    fn release(&self) -> io::Result<()>;
    /// The holder died with the lock held and has been reaped. Locks the kernel recovers by
    /// itself (SysV with SEM_UNDO, fcntl, flock, robust mutexes) need nothing; the others must
    /// be released here, by the master, as nginx's master does for its shared-memory mutex.
    fn release_for_dead_holder(&self) -> io::Result<()> {
        Ok(())
    }
}

/// The shared socket, the lock guarding it, and a shared record of who holds the lock.
pub struct Shared<L> {
    pub listener: TcpListener,
    pub lock: L,
    holder: SharedArray<LockWord>,
}

impl<L: AcceptLock> Shared<L> {
    /// Bind the shared socket for `lock` (blocking: only the holder waits in accept()).
    pub fn new(cfg: &ListenConfig, lock: L) -> io::Result<Self> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, false)?,
            lock,
            holder: SharedArray::new(1)?,
        })
    }
}

impl<L: AcceptLock> Prepared for Shared<L> {
    type Acceptor<'a>
        = LockedAcceptor<'a, L>
    where
        L: 'a;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    type Events<'a>
        = Refused
    where
        L: 'a;

    fn event_acceptor(&self, _worker: usize) -> io::Result<Refused> {
        Err(Refused::error(EVENT_REFUSAL))
    }

    fn acceptor(&self, _worker: usize) -> io::Result<LockedAcceptor<'_, L>> {
        // The kernel thread id: the worker's pid in process mode (a forked worker's only
        // thread), and distinct per worker thread in thread mode.
        Ok(LockedAcceptor {
            shared: self,
            me: crate::sys::process::gettid() as u64,
        })
    }

    /// The worker (pid, or tid in thread mode) holding the lock, 0 if none.
    fn lock_holder(&self) -> Option<u64> {
        Some(self.holder[0].0.load(Ordering::Acquire))
    }

    /// Called by the master after reaping `pid` (in thread mode: after joining the worker
    /// thread `pid`, a tid): if it died holding the lock, release it for the others. Returns
    /// whether it did.
    fn on_worker_exit(&self, pid: u64) -> io::Result<bool> {
        if pid == 0
            || self.holder[0]
                .0
                .compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return Ok(false);
        }
        self.lock.release_for_dead_holder()?;
        Ok(true)
    }
}

pub struct LockedAcceptor<'a, L> {
    shared: &'a Shared<L>,
    /// This worker's id in the holder record.
    me: u64,
}

impl<L: AcceptLock> Acceptor for LockedAcceptor<'_, L> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        let t0 = monotonic_ns();
        match self.shared.lock.acquire() {
            Ok(Acquired::Clean) => {}
            Ok(Acquired::Recovered) => Slot::bump(&slot.lock_recovered, 1),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        }
        self.shared.holder[0].0.store(self.me, Ordering::Release);
        // Fault injection (`--fault die-holding-lock`, SIGUSR2): may SIGKILL us here.
        crate::fault::lock_taken();
        Slot::bump(&slot.lock_wait_ns, monotonic_ns().saturating_sub(t0));
        Slot::bump(&slot.lock_acquires, 1);
        Slot::bump(&slot.wakeups, 1);
        // Some locks (pthread mutexes) cannot be interrupted: a stop request may have arrived
        // while we waited. Pass the lock on instead of waiting in accept().
        let got = if stop_requested() {
            None
        } else {
            blocking_accept(&self.shared.listener, slot)
        };
        self.shared.holder[0].0.store(0, Ordering::Release);
        self.shared.lock.release()?;
        Ok(got)
    }
}
