//! The call an event loop sleeps in, over the descriptors it watches: epoll(7), poll(2) or
//! select(2). epoll keeps its registrations in the kernel; poll and select pass the whole set at
//! every call and the kernel puts one (non-exclusive) wait entry per descriptor on each wait
//! queue for the length of the call: the cost grows with the connections a worker holds, and a
//! listener in the set wakes every idle worker (the herd of `epoll-shared`). Connections are
//! watched edge-triggered in epoll (see [`epoll_events`]) and level-triggered in poll and select.
//!
//! `select`: the set is in the kernel's layout and grows with the largest descriptor
//! ([`FdBits`]), so a worker may hold descriptors beyond glibc's FD_SETSIZE (1024) without
//! writing past a fixed `fd_set`; the kernel bounds it by the descriptor limit.
use crate::sys::epoll::{event_buffer, token, Epoll, Trigger};
use crate::sys::poll::poll;
use crate::sys::select::{select_rw, FdBits};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// What a descriptor is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    Read,
    Write,
    /// A listening socket, registered the strategy's way (poll and select: level only).
    Listen(Trigger),
}

/// A set of watched descriptors and the call that waits on it.
pub trait Readiness {
    fn add(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()>;
    fn modify(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()>;
    fn delete(&mut self, fd: RawFd, token: u64) -> io::Result<()>;
    /// `fd` is about to be closed: forget it. epoll does so by itself when the last
    /// descriptor of the socket closes (a connection's only one), so it makes no system call,
    /// as nginx skips EPOLL_CTL_DEL before close().
    fn forget(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.delete(fd, token)
    }
    /// Wait up to `timeout_ms` (-1: no bound); push the tokens of ready descriptors (readable,
    /// writable, hung up or in error) to `ready`. `Interrupted` when a signal arrives.
    fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<u64>) -> io::Result<()>;
}

/// Events returned per epoll_wait(): a busy loop takes the rest at its next call.
const EPOLL_BATCH: usize = 512;

/// epoll(7): one instance per worker, made after fork so it is not shared.
pub struct EpollSet {
    ep: Epoll,
    events: Vec<libc::epoll_event>,
}

impl EpollSet {
    pub fn new() -> io::Result<Self> {
        Ok(EpollSet {
            ep: Epoll::new()?,
            events: event_buffer(EPOLL_BATCH),
        })
    }
}

/// Connections are edge-triggered in epoll, as nginx registers them: a level-triggered entry
/// is queued again after each report and polled once more at the next wait, which costs a
/// tcp_poll() per event. The loop reads until a read comes back short, and switching what a
/// connection waits for (EPOLL_CTL_MOD, and adding it back after a delay) polls it again, so no
/// readiness is missed.
fn epoll_events(w: Watch) -> u32 {
    match w {
        Watch::Read => (libc::EPOLLIN | libc::EPOLLET) as u32,
        Watch::Write => (libc::EPOLLOUT | libc::EPOLLET) as u32,
        Watch::Listen(t) => t.events(),
    }
}

impl Readiness for EpollSet {
    fn add(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()> {
        self.ep.add_events(fd, token, epoll_events(w))
    }
    fn modify(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()> {
        self.ep.modify(fd, token, epoll_events(w))
    }
    fn delete(&mut self, fd: RawFd, _: u64) -> io::Result<()> {
        self.ep.delete(fd)
    }
    fn forget(&mut self, _: RawFd, _: u64) -> io::Result<()> {
        Ok(())
    }
    fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<u64>) -> io::Result<()> {
        let n = self.ep.wait(&mut self.events, timeout_ms)?;
        ready.extend(self.events[..n].iter().map(token));
        Ok(())
    }
}

/// The watched descriptors of a poll or select loop, as an array of `pollfd` (what poll(2)
/// takes) with each entry's token, and each token's position for O(1) removal.
#[derive(Default)]
pub struct FdList {
    fds: Vec<libc::pollfd>,
    tokens: Vec<u64>,
    /// Position of connection token `t` in `fds` (usize::MAX: absent).
    conn_pos: Vec<usize>,
    listener_pos: Option<usize>,
}

fn poll_events(w: Watch) -> i16 {
    match w {
        Watch::Read | Watch::Listen(_) => libc::POLLIN,
        Watch::Write => libc::POLLOUT,
    }
}

impl FdList {
    fn pos(&self, token: u64) -> Option<usize> {
        if token == super::LISTENER {
            self.listener_pos
        } else {
            self.conn_pos
                .get(token as usize)
                .copied()
                .filter(|&p| p != usize::MAX)
        }
    }

    fn set_pos(&mut self, token: u64, pos: Option<usize>) {
        if token == super::LISTENER {
            self.listener_pos = pos;
            return;
        }
        let t = token as usize;
        if self.conn_pos.len() <= t {
            self.conn_pos.resize(t + 1, usize::MAX);
        }
        self.conn_pos[t] = pos.unwrap_or(usize::MAX);
    }

    fn add(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()> {
        if self.pos(token).is_some() {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        self.set_pos(token, Some(self.fds.len()));
        self.fds.push(libc::pollfd {
            fd,
            events: poll_events(w),
            revents: 0,
        });
        self.tokens.push(token);
        Ok(())
    }

    fn modify(&mut self, token: u64, w: Watch) -> io::Result<()> {
        let p = self
            .pos(token)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        self.fds[p].events = poll_events(w);
        Ok(())
    }

    fn delete(&mut self, token: u64) -> io::Result<()> {
        let p = self
            .pos(token)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        self.fds.swap_remove(p);
        self.tokens.swap_remove(p);
        self.set_pos(token, None);
        if let Some(&moved) = self.tokens.get(p) {
            self.set_pos(moved, Some(p));
        }
        Ok(())
    }
}

/// poll(2) over the whole set at every call (Python's `PollSelector`, libevent's poll
/// backend).
#[derive(Default)]
pub struct PollSet(FdList);

impl Readiness for PollSet {
    fn add(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()> {
        self.0.add(fd, token, w)
    }
    fn modify(&mut self, _: RawFd, token: u64, w: Watch) -> io::Result<()> {
        self.0.modify(token, w)
    }
    fn delete(&mut self, _: RawFd, token: u64) -> io::Result<()> {
        self.0.delete(token)
    }
    fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<u64>) -> io::Result<()> {
        let list = &mut self.0;
        let n = poll(&mut list.fds, timeout_ms)?;
        if n > 0 {
            for (f, &t) in list.fds.iter().zip(&list.tokens) {
                if f.revents != 0 {
                    ready.push(t);
                }
            }
        }
        Ok(())
    }
}

/// select(2) over the whole set at every call (Python's `SelectSelector`, the classic loop).
#[derive(Default)]
pub struct SelectSet {
    list: FdList,
    read: FdBits,
    write: FdBits,
}

impl Readiness for SelectSet {
    fn add(&mut self, fd: RawFd, token: u64, w: Watch) -> io::Result<()> {
        if fd < 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        self.list.add(fd, token, w)
    }
    fn modify(&mut self, _: RawFd, token: u64, w: Watch) -> io::Result<()> {
        self.list.modify(token, w)
    }
    fn delete(&mut self, _: RawFd, token: u64) -> io::Result<()> {
        self.list.delete(token)
    }
    fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<u64>) -> io::Result<()> {
        let max = self.list.fds.iter().map(|f| f.fd).max().unwrap_or(0);
        self.read.reset(max);
        self.write.reset(max);
        for f in &self.list.fds {
            if f.events & libc::POLLOUT != 0 {
                self.write.insert(f.fd)?;
            } else {
                self.read.insert(f.fd)?;
            }
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let n = select_rw(&mut self.read, &mut self.write, max + 1, timeout)?;
        if n > 0 {
            for (f, &t) in self.list.fds.iter().zip(&self.list.tokens) {
                if self.read.contains(f.fd) || self.write.contains(f.fd) {
                    ready.push(t);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    /// Each backend reports a readable connection and a ready listener by token, and forgets
    /// what was deleted.
    fn reports_ready_tokens(mut set: impl Readiness) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        set.add(
            listener.as_raw_fd(),
            super::super::LISTENER,
            Watch::Listen(Trigger::Level),
        )
        .unwrap();
        let mut ready = Vec::new();
        set.wait(0, &mut ready).unwrap();
        assert!(ready.is_empty(), "nothing is ready yet");
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        set.wait(1000, &mut ready).unwrap();
        assert_eq!(ready, [super::super::LISTENER]);
        let (server, _) = listener.accept().unwrap();
        set.delete(listener.as_raw_fd(), super::super::LISTENER)
            .unwrap();
        set.add(server.as_raw_fd(), 7, Watch::Read).unwrap();
        ready.clear();
        set.wait(0, &mut ready).unwrap();
        assert!(ready.is_empty());
        client.write_all(b"x").unwrap();
        set.wait(1000, &mut ready).unwrap();
        assert_eq!(ready, [7]);
        set.modify(server.as_raw_fd(), 7, Watch::Write).unwrap();
        ready.clear();
        set.wait(1000, &mut ready).unwrap();
        assert_eq!(ready, [7], "an idle socket is writable");
        set.delete(server.as_raw_fd(), 7).unwrap();
        ready.clear();
        set.wait(0, &mut ready).unwrap();
        assert!(ready.is_empty());
    }

    #[test]
    fn epoll_poll_and_select_report_the_same() {
        reports_ready_tokens(EpollSet::new().unwrap());
        reports_ready_tokens(PollSet::default());
        reports_ready_tokens(SelectSet::default());
    }

    #[test]
    fn removing_from_the_middle_keeps_positions() {
        let mut l = FdList::default();
        for t in 0..4u64 {
            l.add(10 + t as RawFd, t, Watch::Read).unwrap();
        }
        l.delete(1).unwrap();
        assert_eq!(l.pos(3), Some(1));
        assert_eq!(l.fds[1].fd, 13);
        assert!(l.add(20, 0, Watch::Read).is_err(), "token 0 is still there");
        l.delete(3).unwrap();
        l.delete(0).unwrap();
        assert_eq!(l.tokens, [2]);
        assert_eq!(l.pos(2), Some(0));
    }
}
