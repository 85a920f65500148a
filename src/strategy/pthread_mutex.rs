//! `pthread-mutex`: a process-shared, robust pthread mutex in shared memory as the accept lock
//! (see [`super::lock`] for the scheme).
//!
//! Mechanism: a PTHREAD_PROCESS_SHARED | PTHREAD_MUTEX_ROBUST mutex in a MAP_SHARED mapping made
//! before fork. Uncontended lock and unlock stay in userspace; contention sleeps on a futex.
//! When the holder dies, the next locker gets EOWNERDEAD, makes the mutex consistent and
//! carries on (counted as `lock_recovered`). Robust futexes need Linux 2.6.17.
//!
//! Expected behaviour: no herd on the socket, a futex handoff per connection. Futex wakeups are
//! FIFO-ish per priority, but an unlocking worker that comes straight back can retake the mutex
//! before the woken waiter runs, so one worker may take long runs of connections. uWSGI's
//! `--thunder-lock` uses this mutex.
//!
//! Thread form (`--mode thread`): the same mutex (PTHREAD_PROCESS_SHARED also works between
//! threads). Robustness is per thread: when a worker thread ends holding it, the kernel marks it
//! dead and the next locker recovers it, as for a dead process.
//!
//! See pthread_mutexattr_setpshared(3), pthread_mutexattr_setrobust(3), futex(2).
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use super::{Strategy, StrategyOptions};
use crate::sys::pmutex::{Locked, PsharedMutex};
use std::io;

pub struct PthreadMutex;

impl Strategy for PthreadMutex {
    const SUMMARY: &'static str =
        "a process-shared robust pthread mutex serialises accept (uWSGI thunder lock)";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(super::lock::EVENT_REFUSAL);
    const THREAD_FORM: Option<&'static str> =
        Some("same mutex; robustness is per thread, so a dying thread's hold is recovered");
    type Shared = Shared<MutexLock>;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Self::Shared> {
        Shared::new(cfg, MutexLock(PsharedMutex::new(true)?))
    }
}

pub struct MutexLock(PsharedMutex);

impl AcceptLock for MutexLock {
    fn acquire(&self) -> io::Result<Acquired> {
        match self.0.lock()? {
            Locked::Clean => Ok(Acquired::Clean),
            Locked::RecoveredFromDeadOwner => Ok(Acquired::Recovered),
        }
    }

    fn release(&self) -> io::Result<()> {
        self.0.unlock()
    }
}
