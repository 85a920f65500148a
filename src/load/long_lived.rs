//! Long-lived connections (`--long-lived INTERVAL`) on one client thread: each slot's ticks
//! ([`Ticks`]) and a min-heap of the resting connections' next ticks, which the thread's loop
//! waits for with its pacing timer.
use super::conn::Conn;
use super::pacing::Ticks;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct LongLived {
    ticks: Vec<Ticks>,
    /// (tick, slot) of every resting connection.
    due: BinaryHeap<Reverse<(u64, usize)>>,
    end_ns: u64,
}

impl LongLived {
    /// For the phase `start_ns..end_ns`, one request every `interval_ns` per connection;
    /// `(thread, threads, conns, concurrency)`: this thread's `conns` slots are the global
    /// slots `thread + i * threads` of `concurrency`, so the threads' slots interleave.
    pub fn new(
        start_ns: u64,
        end_ns: u64,
        interval_ns: u64,
        (thread, threads, conns, concurrency): (usize, usize, usize, usize),
    ) -> Self {
        LongLived {
            ticks: (0..conns)
                .map(|i| Ticks::new(start_ns, interval_ns, thread + i * threads, concurrency))
                .collect(),
            due: BinaryHeap::new(),
            end_ns,
        }
    }

    /// The earliest tick a resting connection waits for.
    pub fn next_due(&self) -> Option<u64> {
        self.due.peek().map(|Reverse((t, _))| *t)
    }

    /// Whether a request sent for tick `due` on slot `i` is the phase's last (there is no tick
    /// after it before the end).
    pub fn is_last(&self, i: usize, due: u64) -> bool {
        self.ticks
            .get(i)
            .is_none_or(|t| t.next_after(due) >= self.end_ns)
    }

    /// Connection `conn` of slot `i` has its response: it rests until the slot's next tick.
    pub fn rest(&mut self, i: usize, conn: &mut Conn) {
        if let Some(t) = self.ticks.get(i) {
            let next = t.next_after(conn.t_due);
            conn.next_due = next;
            self.due.push(Reverse((next, i)));
        }
    }

    /// The next (tick, slot) due at `now`, taken off the heap.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, usize)> {
        match self.due.peek() {
            Some(Reverse((t, _))) if *t <= now => self.due.pop().map(|Reverse(x)| x),
            _ => None,
        }
    }
}
