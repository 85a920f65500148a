//! `flock`: a flock(2) exclusive lock on a lock file as the accept lock (see [`super::lock`] for
//! the scheme). Apache httpd's `AcceptMutex flock`.
//!
//! Mechanism: the master creates the lock file in the temporary directory (`$TMPDIR`, else
//! /tmp) and removes it when it exits. A flock lock belongs to the open file description, which
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
use crate::sys::filelock::{flock_lock, flock_unlock, LockFile};
use std::fs::File;
use std::io;
use std::sync::OnceLock;

pub const SUMMARY: &str =
    "a flock(LOCK_EX) lock file, opened by each worker, serialises accept (Apache flock)";

pub struct FlockLock {
    path: LockFile,
    /// This process's own open file description, opened on first use (after fork).
    mine: OnceLock<File>,
}

impl FlockLock {
    fn file(&self) -> io::Result<&File> {
        if let Some(f) = self.mine.get() {
            return Ok(f);
        }
        let f = self.path.open()?;
        Ok(self.mine.get_or_init(|| f))
    }
}

impl AcceptLock for FlockLock {
    fn acquire(&self) -> io::Result<Acquired> {
        flock_lock(self.file()?).map(|()| Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        flock_unlock(self.file()?)
    }
}

pub fn shared(cfg: &ListenConfig) -> io::Result<Shared<FlockLock>> {
    let path = LockFile::create(&std::env::temp_dir())?;
    Shared::new(
        cfg,
        FlockLock {
            path,
            mine: OnceLock::new(),
        },
    )
}
