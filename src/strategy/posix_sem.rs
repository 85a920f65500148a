//! `posix-sem`: a process-shared POSIX semaphore (sem_init(3) with pshared = 1, value 1) in
//! shared memory as the accept lock (see [`super::lock`] for the scheme). Apache httpd's
//! `AcceptMutex posixsem`, APR's `APR_LOCK_POSIXSEM` (there a named semaphore).
//!
//! Mechanism: sem_wait() decrements in userspace when the semaphore is free and sleeps on a
//! futex otherwise; sem_post() wakes one sleeper. The kernel knows nothing of who holds it, so a
//! holder that dies leaves it at 0 for ever: the worker records its pid in shared memory while
//! it holds the semaphore, and the master, after reaping that pid, posts the semaphore again
//! (`release_for_dead_holder`). A holder killed between taking the semaphore and recording
//! itself (a few instructions) would still leak it. Futex-based semaphores need Linux 2.6.
//!
//! Expected behaviour: as `pthread-mutex`: no herd on the socket, one futex handoff per
//! connection, and the releasing worker can take the semaphore straight back before the woken
//! waiter runs, so runs of connections go to one worker.
//!
//! See sem_init(3), sem_wait(3), sem_overview(7).
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use super::{Strategy, StrategyOptions};
use crate::sys::psem::PosixSem as Psem;
use std::io;

pub struct PosixSem;

impl Strategy for PosixSem {
    const SUMMARY: &'static str =
        "a process-shared POSIX semaphore serialises accept; the master posts it if the holder dies";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(super::lock::EVENT_REFUSAL);
    type Shared = Shared<PsemLock>;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Self::Shared> {
        Shared::new(cfg, PsemLock(Psem::new(1)?))
    }
}

pub struct PsemLock(Psem);

impl AcceptLock for PsemLock {
    fn acquire(&self) -> io::Result<Acquired> {
        self.0.lock().map(|()| Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        self.0.unlock()
    }

    fn release_for_dead_holder(&self) -> io::Result<()> {
        self.0.unlock()
    }
}
