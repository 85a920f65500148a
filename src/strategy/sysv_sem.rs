//! `sysv-sem`: a SysV semaphore as the accept lock (see [`super::lock`] for the scheme).
//!
//! Mechanism: semop(2) on a private one-semaphore set, -1 to lock and +1 to unlock, both with
//! SEM_UNDO so the kernel returns the semaphore if its holder dies. The set is removed with
//! IPC_RMID when the master exits, also on an error path. Any Linux.
//!
//! Expected behaviour: no herd on the socket (one waiter), but two wakeups per connection (the
//! holder from accept, the next holder from semop) and a kernel round trip to hand the lock on.
//! SysV semaphores queue their waiters FIFO, so the work rotates evenly. Apache prefork's
//! `AcceptMutex sysvsem`, uWSGI's default lock on some platforms.
//!
//! See semop(2), semctl(2), svipc(7).
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use crate::sys::sysv::SysvSem;
use std::io;

pub const SUMMARY: &str =
    "a SysV semaphore (SEM_UNDO) serialises accept; only the holder waits on the socket";

pub struct SemLock(SysvSem);

impl AcceptLock for SemLock {
    fn acquire(&self) -> io::Result<Acquired> {
        self.0.lock().map(|()| Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        self.0.unlock()
    }
}

pub fn shared(cfg: &ListenConfig) -> io::Result<Shared<SemLock>> {
    // The semaphore first: if binding fails, dropping it removes the set again.
    Shared::new(cfg, SemLock(SysvSem::new()?))
}
