//! The event loop's timers: each connection's idle deadline (`--read-timeout`) and each
//! delayed response (`--sleep-us`), in one min-heap. Entries are not removed when a connection
//! moves its deadline or closes: the loop checks each entry against its connection when it
//! fires (by `gen`, and by the connection's current deadline), so activity costs no heap
//! operation; an idle-deadline entry that fires early is pushed again at the new deadline.
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    /// Check the connection's idle deadline.
    Idle,
    /// Its delayed response is due.
    Delay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Timer {
    pub at: u64,
    pub token: u32,
    pub gen: u32,
    pub kind: Kind,
}

#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
}

impl Timers {
    pub fn push(&mut self, t: Timer) {
        self.heap.push(Reverse(t));
    }

    /// The earliest timer, if it is due at `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<Timer> {
        match self.heap.peek() {
            Some(Reverse(t)) if t.at <= now => self.heap.pop().map(|Reverse(t)| t),
            _ => None,
        }
    }

    /// How long the loop may wait, in whole milliseconds rounded up (epoll_wait's unit), for
    /// the earliest timer; -1 without timers.
    pub fn wait_ms(&self, now: u64) -> i32 {
        match self.heap.peek() {
            Some(Reverse(t)) => {
                t.at.saturating_sub(now)
                    .div_ceil(1_000_000)
                    .min(i32::MAX as u64) as i32
            }
            None => -1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_waits_round_up() {
        let mut t = Timers::default();
        assert_eq!(t.wait_ms(0), -1);
        for (at, token) in [(5_000_001, 1), (2_000_000, 2), (9_000_000, 3)] {
            t.push(Timer {
                at,
                token,
                gen: 0,
                kind: Kind::Idle,
            });
        }
        assert_eq!(t.wait_ms(0), 2);
        assert_eq!(t.pop_due(1_999_999), None);
        assert_eq!(t.pop_due(2_000_000).map(|x| x.token), Some(2));
        assert_eq!(t.wait_ms(2_000_000), 4, "3.000001 ms rounds up");
        assert_eq!(t.pop_due(10_000_000).map(|x| x.token), Some(1));
        assert_eq!(t.pop_due(10_000_000).map(|x| x.token), Some(3));
        assert_eq!(t.pop_due(10_000_000), None);
    }
}
