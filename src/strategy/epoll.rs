//! The epoll acceptor shared by `epoll-shared` and `epoll-exclusive`: each worker owns one epoll
//! instance (made after fork, so it is not shared) holding the shared non-blocking socket, waits
//! in epoll_wait(2), then tries accept(2). A wakeup that finds the queue empty gets EAGAIN and
//! is counted as spurious.
use super::listen::{self, ListenConfig};
use super::{accept_after_wakeup, Acceptor};
use crate::metrics::Slot;
use crate::sys::epoll::{event_buffer, Epoll, Trigger};
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

pub struct Shared {
    pub listener: TcpListener,
    trigger: Trigger,
}

impl Shared {
    pub fn new(cfg: &ListenConfig, trigger: Trigger) -> io::Result<Self> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, true)?,
            trigger,
        })
    }

    /// Create this worker's epoll instance and register the socket in it.
    pub fn acceptor(&self) -> io::Result<EpollAcceptor<'_>> {
        let ep = Epoll::new()?;
        ep.add(self.listener.as_raw_fd(), 0, self.trigger)?;
        Ok(EpollAcceptor {
            ep,
            listener: &self.listener,
            events: event_buffer(1),
        })
    }
}

pub struct EpollAcceptor<'a> {
    ep: Epoll,
    listener: &'a TcpListener,
    events: Vec<libc::epoll_event>,
}

impl Acceptor for EpollAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        match self.ep.wait(&mut self.events, -1) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
            Ok(_) => {
                Slot::bump(&slot.wakeups, 1);
                Ok(accept_after_wakeup(self.listener, slot))
            }
        }
    }
}
