//! The readiness acceptor shared by every strategy that first waits for the shared non-blocking
//! socket to become readable (epoll, poll, select) and then calls accept(2): written once here,
//! with the wait itself behind [`Wait`].
//!
//! With `--accepts-per-wakeup N` above 1 (`unlimited` and `--multi-accept`: until EAGAIN, and
//! always so for edge-triggered epoll) a wakeup that produced a connection is followed by up to
//! N - 1 more accept() calls, one per call of [`Acceptor::next`], before the worker waits
//! again; one that fails with EAGAIN ends them: nginx's `multi_accept`, Envoy's
//! `max_connections_to_accept_per_socket_event`. Those calls are not wakeups; the EAGAIN that
//! ends a drain is counted in `eagain` (it is a real system call) but not as a spurious wakeup.
use super::event::{ListenerLoop, Readiness};
use super::listen::{self, ListenConfig};
use super::{accept_after_wakeup, record_accept, Acceptor, PerWakeup, Prepared};
use crate::metrics::Slot;
use crate::sys::epoll::Trigger;
use crate::sys::net::accept;
use std::io;
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

/// How a worker waits for the listener to become readable.
pub trait Wait {
    /// Block until the listener may be readable. `Ok(false)`: a signal ended the wait (not a
    /// wakeup).
    fn wait(&mut self) -> io::Result<bool>;

    /// Called after each wakeup that produced a connection.
    fn accepted(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Map a wait's `Interrupted` to `Ok(false)`, as [`Wait::wait`] wants.
pub fn interrupted_is_false(res: io::Result<()>) -> io::Result<bool> {
    match res {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

pub struct ReadyAcceptor<'a, W> {
    listener: &'a TcpListener,
    waiter: W,
    /// Accepts per wakeup.
    per_wakeup: PerWakeup,
    /// Connections taken since the last wakeup; 0: the next call waits.
    taken: u64,
}

impl<'a, W: Wait> ReadyAcceptor<'a, W> {
    pub fn new(listener: &'a TcpListener, waiter: W, per_wakeup: PerWakeup) -> Self {
        ReadyAcceptor {
            listener,
            waiter,
            per_wakeup,
            taken: 0,
        }
    }
}

impl<W: Wait> Acceptor for ReadyAcceptor<'_, W> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        if self.taken > 0 && self.per_wakeup.more_after(self.taken) {
            if let Some(s) = record_accept(slot, accept(self.listener)) {
                self.taken += 1;
                return Ok(Some(s));
            }
        }
        self.taken = 0;
        if !self.waiter.wait()? {
            return Ok(None);
        }
        Slot::bump(&slot.wakeups, 1);
        let got = accept_after_wakeup(self.listener, slot);
        if got.is_some() {
            self.waiter.accepted()?;
            self.taken = 1;
        }
        Ok(got)
    }
}

/// A wait on one socket that a worker makes for itself after fork (poll, select).
pub trait SocketWait: Wait + Sized {
    fn for_socket(fd: RawFd) -> io::Result<Self>;
    /// The event model's wait of the same kind: the loop's set, holding the socket and the
    /// worker's connections.
    type Readiness: Readiness;
    fn readiness() -> io::Result<Self::Readiness>;
}

/// The shared non-blocking socket of the poll(2) and select(2) strategies, whose workers each
/// wait on it with a `W`.
pub struct SharedSocket<W> {
    pub listener: TcpListener,
    /// `--accepts-per-wakeup`.
    pub per_wakeup: PerWakeup,
    /// `--busy-delay` (event model).
    pub busy_delay: Option<std::time::Duration>,
    wait: PhantomData<fn() -> W>,
}

impl<W> SharedSocket<W> {
    pub fn new(cfg: &ListenConfig, opts: &super::StrategyOptions) -> io::Result<Self> {
        Ok(SharedSocket {
            listener: listen::bind(cfg, cfg.addr, false, true)?,
            per_wakeup: opts.per_wakeup,
            busy_delay: opts.busy_delay,
            wait: PhantomData,
        })
    }
}

impl<W: SocketWait> Prepared for SharedSocket<W> {
    type Acceptor<'a>
        = ReadyAcceptor<'a, W>
    where
        W: 'a;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    type Events<'a>
        = ListenerLoop<'a, W::Readiness>
    where
        W: 'a;

    fn event_acceptor(&self, _worker: usize) -> io::Result<ListenerLoop<'_, W::Readiness>> {
        Ok(ListenerLoop::new(
            W::readiness()?,
            &self.listener,
            Trigger::Level,
            self.per_wakeup,
        )
        .busy_delay(self.busy_delay))
    }

    fn acceptor(&self, _worker: usize) -> io::Result<ReadyAcceptor<'_, W>> {
        let wait = W::for_socket(self.listener.as_raw_fd())?;
        Ok(ReadyAcceptor::new(&self.listener, wait, self.per_wakeup))
    }
}
