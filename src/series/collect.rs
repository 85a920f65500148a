//! How the master learns which worker's pipe to read: the [`Collector`] trait, one
//! implementation per file (`sequential.rs`, `select.rs`, `poll.rs`, `epoll.rs`), selected by
//! [`CollectKind`], and the master's own system-call counters.
use super::sequential::Sequential;
use super::{epoll::EpollCollector, poll::PollCollector, select::SelectCollector};
use serde::Serialize;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectKind {
    /// Blocking read(2) of each pipe in turn (index order; round-robin in a pool).
    Sequential,
    /// select(2) over every open pipe, then read the ready ones.
    Select,
    /// poll(2) over every open pipe, then read the ready ones.
    Poll,
    /// One epoll instance; pipes registered once, epoll_wait(2) returns only ready ones.
    Epoll,
}

impl CollectKind {
    pub const ALL: [CollectKind; 4] = [
        CollectKind::Sequential,
        CollectKind::Select,
        CollectKind::Poll,
        CollectKind::Epoll,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CollectKind::Sequential => "sequential",
            CollectKind::Select => "select",
            CollectKind::Poll => "poll",
            CollectKind::Epoll => "epoll",
        }
    }

    pub fn build(self, slots: usize) -> io::Result<Box<dyn Collector>> {
        Ok(match self {
            CollectKind::Sequential => Box::new(Sequential::default()),
            CollectKind::Select => Box::new(SelectCollector::default()),
            CollectKind::Poll => Box::new(PollCollector::default()),
            CollectKind::Epoll => Box::new(EpollCollector::new(slots)?),
        })
    }
}

impl std::fmt::Display for CollectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The master's system calls and wakeups during collection, counted by the master itself.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counters {
    /// Calls of the readiness primitive (select, poll, epoll_wait); 0 for sequential.
    pub waits: u64,
    /// Returns of the call the master blocks in (the readiness primitive, or for sequential the
    /// blocking read) with something to do.
    pub wakeups: u64,
    /// Ready descriptors reported by the readiness calls, summed.
    pub ready_events: u64,
    /// read(2) calls on result pipes.
    pub reads: u64,
    /// Reads that found nothing (EAGAIN) after a readiness report.
    pub empty_reads: u64,
    /// write(2) calls on task pipes (pool mode).
    pub writes: u64,
    /// epoll_ctl(2) calls.
    pub ctls: u64,
    /// close(2) calls on pipes during collection.
    pub closes: u64,
}

impl Counters {
    /// Count what one readiness call reported: a wakeup when `ready` descriptors are ready.
    /// (The call itself is counted in `waits` before it is made, so a failed call counts too.)
    pub fn woke(&mut self, ready: usize) {
        if ready > 0 {
            self.wakeups += 1;
            self.ready_events += ready as u64;
        }
    }

    /// System calls the master made while collecting.
    pub fn syscalls(&self) -> u64 {
        self.waits + self.reads + self.writes + self.ctls + self.closes
    }
}

/// A way of waiting for result pipes. Slots are worker numbers; `fd` is the master's read end.
pub trait Collector {
    fn add(&mut self, slot: usize, fd: RawFd, c: &mut Counters) -> io::Result<()>;
    /// Stop watching `slot` (before its descriptor is closed).
    fn remove(&mut self, slot: usize, fd: RawFd, c: &mut Counters) -> io::Result<()>;
    /// Block until at least one watched pipe is readable or `timeout` passes, and push the
    /// ready slots onto `ready` (nothing on timeout). EINTR is returned as an error.
    fn wait(
        &mut self,
        ready: &mut Vec<usize>,
        timeout: Duration,
        c: &mut Counters,
    ) -> io::Result<()>;
    /// Whether the master reads with blocking reads (sequential) instead of after readiness.
    fn blocking_reads(&self) -> bool {
        false
    }
}

/// Milliseconds for poll/epoll_wait, rounded up so a short timeout is not a busy loop.
pub fn timeout_ms(d: Duration) -> i32 {
    let ms = d.as_micros().div_ceil(1000);
    ms.min(i32::MAX as u128) as i32
}
