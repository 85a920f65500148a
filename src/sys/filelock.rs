//! File locks as accept locks: fcntl(2) record locks (F_SETLKW, Apache's default AcceptMutex on
//! Linux) and flock(2). The kernel drops either when its holder dies.
//!
//! The two differ in ownership: an fcntl lock belongs to the process (so threads of one process
//! cannot exclude each other with it), a flock lock to the open file description (so each
//! worker must open the file itself, after fork, or all would share one lock).
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A lock file created by the master, removed when the creator drops it.
pub struct LockFile {
    path: PathBuf,
    creator: u32,
}

impl LockFile {
    /// Create a fresh lock file in `dir` (its name carries the pid).
    pub fn create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(format!("herd-accept-{}.lock", std::process::id()));
        OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        Ok(LockFile {
            path,
            creator: std::process::id(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open the file: each opener gets its own open file description.
    pub fn open(&self) -> io::Result<File> {
        OpenOptions::new().read(true).write(true).open(&self.path)
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        if std::process::id() == self.creator {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn setlk(file: &File, cmd: libc::c_int, kind: libc::c_int) -> io::Result<()> {
    // SAFETY: an all-zero flock struct is valid; we then set the fields we need.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 0; // the whole file
                  // SAFETY: F_SETLK/F_SETLKW take a pointer to a valid flock struct.
    syscall!(fcntl(file.as_raw_fd(), cmd, &mut fl as *mut libc::flock))?;
    Ok(())
}

/// Block until the process holds the fcntl write lock; `Interrupted` on a signal.
pub fn fcntl_lock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_SETLKW, libc::F_WRLCK)
}

/// Take the fcntl lock if free; `Ok(false)` when another process holds it.
pub fn fcntl_try_lock(file: &File) -> io::Result<bool> {
    match setlk(file, libc::F_SETLK, libc::F_WRLCK) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn fcntl_unlock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_SETLK, libc::F_UNLCK)
}

/// Block until this open file description holds the flock; `Interrupted` on a signal.
pub fn flock_lock(file: &File) -> io::Result<()> {
    syscall!(flock(file.as_raw_fd(), libc::LOCK_EX))?;
    Ok(())
}

/// Take the flock if free; `Ok(false)` when someone else holds it.
pub fn flock_try_lock(file: &File) -> io::Result<bool> {
    match syscall!(flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB)) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn flock_unlock(file: &File) -> io::Result<()> {
    syscall!(flock(file.as_raw_fd(), libc::LOCK_UN))?;
    Ok(())
}
