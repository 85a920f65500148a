//! The scoreboard: one cache-line-aligned slot per worker in one shared mapping made before
//! fork. Each slot has exactly one writer (its worker), so a counter update is a relaxed load
//! and store, not a locked read-modify-write; the master and snapshots only read.
use crate::sys::shm::SharedArray;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// One worker's counters. 128-byte aligned so that no two workers' slots share a cache line
/// (nor the adjacent line the prefetcher pulls in with it).
#[repr(C, align(128))]
#[derive(Default)]
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
}

impl Scoreboard {
    /// Map `workers` zeroed slots. Call before fork.
    pub fn new(workers: usize) -> io::Result<Self> {
        Ok(Scoreboard {
            slots: SharedArray::new(workers)?,
        })
    }

    pub fn slot(&self, worker: usize) -> &Slot {
        &self.slots[worker]
    }

    pub fn slots(&self) -> &[Slot] {
        self.slots.as_slice()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}
