//! An nginx-style try-lock: one word in shared memory, taken with a compare-and-swap that writes
//! the holder's pid, released by writing 0. Never blocks; the kernel knows nothing of it, so a
//! dead holder's pid stays there until someone who reaped that pid clears it with
//! [`SharedTryLock::release_if_held_by`] (as nginx's master does in ngx_shmtx_force_unlock).
use super::shm::SharedArray;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// One shared word on a cache line of its own; zero is "unlocked".
#[repr(C, align(128))]
#[derive(Default, bytemuck::Zeroable)]
pub struct LockWord(pub AtomicU64);

pub struct SharedTryLock {
    mem: SharedArray<LockWord>,
}

impl SharedTryLock {
    pub fn new() -> io::Result<Self> {
        Ok(SharedTryLock {
            mem: SharedArray::new(1)?,
        })
    }

    fn word(&self) -> &AtomicU64 {
        &self.mem[0].0
    }

    /// Take the lock for `owner` (a non-zero id, usually the pid) if it is free.
    pub fn try_lock(&self, owner: u64) -> bool {
        debug_assert!(owner != 0);
        self.word().load(Ordering::Relaxed) == 0
            && self
                .word()
                .compare_exchange(0, owner, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Release the lock if `owner` holds it; returns whether it did.
    pub fn unlock(&self, owner: u64) -> bool {
        self.word()
            .compare_exchange(owner, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Release a lock left by `dead` (a pid the caller has reaped).
    pub fn release_if_held_by(&self, dead: u64) -> bool {
        self.unlock(dead)
    }

    /// The current holder, 0 if none.
    pub fn holder(&self) -> u64 {
        self.word().load(Ordering::Relaxed)
    }
}
