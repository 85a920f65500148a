//! `flock`: a flock(2) exclusive lock on a lock file as the accept lock (see [`super::lock`] for
//! the scheme). Apache httpd's `AcceptMutex flock`.
//!
//! Mechanism: the master creates the lock file in the temporary directory (`$TMPDIR`, else
//! /tmp), exclusively and mode 0600 (a planted file or symlink is refused, see
//! [`LockFile`]), and removes it when it exits. A flock lock belongs to the open file description, which
//! fork shares, so a descriptor opened by the master would be one lock shared by every worker
//! and exclude nothing. Each worker therefore opens the file itself, on its first acquisition,
//! after fork (Apache's child_init does the same). The kernel drops the lock when the last
//! descriptor of its description closes, so a killed holder needs no help. Any Linux.
//!
//! Expected behaviour: as `fcntl`: no herd on the socket, two wakeups and a handoff per
//! connection, with the same lock-file wakeups (all waiters before 4.19, few since).
//!
//! See flock(2), Apache's `AcceptMutex` documentation.
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use super::{Strategy, StrategyOptions};
use crate::sys::filelock::{flock_lock, flock_unlock, LockFile};
use std::io;

pub struct Flock;

impl Strategy for Flock {
    const SUMMARY: &'static str =
        "a flock(LOCK_EX) lock file, opened by each worker, serialises accept (Apache flock)";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(super::lock::EVENT_REFUSAL);
    const THREAD_FORM: Option<&'static str> =
        Some("one open file description per thread (flock is per description)");
    type Shared = Shared<FlockLock>;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Self::Shared> {
        let path = LockFile::create(&std::env::temp_dir())?;
        Shared::new(cfg, FlockLock { path })
    }
}

/// flock belongs to the open file description, so every worker, process or thread, opens the
/// file itself on first use (`LockFile::with_own`: one description per thread, after fork).
pub struct FlockLock {
    path: LockFile,
}

impl AcceptLock for FlockLock {
    fn acquire(&self) -> io::Result<Acquired> {
        self.path.with_own(flock_lock).map(|()| Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        self.path.with_own(flock_unlock)
    }
}
