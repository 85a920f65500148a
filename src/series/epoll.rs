//! epoll(7) collection: each pipe is registered once (epoll_ctl ADD, level-triggered, the slot
//! as the token) and epoll_wait returns only the ready ones, up to a buffer's worth per call:
//! O(ready) per wakeup, at the price of one epoll_ctl per pipe to add and one to remove.
//!
//! The explicit EPOLL_CTL_DEL before a pipe is closed matters: epoll watches the open file
//! description, not the descriptor number, and a worker forked later may briefly hold a copy
//! of the read end (until it closes what it inherited), so close alone would not unregister it.
use super::collect::{Collector, Counters};
use crate::sys::epoll::{event_buffer, Epoll, Trigger};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// The most events one epoll_wait returns.
const MAX_EVENTS: usize = 1024;

pub struct EpollCollector {
    ep: Epoll,
    events: Vec<libc::epoll_event>,
    watched: usize,
}

impl EpollCollector {
    pub fn new(slots: usize) -> io::Result<Self> {
        Ok(EpollCollector {
            ep: Epoll::new()?,
            events: event_buffer(slots.clamp(1, MAX_EVENTS)),
            watched: 0,
        })
    }
}

impl Collector for EpollCollector {
    fn add(&mut self, slot: usize, fd: RawFd, c: &mut Counters) -> io::Result<()> {
        c.ctls += 1;
        self.ep.add(fd, slot as u64, Trigger::Level)?;
        self.watched += 1;
        Ok(())
    }

    fn remove(&mut self, _slot: usize, fd: RawFd, c: &mut Counters) -> io::Result<()> {
        c.ctls += 1;
        self.ep.delete(fd)?;
        self.watched -= 1;
        Ok(())
    }

    fn wait(
        &mut self,
        ready: &mut Vec<usize>,
        timeout: Duration,
        c: &mut Counters,
    ) -> io::Result<()> {
        if self.watched == 0 {
            return Ok(());
        }
        c.waits += 1;
        let n = self
            .ep
            .wait(&mut self.events, super::collect::timeout_ms(timeout))?;
        c.woke(n);
        if n > 0 {
            ready.extend(self.events[..n].iter().map(|e| e.u64 as usize));
        }
        Ok(())
    }
}
