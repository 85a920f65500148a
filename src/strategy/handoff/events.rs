//! An event worker's side of a hand-off strategy: the seat's channel (its Unix socket, or its
//! queue's eventfd in thread mode) sits in the loop's epoll where a listener would, while the
//! worker takes connections; when it is reported readable the loop takes every connection
//! waiting there (they are accepted already: leaving one queued would only delay it).
use super::channel::Receiver;
use super::Shared;
use crate::metrics::Slot;
use crate::strategy::event::{EpollSet, EventAcceptor, Interest, Load, Readiness, Watch, LISTENER};
use crate::strategy::PerWakeup;
use crate::sys::epoll::Trigger;
use std::io;
use std::net::TcpStream;
use std::os::fd::RawFd;

pub struct HandoffLoop<'a> {
    shared: &'a Shared,
    seat: usize,
    rx: Receiver<'a>,
    set: EpollSet,
    watching: bool,
    stopped: bool,
    /// Receives since the wakeup (the first finding nothing makes it spurious).
    tries: u64,
}

impl<'a> HandoffLoop<'a> {
    pub fn new(shared: &'a Shared, seat: usize) -> io::Result<Self> {
        let ch = shared
            .channels
            .get(seat)
            .ok_or_else(|| io::Error::other(format!("no hand-off channel for seat {seat}")))?;
        Ok(HandoffLoop {
            shared,
            seat,
            rx: Receiver::new(ch),
            set: EpollSet::new()?,
            watching: false,
            stopped: false,
            tries: 0,
        })
    }

    fn set_watching(&mut self, on: bool) -> io::Result<()> {
        if on != self.watching {
            let fd = self.shared.channels[self.seat].wait_fd();
            if on {
                self.set.add(fd, LISTENER, Watch::Listen(Trigger::Level))?;
            } else {
                self.set.delete(fd, LISTENER)?;
            }
            self.watching = on;
        }
        Ok(())
    }

    fn take(&mut self) -> io::Result<Option<TcpStream>> {
        let got = self.rx.ready()?;
        if got.is_some() {
            self.shared.took(self.seat)?;
        }
        Ok(got)
    }
}

fn watch_of(i: Interest) -> Watch {
    match i {
        Interest::Read => Watch::Read,
        Interest::Write => Watch::Write,
    }
}

impl EventAcceptor for HandoffLoop<'_> {
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
        let accepting = load.accepting && !self.stopped;
        self.set_watching(accepting)?;
        // Thread mode: connections counted at an earlier wakeup and left at the limit are
        // taken now, without waiting for an eventfd that has been read.
        let left = accepting && self.rx.has_credits();
        if left {
            timeout_ms = 0;
        }
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
            self.tries = 0;
            return Ok(left);
        };
        ready.swap_remove(i);
        if !self.watching {
            return Ok(false);
        }
        Slot::bump(&slot.wakeups, 1);
        self.tries = 0;
        self.rx.arm();
        Ok(true)
    }

    fn accept(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.tries += 1;
        let got = self.take()?;
        if got.is_none() && self.tries == 1 {
            Slot::bump(&slot.spurious, 1);
        }
        Ok(got)
    }

    fn per_wakeup(&self) -> PerWakeup {
        PerWakeup::UntilEagain
    }

    fn turn_done(&mut self, _: &Slot, _: usize, _: Load) -> io::Result<()> {
        Ok(())
    }

    /// Stop taking connections; those already sent to this seat are served.
    fn stop(&mut self, _: &Slot) -> io::Result<Vec<TcpStream>> {
        self.stopped = true;
        self.set_watching(false)?;
        let mut out = Vec::new();
        while let Some(c) = self.shared.channels[self.seat].take_now()? {
            self.shared.took(self.seat)?;
            out.push(c);
        }
        Ok(out)
    }

    fn closed(&mut self) {
        self.shared.closed(self.seat);
    }
}
