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
//! its accept events the same way), during a `--busy-delay`, and for good once the worker stops.
//!
//! `--busy-delay D` (Puma's `wait_for_less_busy_worker`, PR #2079, Puma 5): when the listener
//! is reported ready to a worker that holds connections, the worker does not accept at once:
//! it takes the listener out of its wait for D, or until one of its connections closes (Puma's
//! `@not_full` signal, which a finished request raises), so that an idle worker, woken by the
//! same connection, takes it first. Then it puts the listener back and accepts what is still
//! queued without delaying again. Puma waits the whole D however busy the worker is (it only
//! asks whether any thread is busy); herd does the same.
use super::readiness::{Readiness, Watch};
use super::{EventAcceptor, Interest, Load, LISTENER};
use crate::metrics::Slot;
use crate::strategy::{count_accept_error, PerWakeup, NO_FDS_BACKOFF};
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
    /// Accepts per wakeup (`--accepts-per-wakeup`; until EAGAIN when edge-triggered).
    per_wakeup: PerWakeup,
    /// `--busy-delay`, ns (0: none).
    busy_delay_ns: u64,
    /// During a busy delay: the connections open when it began (one closing ends it).
    delayed_at_open: Option<usize>,
    /// A busy delay ended: the next wakeup accepts without delaying again.
    delay_done: bool,
    /// This wakeup is the first after a busy delay.
    after_delay: bool,
    /// Connections open at the last wait.
    open: usize,
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
    pub fn new(set: R, listener: &'a TcpListener, trigger: Trigger, per_wakeup: PerWakeup) -> Self {
        ListenerLoop {
            set,
            listener,
            trigger,
            per_wakeup: match trigger {
                Trigger::Edge => PerWakeup::UntilEagain,
                _ => per_wakeup,
            },
            busy_delay_ns: 0,
            delayed_at_open: None,
            delay_done: false,
            after_delay: false,
            open: 0,
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

    /// `--busy-delay`.
    pub fn busy_delay(mut self, d: Option<std::time::Duration>) -> Self {
        self.busy_delay_ns = d.map_or(0, |d| d.as_nanos().max(1) as u64);
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
        self.open = load.open;
        if !load.accepting || self.stopped {
            return false;
        }
        if let Some(at_open) = self.delayed_at_open {
            // A connection closed: Puma's `@not_full` signal ends the delay early.
            if load.open < at_open {
                self.delayed_at_open = None;
                self.paused_until = 0;
                self.delay_done = true;
            }
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
            if self.delayed_at_open.take().is_some() {
                self.delay_done = true;
            }
        }
        true
    }

    /// `--busy-delay`: a wakeup of a worker holding connections that has not just waited out a
    /// delay starts one instead of accepting. True when it did.
    fn start_busy_delay(&mut self) -> io::Result<bool> {
        if self.busy_delay_ns == 0 || self.open == 0 || self.after_delay {
            return Ok(false);
        }
        self.delayed_at_open = Some(self.open);
        self.paused_until = monotonic_ns() + self.busy_delay_ns;
        self.set_watching(false)?;
        Ok(true)
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
        self.after_delay = std::mem::take(&mut self.delay_done);
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
        if self.tries == 0 && self.start_busy_delay()? {
            // Woken, and no connection taken: counted as spurious, as any such wakeup.
            Slot::bump(&slot.spurious, 1);
            return Ok(None);
        }
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

    fn per_wakeup(&self) -> PerWakeup {
        self.per_wakeup
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
