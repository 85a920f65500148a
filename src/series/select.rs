//! select(2) collection: every call passes the whole read set (a bit per descriptor up to
//! the highest open one), the kernel checks each, and the master tests each bit on return:
//! O(highest fd) work per wakeup on both sides, however few pipes are ready.
//!
//! FD_SETSIZE: glibc's `fd_set` holds descriptors below 1024 and `FD_SET` beyond it is
//! undefined behaviour; with 1024 workers the pipes go past it. herd uses its own growable
//! bit set and the pselect6 system call (`sys::select`), which the kernel bounds only by the
//! descriptor limit, so select works at any worker count and no bit is ever written out of
//! bounds.
use super::collect::{Collector, Counters};
use crate::sys::select::{select_read, FdBits};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Default)]
pub struct SelectCollector {
    /// fd → slot, ordered so the highest descriptor is the last key.
    watched: BTreeMap<RawFd, usize>,
    set: FdBits,
}

impl Collector for SelectCollector {
    fn add(&mut self, slot: usize, fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        self.watched.insert(fd, slot);
        Ok(())
    }

    fn remove(&mut self, _slot: usize, fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        self.watched.remove(&fd);
        Ok(())
    }

    fn wait(
        &mut self,
        ready: &mut Vec<usize>,
        timeout: Duration,
        c: &mut Counters,
    ) -> io::Result<()> {
        let Some((&max_fd, _)) = self.watched.last_key_value() else {
            return Ok(());
        };
        // select overwrites the set, so it is rebuilt before every call.
        self.set.reset(max_fd);
        for &fd in self.watched.keys() {
            self.set.insert(fd)?;
        }
        c.waits += 1;
        let n = select_read(&mut self.set, max_fd + 1, timeout)?;
        c.woke(n);
        if n > 0 {
            ready.extend(
                self.watched
                    .iter()
                    .filter(|(&fd, _)| self.set.contains(fd))
                    .map(|(_, &slot)| slot),
            );
        }
        Ok(())
    }
}
