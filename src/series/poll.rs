//! poll(2) collection: an array of `pollfd`, one per open pipe, passed whole on every call;
//! the kernel checks each entry and the master scans `revents`. No descriptor-number limit
//! (unlike select), but still O(open pipes) per wakeup. A finished pipe is removed by swapping
//! the last entry into its place, so the array shrinks as results arrive.
use super::collect::{Collector, Counters};
use crate::sys::poll::{poll, readable};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

#[derive(Default)]
pub struct PollCollector {
    fds: Vec<libc::pollfd>,
    /// Slot of each entry of `fds`.
    slots: Vec<usize>,
}

impl Collector for PollCollector {
    fn add(&mut self, slot: usize, fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        self.fds.push(readable(fd));
        self.slots.push(slot);
        Ok(())
    }

    fn remove(&mut self, slot: usize, _fd: RawFd, _c: &mut Counters) -> io::Result<()> {
        if let Some(i) = self.slots.iter().position(|&s| s == slot) {
            self.fds.swap_remove(i);
            self.slots.swap_remove(i);
        }
        Ok(())
    }

    fn wait(
        &mut self,
        ready: &mut Vec<usize>,
        timeout: Duration,
        c: &mut Counters,
    ) -> io::Result<()> {
        if self.fds.is_empty() {
            return Ok(());
        }
        c.waits += 1;
        let n = poll(&mut self.fds, super::collect::timeout_ms(timeout))?;
        c.woke(n);
        if n > 0 {
            ready.extend(
                self.fds
                    .iter()
                    .zip(&self.slots)
                    .filter(|(p, _)| p.revents != 0)
                    .map(|(_, &s)| s),
            );
        }
        Ok(())
    }
}
