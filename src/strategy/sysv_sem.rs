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
//! Thread form (`--mode thread`): the same semaphore excludes threads as well as processes, but
//! SEM_UNDO adjustments are kept per process, not per thread: a worker thread that dies holding
//! the semaphore is not undone by the kernel (the process lives on), so in thread mode the
//! master releases it, as it does for locks the kernel does not recover.
//!
//! See semop(2), semctl(2), svipc(7).
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use super::{Mode, Strategy, StrategyOptions};
use crate::sys::sysv::SysvSem as Sem;
use std::io;

pub struct SysvSem;

impl Strategy for SysvSem {
    const SUMMARY: &'static str =
        "a SysV semaphore (SEM_UNDO) serialises accept; only the holder waits on the socket";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(super::lock::EVENT_REFUSAL);
    const THREAD_FORM: Option<&'static str> = Some(
        "same semaphore; SEM_UNDO is per process, so a thread that dies holding it is not \
         undone by the kernel: the master releases it",
    );
    type Shared = Shared<SemLock>;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Self::Shared> {
        // The semaphore first: if binding fails, dropping it removes the set again.
        let lock = SemLock {
            sem: Sem::new()?,
            mode: cfg.mode,
        };
        Shared::new(cfg, lock)
    }
}

pub struct SemLock {
    sem: Sem,
    mode: Mode,
}

impl AcceptLock for SemLock {
    fn acquire(&self) -> io::Result<Acquired> {
        self.sem.lock().map(|()| Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        self.sem.unlock()
    }

    fn release_for_dead_holder(&self) -> io::Result<()> {
        match self.mode {
            // The kernel applied the dead process's SEM_UNDO adjustment already.
            Mode::Process => Ok(()),
            // The process is alive: nothing was undone. Releasing with SEM_UNDO also cancels the
            // dead thread's adjustment in the process's (shared) undo record.
            Mode::Thread => self.sem.unlock(),
        }
    }
}
