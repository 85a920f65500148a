//! A thin epoll(7) wrapper: one instance, level-triggered or exclusive registrations, and a
//! wait that reports how many events arrived.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Epoll {
    fd: OwnedFd,
}

/// How a descriptor is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// EPOLLIN, level-triggered: every instance watching the socket is woken.
    Level,
    /// EPOLLIN | EPOLLEXCLUSIVE (Linux 4.5): the kernel wakes one or more, not all, instances.
    Exclusive,
    /// EPOLLIN | EPOLLET: edge-triggered; the waiter must drain until EAGAIN.
    Edge,
}

impl Trigger {
    /// The epoll event bits of a read registration of this kind.
    pub fn events(self) -> u32 {
        (match self {
            Trigger::Level => libc::EPOLLIN,
            Trigger::Exclusive => libc::EPOLLIN | libc::EPOLLEXCLUSIVE,
            Trigger::Edge => libc::EPOLLIN | libc::EPOLLET,
        }) as u32
    }
}

impl Epoll {
    pub fn new() -> io::Result<Self> {
        let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: epoll_create1 just returned this descriptor, which nothing else owns.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn add(&self, fd: RawFd, token: u64, trigger: Trigger) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, trigger.events())
    }

    /// Register `fd` for exactly `events` (EPOLLIN, EPOLLOUT, ...).
    pub fn add_events(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, events)
    }

    /// Change what `fd` is registered for.
    pub fn modify(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, events)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        syscall!(epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev))?;
        Ok(())
    }

    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `add` (the event is ignored for DEL but must be non-null on old kernels).
        syscall!(epoll_ctl(
            self.fd.as_raw_fd(),
            libc::EPOLL_CTL_DEL,
            fd,
            &mut ev
        ))?;
        Ok(())
    }

    /// Wait up to `timeout_ms` (-1: forever); returns the number of ready events written to
    /// `events`. Fails with `Interrupted` when a signal arrives.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let max = events.len().min(i32::MAX as usize) as i32;
        // SAFETY: `events` is a writable buffer of `max` epoll_event values.
        let n = syscall!(epoll_wait(
            self.fd.as_raw_fd(),
            events.as_mut_ptr(),
            max,
            timeout_ms
        ))?;
        Ok(n as usize)
    }
}

/// The token of a ready event.
pub fn token(ev: &libc::epoll_event) -> u64 {
    ev.u64
}

/// A zeroed event buffer for [`Epoll::wait`].
pub fn event_buffer(n: usize) -> Vec<libc::epoll_event> {
    vec![libc::epoll_event { events: 0, u64: 0 }; n]
}

/// Whether this kernel accepts EPOLLEXCLUSIVE (Linux 4.5 and later).
pub fn exclusive_supported() -> bool {
    let Ok(ep) = Epoll::new() else { return false };
    let Ok(sock) = std::net::UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    ep.add(sock.as_raw_fd(), 0, Trigger::Exclusive).is_ok()
}
