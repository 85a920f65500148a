//! A process-shared, robust pthread mutex in shared memory (pthread_mutexattr_setpshared(3),
//! pthread_mutexattr_setrobust(3)).
//!
//! When a holder dies, the next locker gets EOWNERDEAD; [`PsharedMutex::lock`] then calls
//! pthread_mutex_consistent(3) and reports the recovery, so a dead worker never wedges the
//! server.
use super::shm::SharedArray;
use bytemuck::Zeroable;
use std::cell::UnsafeCell;
use std::io;

#[repr(C, align(128))]
pub struct RawMutex(UnsafeCell<libc::pthread_mutex_t>);

// SAFETY: all-zero bytes are a valid (if uninitialised) pthread_mutex_t storage; it is only used
// after pthread_mutex_init below, and the pthread functions synchronise access themselves.
unsafe impl Zeroable for RawMutex {}
// SAFETY: pthread mutexes are designed to be used from many threads and, with PSHARED, processes.
unsafe impl Sync for RawMutex {}

/// How a lock was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// The usual case.
    Clean,
    /// The previous holder died holding it; the mutex was made consistent again.
    RecoveredFromDeadOwner,
}

pub struct PsharedMutex {
    mem: SharedArray<RawMutex>,
}

impl PsharedMutex {
    /// Create the mutex in a fresh shared mapping. `robust` selects PTHREAD_MUTEX_ROBUST.
    pub fn new(robust: bool) -> io::Result<Self> {
        let mem = SharedArray::<RawMutex>::new(1)?;
        let m = mem[0].0.get();
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before use and destroyed after;
        // `m` points into our zeroed shared mapping, valid for the mapping's lifetime, and is
        // initialised exactly once here before any process can lock it.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            check(libc::pthread_mutexattr_init(&mut attr))?;
            check(libc::pthread_mutexattr_setpshared(
                &mut attr,
                libc::PTHREAD_PROCESS_SHARED,
            ))?;
            if robust {
                check(libc::pthread_mutexattr_setrobust(
                    &mut attr,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))?;
            }
            let r = check(libc::pthread_mutex_init(m, &attr));
            libc::pthread_mutexattr_destroy(&mut attr);
            r?;
        }
        Ok(PsharedMutex { mem })
    }

    fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.mem[0].0.get()
    }

    /// Block until the mutex is ours (not interruptible by signals, as POSIX specifies).
    pub fn lock(&self) -> io::Result<Locked> {
        // SAFETY: the mutex was initialised in `new` and lives in a mapping we keep alive.
        let r = unsafe { libc::pthread_mutex_lock(self.raw()) };
        self.after_lock(r)
    }

    fn after_lock(&self, r: libc::c_int) -> io::Result<Locked> {
        match r {
            0 => Ok(Locked::Clean),
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD means the lock was acquired).
                check(unsafe { libc::pthread_mutex_consistent(self.raw()) })?;
                Ok(Locked::RecoveredFromDeadOwner)
            }
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    pub fn unlock(&self) -> io::Result<()> {
        // SAFETY: as in `lock`; unlocking a mutex we do not hold returns EPERM for robust
        // mutexes, which we report.
        check(unsafe { libc::pthread_mutex_unlock(self.raw()) })
    }
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}
