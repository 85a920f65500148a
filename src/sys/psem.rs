//! A process-shared POSIX semaphore (sem_init(3) with pshared = 1) in shared memory, used as a
//! binary lock. The kernel does not give it back when a holder dies: whoever records the holder
//! must post it again ([`PosixSem::unlock`]) after reaping the holder.
use super::shm::SharedArray;
use bytemuck::Zeroable;
use std::cell::UnsafeCell;
use std::io;

#[repr(C, align(128))]
pub struct RawSem(UnsafeCell<libc::sem_t>);

// SAFETY: zeroed storage is only used after sem_init in `PosixSem::new`; sem_* functions
// synchronise access themselves.
unsafe impl Zeroable for RawSem {}
// SAFETY: a pshared semaphore is made to be used concurrently by threads and processes.
unsafe impl Sync for RawSem {}

pub struct PosixSem {
    mem: SharedArray<RawSem>,
}

impl PosixSem {
    /// A process-shared semaphore with value `value` in a fresh shared mapping.
    pub fn new(value: u32) -> io::Result<Self> {
        let mem = SharedArray::<RawSem>::new(1)?;
        // SAFETY: the storage is in our shared mapping, valid and initialised exactly once here.
        if unsafe { libc::sem_init(mem[0].0.get(), 1, value) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(PosixSem { mem })
    }

    fn raw(&self) -> *mut libc::sem_t {
        self.mem[0].0.get()
    }

    /// Block until the semaphore can be decremented; `Interrupted` on a signal.
    pub fn lock(&self) -> io::Result<()> {
        // SAFETY: initialised in `new`, mapping alive as long as self.
        if unsafe { libc::sem_wait(self.raw()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn unlock(&self) -> io::Result<()> {
        // SAFETY: as in `lock`.
        if unsafe { libc::sem_post(self.raw()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
