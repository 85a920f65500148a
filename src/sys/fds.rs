//! Descriptor hygiene for a forked child: keep only the descriptors it needs.
//!
//! A child forked by a master that already holds pipes to earlier children inherits all of them.
//! An inherited *write* end keeps another worker's task pipe open, so that worker would never
//! see EOF; and every inherited descriptor is a leak for the child's lifetime. [`isolate`]
//! moves the descriptors to keep to 3, 4, ... and closes everything above them with
//! close_range(2) (Linux 5.9): a fixed number of system calls per child, whatever the master
//! holds.
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// In a freshly forked child: duplicate `keep` to descriptors 3, 4, ... (in order), close every
/// other descriptor from 3 up, run `body` with the kept descriptors, and leave the process with
/// its return value as the exit status (101 if it panicked). Never returns, so no destructor
/// of the parent's (now closed) descriptors ever runs in the child.
pub fn isolate(keep: &[RawFd], body: impl FnOnce(Vec<OwnedFd>) -> i32) -> ! {
    let code = match move_to_front(keep) {
        Ok(fds) => {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(fds))).unwrap_or(101)
        }
        Err(_) => 102,
    };
    super::process::exit_now(code)
}

fn move_to_front(keep: &[RawFd]) -> io::Result<Vec<OwnedFd>> {
    let base = 3 + keep.len() as RawFd;
    // First copy each descriptor above the target range, so that dup2 onto 3, 4, ... cannot
    // clobber a descriptor still to be moved.
    let mut high = Vec::with_capacity(keep.len());
    for &fd in keep {
        // SAFETY: F_DUPFD only duplicates `fd`; it touches no memory.
        high.push(syscall!(fcntl(fd, libc::F_DUPFD, base))?);
    }
    for (i, &fd) in high.iter().enumerate() {
        // SAFETY: dup2 onto 3 + i closes whatever was there; the child never returns to code
        // that owns those descriptors (see `isolate`).
        syscall!(dup2(fd, 3 + i as RawFd))?;
    }
    // SAFETY: as above: closes every descriptor from `base` up, including the parent's copies;
    // nothing in this never-returning child uses them again.
    syscall!(close_range(base as libc::c_uint, libc::c_uint::MAX, 0))?;
    Ok((0..keep.len())
        .map(|i| {
            // SAFETY: descriptor 3 + i was just made by dup2 and nothing else owns it.
            unsafe { OwnedFd::from_raw_fd(3 + i as RawFd) }
        })
        .collect())
}

/// How many descriptors this process has open (entries of /proc/self/fd, minus the one used
/// to read the directory).
pub fn open_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?
        .count()
        .saturating_sub(1))
}
