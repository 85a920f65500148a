//! The scoreboard: one cache-line-aligned slot per worker in one shared mapping made before
//! fork. Each slot has exactly one writer (its worker), so a counter update is a relaxed load
//! and store, not a locked read-modify-write; the master and snapshots only read.
//!
//! The mapping holds [`MAX_WORKERS`] slots (256 KiB) from the start, so the master can add
//! workers (SIGTTIN), start a new generation beside the old one (SIGHUP) or restart a dead
//! worker without remapping. Which slots are in use is the master's own record (`active`, in
//! its private memory, like the `restarts` counts): only the master takes snapshots.
use crate::sys::atomic_lock::LockWord;
use crate::sys::shm::SharedArray;
use std::io;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};

/// The most workers a server may have: the scoreboard's capacity in slots.
pub const MAX_WORKERS: usize = 1024;

/// One worker's counters. 128-byte aligned so that no two workers' slots share a cache line
/// (nor the adjacent line the prefetcher pulls in with it).
#[repr(C, align(128))]
#[derive(Default, bytemuck::Zeroable)]
pub struct Slot {
    /// Process id of the worker (0: slot not started yet).
    pub pid: AtomicU64,
    /// Kernel thread id of the worker; equals `pid` in process mode.
    pub tid: AtomicU64,
    /// Incremented each time a worker (re)starts in this slot.
    pub generation: AtomicU64,
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Returns from the call the worker blocks in (accept, epoll_wait, the lock), whether or not
    /// a connection followed.
    pub wakeups: AtomicU64,
    /// Wakeups after which the worker got no connection.
    pub spurious: AtomicU64,
    /// accept() calls that failed with EAGAIN.
    pub eagain: AtomicU64,
    /// Accept lock acquisitions.
    pub lock_acquires: AtomicU64,
    /// Nanoseconds spent waiting for the accept lock.
    pub lock_wait_ns: AtomicU64,
    /// Acquisitions that recovered a lock whose holder died (EOWNERDEAD and kin).
    pub lock_recovered: AtomicU64,
    /// accept() failures for lack of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM).
    pub err_no_fds: AtomicU64,
    /// accept() returned ECONNABORTED.
    pub err_connaborted: AtomicU64,
    /// Any other accept() failure.
    pub err_other: AtomicU64,
    /// Accepted connections that failed while being served (reset, timeout, write error).
    pub conn_errors: AtomicU64,
    /// Requests answered with 400 (malformed or oversized).
    pub bad_requests: AtomicU64,
    /// Nanoseconds spent serving accepted connections (accept return to close); in the event
    /// model, the loop's time outside its wait.
    pub busy_ns: AtomicU64,
    /// Requests answered with `200`.
    pub requests: AtomicU64,
    /// Connections open in this worker now (sync model: 0 or 1). Written with the four
    /// fields below through [`Slot::set_open`], read through [`Slot::read_open`].
    pub open: AtomicU64,
    /// CLOCK_MONOTONIC when `open` last changed.
    pub open_since_ns: AtomicU64,
    /// The integral of `open` over time up to `open_since_ns` (connection-nanoseconds): the
    /// mean number open over an interval is its difference over the interval's length.
    pub open_ns: AtomicU64,
    /// The most connections open at once during snapshot epoch `open_max_epoch`.
    pub open_max: AtomicU64,
    pub open_max_epoch: AtomicU64,
    /// Sequence count of the five fields above (odd while the worker writes them), so that a
    /// reader gets a consistent set.
    pub open_seq: AtomicU64,
    /// A hand-off acceptor's slot: connections handed to a worker (`accepted` counts those it
    /// took from the kernel).
    pub handoffs: AtomicU64,
}

/// A consistent reading of a slot's open connections (see [`Slot::read_open`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenReading {
    pub open: u64,
    /// The integral of `open` up to the reading's time.
    pub open_ns: u64,
    /// The most open at once in the epoch asked for (since the previous snapshot).
    pub open_max: u64,
}

impl Slot {
    /// Add `n` to a counter of this slot. Only the slot's own worker may call this.
    #[inline]
    pub fn bump(counter: &AtomicU64, n: u64) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    pub fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The worker's open connections changed to `open` at `now_ns`, in snapshot epoch `epoch`
    /// ([`Scoreboard::epoch`]). Only the slot's own worker may call this. The high-water mark
    /// starts again in each epoch from the number open when the epoch began, so a snapshot
    /// reads the most open since the previous snapshot without writing the slot itself.
    pub fn set_open(&self, open: u64, now_ns: u64, epoch: u64) {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let w = |c: &AtomicU64, v: u64| c.store(v, Ordering::Relaxed);
        let seq = r(&self.open_seq);
        w(&self.open_seq, seq.wrapping_add(1));
        fence(Ordering::Release);
        let prev = r(&self.open);
        let held = prev.saturating_mul(now_ns.saturating_sub(r(&self.open_since_ns)));
        w(&self.open_ns, r(&self.open_ns).wrapping_add(held));
        w(&self.open_since_ns, now_ns);
        w(&self.open, open);
        if r(&self.open_max_epoch) != epoch {
            w(&self.open_max_epoch, epoch);
            w(&self.open_max, prev.max(open));
        } else if open > r(&self.open_max) {
            w(&self.open_max, open);
        }
        self.open_seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The open connections at `now_ns`, their integral up to then, and the most open at once
    /// in `epoch`, as one consistent set (retrying while the worker writes them).
    pub fn read_open(&self, now_ns: u64, epoch: u64) -> OpenReading {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut last = (0, 0, 0, 0, 0);
        for _ in 0..10_000 {
            let s1 = self.open_seq.load(Ordering::Acquire);
            last = (
                r(&self.open),
                r(&self.open_since_ns),
                r(&self.open_ns),
                r(&self.open_max),
                r(&self.open_max_epoch),
            );
            fence(Ordering::Acquire);
            if s1 % 2 == 0 && self.open_seq.load(Ordering::Relaxed) == s1 {
                break;
            }
            std::hint::spin_loop();
        }
        let (open, since, integral, max, max_epoch) = last;
        OpenReading {
            open,
            open_ns: integral.wrapping_add(open.saturating_mul(now_ns.saturating_sub(since))),
            open_max: if max_epoch == epoch {
                max.max(open)
            } else {
                open
            },
        }
    }

    /// Zero every counter and record the new occupant.
    pub fn claim(&self, pid: u32, tid: i32) {
        for c in [
            &self.accepted,
            &self.wakeups,
            &self.spurious,
            &self.eagain,
            &self.lock_acquires,
            &self.lock_wait_ns,
            &self.lock_recovered,
            &self.err_no_fds,
            &self.err_connaborted,
            &self.err_other,
            &self.conn_errors,
            &self.bad_requests,
            &self.busy_ns,
            &self.requests,
            &self.open,
            &self.open_ns,
            &self.open_max,
            &self.handoffs,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.open_since_ns
            .store(crate::sys::clock::monotonic_ns(), Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.tid.store(tid as u64, Ordering::Relaxed);
        self.pid.store(pid as u64, Ordering::Release);
    }
}

/// All workers' slots.
pub struct Scoreboard {
    slots: SharedArray<Slot>,
    /// Slots that belong to a serving worker (or one waiting to be restarted).
    active: Vec<AtomicBool>,
    /// Times a worker of this slot died unexpectedly and was restarted.
    restarts: Vec<AtomicU64>,
    /// The snapshot epoch, shared with the workers: [`crate::metrics::Snapshot::take`] moves
    /// it on after reading, which starts every slot's high-water mark of open connections
    /// again (see [`Slot::set_open`]).
    epoch: SharedArray<LockWord>,
}

impl Scoreboard {
    /// Map room for `workers.max(MAX_WORKERS)` zeroed slots, the first `workers` active. Call
    /// before fork.
    pub fn new(workers: usize) -> io::Result<Self> {
        let cap = workers.max(MAX_WORKERS);
        Ok(Scoreboard {
            slots: SharedArray::new(cap)?,
            active: (0..cap).map(|i| AtomicBool::new(i < workers)).collect(),
            restarts: (0..cap).map(|_| AtomicU64::new(0)).collect(),
            epoch: SharedArray::new(1)?,
        })
    }

    /// The snapshot epoch (workers read it; snapshots move it on).
    pub fn epoch(&self) -> &AtomicU64 {
        &self.epoch[0].0
    }

    pub fn is_active(&self, slot: usize) -> bool {
        self.active
            .get(slot)
            .is_some_and(|a| a.load(Ordering::Relaxed))
    }

    /// Mark `slot` in use or free (master only).
    pub fn set_active(&self, slot: usize, on: bool) {
        if let Some(a) = self.active.get(slot) {
            a.store(on, Ordering::Relaxed);
        }
    }

    /// Indices of the slots in use, ascending.
    pub fn active_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.active.len()).filter(|&i| self.is_active(i))
    }

    /// Count a restart of `slot`'s worker (master only).
    pub fn count_restart(&self, slot: usize) {
        if let Some(r) = self.restarts.get(slot) {
            r.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn restarts(&self, slot: usize) -> u64 {
        self.restarts
            .get(slot)
            .map_or(0, |r| r.load(Ordering::Relaxed))
    }

    /// Forget the dead occupant of `slot` (master only, after reaping it): pid 0 until a new
    /// worker claims the slot.
    pub fn clear_pid(&self, slot: usize) {
        if let Some(s) = self.slots.get(slot) {
            s.pid.store(0, Ordering::Release);
            s.tid.store(0, Ordering::Relaxed);
        }
    }

    pub fn slot(&self, worker: usize) -> &Slot {
        &self.slots[worker]
    }

    /// Every slot, in use or not (the whole capacity).
    pub fn slots(&self) -> &[Slot] {
        self.slots.as_slice()
    }

    /// The capacity in slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_allocated_up_front_and_only_active_slots_are_listed() {
        let b = Scoreboard::new(3).unwrap();
        assert_eq!(b.len(), MAX_WORKERS);
        assert_eq!(std::mem::size_of::<Slot>() * b.len(), 256 * 1024);
        assert_eq!(b.active_slots().collect::<Vec<_>>(), vec![0, 1, 2]);
        b.set_active(1, false);
        b.set_active(7, true);
        b.count_restart(7);
        assert_eq!(b.active_slots().collect::<Vec<_>>(), vec![0, 2, 7]);
        assert_eq!((b.restarts(7), b.restarts(0)), (1, 0));
    }

    #[test]
    fn open_connections_integrate_over_time_and_peak_per_epoch() {
        let b = Scoreboard::new(1).unwrap();
        let s = b.slot(0);
        s.claim(1, 1);
        let t0 = Slot::read(&s.open_since_ns);
        s.set_open(2, t0 + 1_000, 0);
        s.set_open(5, t0 + 2_000, 0);
        s.set_open(1, t0 + 4_000, 0);
        let r = s.read_open(t0 + 5_000, 0);
        // 0 for 1 us, 2 for 1 us, 5 for 2 us, 1 for 1 us.
        assert_eq!(r.open, 1);
        assert_eq!(r.open_ns, 2 * 1_000 + 5 * 2_000 + 1_000);
        assert_eq!(r.open_max, 5);
        // A new epoch starts from the number open then, not from the old peak.
        assert_eq!(s.read_open(t0 + 5_000, 1).open_max, 1);
        s.set_open(3, t0 + 6_000, 1);
        s.set_open(2, t0 + 7_000, 1);
        assert_eq!(s.read_open(t0 + 8_000, 1).open_max, 3);
    }
}
