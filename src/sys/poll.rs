//! poll(2) over a caller-owned array of `pollfd`, so the array can persist between calls
//! (nix's `PollFd` borrows each descriptor, which does not fit a long-lived set).
use std::io;
use std::os::fd::RawFd;

/// A `pollfd` asking for readability of `fd`.
pub fn readable(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Wait up to `timeout_ms` (-1: forever) until an entry of `fds` has events; returns how many
/// entries have a non-zero `revents`.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: `fds` is a writable array of `fds.len()` pollfd structures.
    let n = syscall!(poll(
        fds.as_mut_ptr(),
        fds.len() as libc::nfds_t,
        timeout_ms
    ))?;
    Ok(n as usize)
}

/// Block until `fd` is readable. Fails with `Interrupted` when a signal arrives.
pub fn poll_readable(fd: RawFd) -> io::Result<()> {
    poll(&mut [readable(fd)], -1).map(drop)
}
