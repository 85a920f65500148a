//! poll(2) and select(2) on one descriptor: the readiness calls of gunicorn's sync worker and of
//! many older prefork servers.
use std::io;
use std::os::fd::RawFd;

/// Block until `fd` is readable. Fails with `Interrupted` when a signal arrives.
pub fn poll_readable(fd: RawFd) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1.
    syscall!(poll(&mut pfd, 1, -1))?;
    Ok(())
}

/// Whether select(2) can watch `fd`: an fd_set has FD_SETSIZE bits, and FD_SET on a larger
/// descriptor writes past the end of the set.
pub fn select_can_watch(fd: RawFd) -> io::Result<()> {
    if fd < 0 || fd as usize >= libc::FD_SETSIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "select() cannot watch descriptor {fd}: FD_SETSIZE is {}",
                libc::FD_SETSIZE
            ),
        ));
    }
    Ok(())
}

/// Block in select(2) until `fd` is readable. Fails with `Interrupted` when a signal arrives,
/// and with `InvalidInput` (before any call) when `fd` does not fit in an fd_set.
pub fn select_readable(fd: RawFd) -> io::Result<()> {
    select_can_watch(fd)?;
    // SAFETY: an all-zero fd_set is a valid empty set (FD_ZERO makes it one anyway).
    let mut set: libc::fd_set = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid fd_set and 0 <= fd < FD_SETSIZE was checked above.
    unsafe {
        libc::FD_ZERO(&mut set);
        libc::FD_SET(fd, &mut set);
    }
    // SAFETY: `set` is valid for the call; null write/except sets and timeout are allowed.
    syscall!(select(
        fd + 1,
        &mut set,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut()
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_refuses_descriptors_beyond_fd_setsize() {
        assert!(select_can_watch(0).is_ok());
        assert!(select_can_watch(libc::FD_SETSIZE as RawFd - 1).is_ok());
        let e = select_readable(libc::FD_SETSIZE as RawFd).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(select_can_watch(-1).is_err());
    }
}
