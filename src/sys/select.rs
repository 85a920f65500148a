//! select(2): with glibc's `fd_set` as servers use it ([`select_readable`], one descriptor,
//! bounded by FD_SETSIZE) and without it ([`select_read`]).
//!
//!
//! glibc's `fd_set` is a fixed 1024-bit array (`FD_SETSIZE`) and `FD_SET(fd)` with
//! `fd >= 1024` is undefined behaviour: it writes past the array. The kernel has no such limit:
//! it reads `nfds` bits from each set, up to the process's descriptor limit. [`FdBits`] is a
//! bit array in the kernel's layout (`unsigned long` words) that grows to fit the largest
//! descriptor, and [`select_read`] passes it to the pselect6 system call directly, so select
//! works for any descriptor the process can open, and an out-of-range descriptor is a
//! bounds-checked error, never a write past a buffer.
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

const BITS: usize = libc::c_ulong::BITS as usize;

/// A read set for [`select_read`], in the kernel's `fd_set` layout but of any size.
#[derive(Debug, Default, Clone)]
pub struct FdBits {
    words: Vec<libc::c_ulong>,
}

impl FdBits {
    /// Clear every bit and make room for descriptors up to `max_fd`.
    pub fn reset(&mut self, max_fd: RawFd) {
        let words = (max_fd.max(0) as usize) / BITS + 1;
        self.words.clear();
        self.words.resize(words, 0);
    }

    /// Add `fd`. A negative or out-of-range descriptor is an error.
    pub fn insert(&mut self, fd: RawFd) -> io::Result<()> {
        let i = usize::try_from(fd).map_err(|_| io::Error::other("negative descriptor"))?;
        let word = self
            .words
            .get_mut(i / BITS)
            .ok_or_else(|| io::Error::other(format!("descriptor {fd} beyond the set")))?;
        *word |= 1 << (i % BITS);
        Ok(())
    }

    pub fn contains(&self, fd: RawFd) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.words.get(i / BITS).map(|w| w & (1 << (i % BITS)) != 0))
            .unwrap_or(false)
    }

    fn capacity(&self) -> usize {
        self.words.len() * BITS
    }
}

/// Wait until a descriptor in `set` below `nfds` is readable, or `timeout` passes. On return
/// `set` holds only the ready descriptors; returns how many there are (0 on timeout).
pub fn select_read(set: &mut FdBits, nfds: RawFd, timeout: Duration) -> io::Result<usize> {
    if nfds < 0 || nfds as usize > set.capacity() {
        return Err(io::Error::other(format!(
            "nfds {nfds} beyond the set ({} bits)",
            set.capacity()
        )));
    }
    let mut ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    let null = std::ptr::null_mut::<libc::c_void>();
    // SAFETY: the read set is a live buffer of at least `nfds` bits (checked above) in the
    // kernel's layout; the write and except sets and the signal mask are null, which pselect6
    // accepts; `ts` is a valid timespec the kernel may update.
    let n = syscall!(syscall(
        libc::SYS_pselect6,
        nfds as libc::c_long,
        set.words.as_mut_ptr(),
        null,
        null,
        &mut ts as *mut libc::timespec,
        null
    ))?;
    Ok(n as usize)
}

/// Wait until a descriptor below `nfds` is readable (in `read`) or writable (in `write`), or
/// `timeout` passes (`None`: no bound). On return the sets hold only the ready descriptors;
/// returns how many there are (0 on timeout). Fails with `Interrupted` when a signal arrives.
/// The event model's `select` loop waits here (see strategy/event/readiness.rs).
pub fn select_rw(
    read: &mut FdBits,
    write: &mut FdBits,
    nfds: RawFd,
    timeout: Option<Duration>,
) -> io::Result<usize> {
    let cap = read.capacity().min(write.capacity());
    if nfds < 0 || nfds as usize > cap {
        return Err(io::Error::other(format!(
            "nfds {nfds} beyond the sets ({cap} bits)"
        )));
    }
    let mut ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_mut()
        .map_or(std::ptr::null_mut(), |t| t as *mut libc::timespec);
    let null = std::ptr::null_mut::<libc::c_void>();
    // SAFETY: both sets are live buffers of at least `nfds` bits (checked above) in the
    // kernel's layout; the except set and the signal mask are null, which pselect6 accepts;
    // `ts_ptr` is null (no timeout) or points at a valid timespec the kernel may update.
    let n = syscall!(syscall(
        libc::SYS_pselect6,
        nfds as libc::c_long,
        read.words.as_mut_ptr(),
        write.words.as_mut_ptr(),
        null,
        ts_ptr,
        null
    ))?;
    Ok(n as usize)
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
