//! The epoll wait shared by `epoll-shared`, `epoll-exclusive`, `epoll-exclusive-rotate` and
//! `epoll-et`: each worker owns one epoll instance (made after fork, so it is not shared)
//! holding the shared non-blocking socket, waits in epoll_wait(2), then tries accept(2) through
//! the [`ReadyAcceptor`]. A wakeup that finds the queue empty gets EAGAIN and is counted as
//! spurious.
use super::event::{EpollSet, ListenerLoop};
use super::listen::{self, ListenConfig};
use super::ready::{interrupted_is_false, ReadyAcceptor, Wait};
use super::{PerWakeup, Prepared, StrategyOptions};
use crate::sys::epoll::{event_buffer, Epoll, Trigger};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};

pub struct Shared {
    pub listener: TcpListener,
    trigger: Trigger,
    /// Accepts per wakeup (`--accepts-per-wakeup`; until EAGAIN for edge-triggered).
    per_wakeup: PerWakeup,
    /// `--busy-delay` (event model).
    busy_delay: Option<std::time::Duration>,
    /// Delete and re-add the registration every this many wakeups that accepted (nginx's
    /// `ngx_reorder_accept_events`); `None`: never.
    rotate_every: Option<u64>,
}

impl Shared {
    pub fn new(cfg: &ListenConfig, trigger: Trigger) -> io::Result<Self> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, true)?,
            trigger,
            per_wakeup: PerWakeup::default(),
            busy_delay: None,
            rotate_every: None,
        })
    }

    /// `--accepts-per-wakeup` and `--busy-delay`. Edge-triggered registrations drain whatever
    /// the first says.
    pub fn options(mut self, opts: &StrategyOptions) -> Self {
        self.per_wakeup = match self.trigger {
            Trigger::Edge => PerWakeup::UntilEagain,
            _ => opts.per_wakeup,
        };
        self.busy_delay = opts.busy_delay;
        self
    }

    /// Re-register every `n` accepting wakeups.
    pub fn rotate_every(mut self, n: u64) -> Self {
        self.rotate_every = Some(n.max(1));
        self
    }
}

impl Prepared for Shared {
    type Acceptor<'a> = ReadyAcceptor<'a, EpollWait>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    type Events<'a> = ListenerLoop<'a, EpollSet>;

    /// The event model: this worker's loop epoll, with the socket registered as in the sync
    /// form (level, exclusive or edge-triggered; re-registered for the rotation).
    fn event_acceptor(&self, _worker: usize) -> io::Result<ListenerLoop<'_, EpollSet>> {
        Ok(ListenerLoop::new(
            EpollSet::new()?,
            &self.listener,
            self.trigger,
            self.per_wakeup,
        )
        .rotate_every(self.rotate_every)
        .busy_delay(self.busy_delay))
    }

    /// Create this worker's epoll instance and register the socket in it.
    fn acceptor(&self, _worker: usize) -> io::Result<ReadyAcceptor<'_, EpollWait>> {
        let ep = Epoll::new()?;
        let fd = self.listener.as_raw_fd();
        ep.add(fd, 0, self.trigger)?;
        let waiter = EpollWait {
            ep,
            fd,
            trigger: self.trigger,
            events: event_buffer(1),
            rotate_every: self.rotate_every,
            accepting_wakeups: 0,
        };
        Ok(ReadyAcceptor::new(&self.listener, waiter, self.per_wakeup))
    }
}

pub struct EpollWait {
    ep: Epoll,
    fd: RawFd,
    trigger: Trigger,
    events: Vec<libc::epoll_event>,
    rotate_every: Option<u64>,
    accepting_wakeups: u64,
}

impl Wait for EpollWait {
    fn wait(&mut self) -> io::Result<bool> {
        interrupted_is_false(self.ep.wait(&mut self.events, -1).map(drop))
    }

    fn accepted(&mut self) -> io::Result<()> {
        let Some(n) = self.rotate_every else {
            return Ok(());
        };
        // As nginx: the count starts at 0, so the first accept already re-registers.
        let due = self.accepting_wakeups % n == 0;
        self.accepting_wakeups += 1;
        if due {
            self.ep.delete(self.fd)?;
            self.ep.add(self.fd, 0, self.trigger)?;
        }
        Ok(())
    }
}
