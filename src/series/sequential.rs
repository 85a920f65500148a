//! Sequential collection: the master reads the pipes one after another with blocking reads,
//! in slot order, wrapping around (a pool's workers each hold one task, so this is
//! round-robin).
//!
//! No readiness call at all: the fewest system calls when every worker answers at the same
//! speed, but the master sits in worker k's read while later workers' results wait, and in a
//! pool an idle worker gets its next task only when its turn comes. The blocking read has no
//! timeout of its own; the master bounds it with an interval timer (`sys::alarm`) that
//! interrupts it with EINTR at the deadline.
use super::collect::{Collector, Counters};
use std::collections::BTreeSet;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Default)]
pub struct Sequential {
    watched: BTreeSet<usize>,
    /// The slot handed out last; the next is the first watched slot after it.
    last: Option<usize>,
}

impl Collector for Sequential {
    fn add(&mut self, slot: usize, _fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        self.watched.insert(slot);
        Ok(())
    }

    fn remove(&mut self, slot: usize, _fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        self.watched.remove(&slot);
        Ok(())
    }

    fn wait(&mut self, ready: &mut Vec<usize>, _: Duration, _: &mut Counters) -> io::Result<()> {
        let next = match self.last {
            Some(l) => self.watched.range(l + 1..).next(),
            None => None,
        }
        .or_else(|| self.watched.iter().next());
        if let Some(&s) = next {
            self.last = Some(s);
            ready.push(s);
        }
        Ok(())
    }

    fn blocking_reads(&self) -> bool {
        true
    }
}
