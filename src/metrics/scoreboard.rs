//! The scoreboard: one cache-line-aligned slot per worker in one shared mapping made before
//! fork. Each slot has exactly one writer (its worker), so a counter update is a relaxed load
//! and store, not a locked read-modify-write; the master and snapshots only read.
//!
//! The mapping holds [`MAX_WORKERS`] slots (128 KiB) from the start, so the master can add
//! workers (SIGTTIN), start a new generation beside the old one (SIGHUP) or restart a dead
//! worker without remapping. Which slots are in use is the master's own record (`active`, in
//! its private memory, like the `restarts` counts): only the master takes snapshots.
use crate::sys::shm::SharedArray;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    /// Nanoseconds spent serving accepted connections (accept return to close).
    pub busy_ns: AtomicU64,
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
        ] {
            c.store(0, Ordering::Relaxed);
        }
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
        })
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
        assert_eq!(std::mem::size_of::<Slot>() * b.len(), 128 * 1024);
        assert_eq!(b.active_slots().collect::<Vec<_>>(), vec![0, 1, 2]);
        b.set_active(1, false);
        b.set_active(7, true);
        b.count_restart(7);
        assert_eq!(b.active_slots().collect::<Vec<_>>(), vec![0, 2, 7]);
        assert_eq!((b.restarts(7), b.restarts(0)), (1, 0));
    }
}
