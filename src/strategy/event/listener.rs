//! The event acceptor of every strategy whose listener simply sits in the loop's wait:
//! `epoll-shared`, `epoll-exclusive`, `epoll-exclusive-rotate`, `epoll-et` (the shared socket,
//! registered level-triggered, exclusive or edge-triggered), `reuseport` and `reuseport-cbpf`
//! (the worker's own socket), `poll` and `select` (the shared socket in the poll or select
//! set). nginx's event module does the same with its listening sockets (ngx_enable_accept_events).
//!
//! The listener is registered while the worker takes connections and removed while it does
//! not: at its `--worker-connections` limit (so that an exclusive wakeup goes to a worker with
//! room, and an edge-triggered registration reports a queue left non-empty when it is added
//! back), for [`NO_FDS_BACKOFF`] after accept() failed for lack of descriptors (nginx disables
//! its accept events the same way), and for good once the worker stops.
use super::readiness::{Readiness, Watch};
use super::{EventAcceptor, Interest, Load, LISTENER};
use crate::metrics::Slot;
use crate::strategy::{count_accept_error, NO_FDS_BACKOFF};
use crate::sys::clock::monotonic_ns;
use crate::sys::epoll::Trigger;
use crate::sys::net::accept_nonblocking;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

pub struct ListenerLoop<'a, R> {
    set: R,
    listener: &'a TcpListener,
    trigger: Trigger,
    /// Accept until EAGAIN after a wakeup (`--multi-accept`, forced for edge-triggered).
    drain: bool,
    /// Re-register the listener every this many wakeups that accepted (nginx 1.21.6).
    rotate_every: Option<u64>,
    accepting_wakeups: u64,
    /// Whether the listener is in the wait now.
    watching: bool,
    /// accept() calls since the wakeup (the first one finding nothing makes it spurious).
    tries: u64,
    /// Out of descriptors: leave the listener out of the wait until then (CLOCK_MONOTONIC ns).
    paused_until: u64,
    stopped: bool,
}

impl<'a, R: Readiness> ListenerLoop<'a, R> {
    /// The listener must be non-blocking (the strategy's `event_acceptor` makes sure).
    pub fn new(set: R, listener: &'a TcpListener, trigger: Trigger, drain: bool) -> Self {
        ListenerLoop {
            set,
            listener,
            trigger,
            drain: drain || trigger == Trigger::Edge,
            rotate_every: None,
            accepting_wakeups: 0,
            watching: false,
            tries: 0,
            paused_until: 0,
            stopped: false,
        }
    }

    /// Re-register every `n` accepting wakeups.
    pub fn rotate_every(mut self, n: Option<u64>) -> Self {
        self.rotate_every = n.map(|n| n.max(1));
        self
    }

    /// Put the listener in the wait, or take it out.
    pub fn set_watching(&mut self, on: bool) -> io::Result<()> {
        if on != self.watching {
            let fd = self.listener.as_raw_fd();
            if on {
                self.set.add(fd, LISTENER, Watch::Listen(self.trigger))?;
            } else {
                self.set.delete(fd, LISTENER)?;
            }
            self.watching = on;
        }
        Ok(())
    }

    /// Whether the listener may be in the wait: `load` allows it and no backoff runs. Ends an
    /// expired backoff; caps `timeout_ms` at the end of a running one.
    pub fn may_watch(&mut self, load: Load, timeout_ms: &mut i32) -> bool {
        if !load.accepting || self.stopped {
            return false;
        }
        if self.paused_until != 0 {
            let now = monotonic_ns();
            if now < self.paused_until {
                let left = (self.paused_until - now).div_ceil(1_000_000) as i32;
                *timeout_ms = if *timeout_ms < 0 {
                    left
                } else {
                    (*timeout_ms).min(left)
                };
                return false;
            }
            self.paused_until = 0;
        }
        true
    }

    /// Sleep in the wait as it is now; true when the listener was reported ready.
    pub fn wait_as_registered(
        &mut self,
        slot: &Slot,
        timeout_ms: i32,
        ready: &mut Vec<u64>,
    ) -> io::Result<bool> {
        ready.clear();
        match self.set.wait(timeout_ms, ready) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                ready.clear();
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        let Some(i) = ready.iter().position(|&t| t == LISTENER) else {
            return Ok(false);
        };
        ready.swap_remove(i);
        if !self.watching {
            return Ok(false);
        }
        Slot::bump(&slot.wakeups, 1);
        self.tries = 0;
        Ok(true)
    }
}

impl<R: Readiness> EventAcceptor for ListenerLoop<'_, R> {
    fn watch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.set.add(fd, token, watch_of(interest))
    }

    fn rewatch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.set.modify(fd, token, watch_of(interest))
    }

    fn unwatch(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.set.delete(fd, token)
    }

    fn forget(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.set.forget(fd, token)
    }

    fn wait(
        &mut self,
        slot: &Slot,
        load: Load,
        mut timeout_ms: i32,
        ready: &mut Vec<u64>,
    ) -> io::Result<bool> {
        let on = self.may_watch(load, &mut timeout_ms);
        self.set_watching(on)?;
        self.wait_as_registered(slot, timeout_ms, ready)
    }

    fn accept(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.tries += 1;
        match accept_nonblocking(self.listener) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                if self.tries == 1 {
                    Slot::bump(&slot.spurious, 1);
                }
                if count_accept_error(slot, &e) {
                    self.paused_until = monotonic_ns() + NO_FDS_BACKOFF.as_nanos() as u64;
                    self.set_watching(false)?;
                }
                Ok(None)
            }
        }
    }

    fn drains(&self) -> bool {
        self.drain
    }

    fn turn_done(&mut self, _: &Slot, accepted: usize, _: Load) -> io::Result<()> {
        let Some(n) = self.rotate_every.filter(|_| accepted > 0 && self.watching) else {
            return Ok(());
        };
        // As nginx: the count starts at 0, so the first accept already re-registers.
        let due = self.accepting_wakeups % n == 0;
        self.accepting_wakeups += 1;
        if due {
            self.set_watching(false)?;
            self.set_watching(true)?;
        }
        Ok(())
    }

    fn stop(&mut self, _: &Slot) -> io::Result<Vec<TcpStream>> {
        self.stopped = true;
        self.set_watching(false)?;
        Ok(Vec::new())
    }
}

fn watch_of(i: Interest) -> Watch {
    match i {
        Interest::Read => Watch::Read,
        Interest::Write => Watch::Write,
    }
}
