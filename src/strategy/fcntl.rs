//! `fcntl`: an fcntl(2) record lock (F_SETLKW, a write lock on the whole file) as the accept lock
//! (see [`super::lock`] for the scheme). Apache httpd's default `AcceptMutex` on Linux
//! (`fcntl`, APR's `APR_LOCK_FCNTL`), also used by older Apache 1.3 builds.
//!
//! Mechanism: the master creates a lock file in the temporary directory (`$TMPDIR`, else
//! /tmp), named after its pid, exclusively and mode 0600 (a file or symlink planted at the
//! name is refused, see [`LockFile`]), and removes it when it exits; every worker inherits
//! its descriptor. An fcntl lock belongs to the process (pid, inode), so the shared
//! descriptor is enough: each worker is its own owner. The kernel drops the lock when its
//! holder exits, so a killed holder needs no help. Blocked waiters sleep in the kernel's file
//! lock code and are woken when the lock is released. Any Linux.
//!
//! Expected behaviour: no herd on the socket, two wakeups per connection as with `sysv-sem`
//! (the holder from accept, the next holder from the lock), and a system call on both sides of
//! every handoff. Kernels before 4.19 woke every waiter blocked on the lock at each release, a
//! herd moved from the socket to the lock file; since 4.19 (the tree of blocked requests in
//! fs/locks.c) a waiter that conflicts with an earlier waiter sleeps behind it, so a release
//! wakes few. Either shows in `ctx_switches_per_accept`, not in the userspace counts.
//!
//! See fcntl(2) ("Advisory record locking"), Apache's `AcceptMutex` documentation.
use super::listen::ListenConfig;
use super::lock::{AcceptLock, Acquired, Shared};
use super::{Mode, Strategy, StrategyOptions};
use crate::sys::filelock::{fcntl_lock, fcntl_unlock, ofd_lock, ofd_unlock, LockFile};
use std::io;

pub struct Fcntl;

impl Strategy for Fcntl {
    const SUMMARY: &'static str =
        "an fcntl(F_SETLKW) lock file serialises accept (Apache's default AcceptMutex)";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(super::lock::EVENT_REFUSAL);
    const THREAD_FORM: Option<&'static str> = Some(
        "record locks belong to the process and cannot exclude its threads: OFD locks \
         (F_OFD_SETLKW, Linux 3.15) on one open file description per thread",
    );
    type Shared = Shared<FcntlLock>;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Self::Shared> {
        let path = LockFile::create(&std::env::temp_dir())?;
        if cfg.mode == Mode::Thread {
            let probe = path.open()?;
            crate::sys::filelock::ofd_supported(&probe).map_err(io::Error::other)?;
        }
        Shared::new(
            cfg,
            FcntlLock {
                path,
                mode: cfg.mode,
            },
        )
    }
}

pub struct FcntlLock {
    /// Its descriptor is opened by the master before fork; fcntl locks are per process, so
    /// that one is enough.
    path: LockFile,
    /// In thread mode, record locks cannot exclude threads of one process: the thread form
    /// takes OFD locks (F_OFD_SETLKW) on one open file description per thread.
    mode: Mode,
}

impl AcceptLock for FcntlLock {
    fn acquire(&self) -> io::Result<Acquired> {
        match self.mode {
            Mode::Process => fcntl_lock(self.path.file())?,
            Mode::Thread => self.path.with_own(ofd_lock)?,
        }
        Ok(Acquired::Clean)
    }

    fn release(&self) -> io::Result<()> {
        match self.mode {
            Mode::Process => fcntl_unlock(self.path.file()),
            Mode::Thread => self.path.with_own(ofd_unlock),
        }
    }
}
