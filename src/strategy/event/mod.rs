//! The event model's side of the strategies (`--worker-model event`): what an event worker's
//! loop registers and waits on. An event worker runs one loop over its open connections and
//! the listener; the strategy decides when the listener is in the loop's wait and how
//! connections are taken from it, exactly as its sync form decides how a sync worker waits.
//!
//! A strategy's shared state ([`super::Prepared`]) gives each event worker an
//! [`EventAcceptor`]: the readiness wait the loop sleeps in (epoll, poll or select, see
//! [`readiness`]) with the listener registered as the strategy says ([`ListenerLoop`]: always,
//! level-triggered, exclusive or edge-triggered, re-registered every 16 accepts; or
//! `accept-mutex`'s loop: only while the worker holds the try-lock). The loop itself
//! (connections, HTTP, timers) is `server/worker/event/`, written once and monomorphised per
//! acceptor. A strategy that cannot live in an event loop (a blocking accept, a blocking lock)
//! uses [`Refused`], and the command line refuses it first ([`super::Strategy::EVENT_FORM`]).
//!
//! Counting, so that the figures keep the sync model's meaning: `wakeups` counts the loop's
//! returns from its wait in which the listener was reported ready (a return for connection
//! data or a timer is not an accept wakeup), `spurious` those whose first accept() found the
//! queue empty, `eagain` every accept() that failed with EAGAIN (with `--accepts-per-wakeup`
//! above 1, the one ending each drain too).
pub(crate) mod listener;
pub(crate) mod readiness;

pub use listener::ListenerLoop;
pub use readiness::{EpollSet, PollSet, Readiness, SelectSet, Watch};

use super::PerWakeup;
use crate::metrics::Slot;
use std::io;
use std::net::TcpStream;
use std::os::fd::RawFd;

/// The token the listener is registered under; connections use their index in the loop.
pub const LISTENER: u64 = u64::MAX;

/// What a connection waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// The next request's bytes (and the peer's close).
    Read,
    /// Room to write the rest of a response.
    Write,
}

/// What the loop tells its acceptor at each turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Connections open in this worker now.
    pub open: usize,
    /// `--worker-connections`.
    pub limit: usize,
    /// Whether the worker takes connections now: not stopping, and below its limit.
    pub accepting: bool,
}

/// One event worker's side of a strategy: the wait its loop sleeps in, holding the worker's
/// connections and, when the strategy says so, the listener.
pub trait EventAcceptor {
    /// Start watching connection `fd` (non-blocking) under `token`.
    fn watch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()>;
    /// Change what connection `fd` is watched for.
    fn rewatch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()>;
    /// Stop watching connection `fd` (while its response is delayed).
    fn unwatch(&mut self, fd: RawFd, token: u64) -> io::Result<()>;
    /// Connection `fd`, watched or not, is about to be closed.
    fn forget(&mut self, fd: RawFd, token: u64) -> io::Result<()>;
    /// One turn's wait: (un)register the listener as the strategy and `load` say, then sleep
    /// until a watched connection or the listener is ready, or `timeout_ms` passes (-1: no
    /// bound). Leaves the ready connection tokens in `ready`; returns whether the listener was
    /// reported ready (counted as a wakeup). A signal ends the wait with `Ok(false)` and
    /// nothing ready.
    fn wait(
        &mut self,
        slot: &Slot,
        load: Load,
        timeout_ms: i32,
        ready: &mut Vec<u64>,
    ) -> io::Result<bool>;
    /// After a wait that reported the listener: one non-blocking accept(). `None` when the
    /// queue is empty (or accept failed, counted): stop accepting for this turn.
    fn accept(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>>;
    /// How many connections one wakeup accepts (`--accepts-per-wakeup`; until EAGAIN when
    /// edge-triggered).
    fn per_wakeup(&self) -> PerWakeup;
    /// The turn's accepts are done (`accepted` connections): `accept-mutex` releases its lock
    /// here, before the loop serves its connections; `epoll-exclusive-rotate` re-registers.
    fn turn_done(&mut self, slot: &Slot, accepted: usize, load: Load) -> io::Result<()>;
    /// The worker stops taking connections for good (a graceful stop or a reload): remove the
    /// listener from the wait, release what the strategy holds, and hand back connections
    /// already taken from the kernel but not yet returned (none for a readiness wait).
    fn stop(&mut self, slot: &Slot) -> io::Result<Vec<TcpStream>>;
    /// A connection this acceptor gave the loop has closed (a strategy that balances on open
    /// connections counts it down here).
    #[inline]
    fn closed(&mut self) {}
}

/// The event acceptor of a strategy that cannot live in an event loop: it has no value, so no
/// worker ever runs one (its `event_acceptor` returns the refusal as an error).
pub enum Refused {}

impl Refused {
    /// The error a refused strategy's `event_acceptor` returns.
    pub fn error(why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!("no event-loop form: {why}"),
        )
    }
}

impl EventAcceptor for Refused {
    fn watch(&mut self, _: RawFd, _: u64, _: Interest) -> io::Result<()> {
        match *self {}
    }
    fn rewatch(&mut self, _: RawFd, _: u64, _: Interest) -> io::Result<()> {
        match *self {}
    }
    fn unwatch(&mut self, _: RawFd, _: u64) -> io::Result<()> {
        match *self {}
    }
    fn forget(&mut self, _: RawFd, _: u64) -> io::Result<()> {
        match *self {}
    }
    fn wait(&mut self, _: &Slot, _: Load, _: i32, _: &mut Vec<u64>) -> io::Result<bool> {
        match *self {}
    }
    fn accept(&mut self, _: &Slot) -> io::Result<Option<TcpStream>> {
        match *self {}
    }
    fn per_wakeup(&self) -> PerWakeup {
        match *self {}
    }
    fn turn_done(&mut self, _: &Slot, _: usize, _: Load) -> io::Result<()> {
        match *self {}
    }
    fn stop(&mut self, _: &Slot) -> io::Result<Vec<TcpStream>> {
        match *self {}
    }
}
