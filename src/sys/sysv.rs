//! A SysV semaphore used as a binary lock across processes (svipc(7), semop(2)).
//!
//! Every operation carries SEM_UNDO, so the kernel gives the semaphore back when a holder dies.
//! The set is created private (IPC_PRIVATE) and removed with IPC_RMID when the owning
//! [`SysvSem`] is dropped in the process that created it, also on error paths.
use std::io;

pub struct SysvSem {
    id: libc::c_int,
    creator: libc::pid_t,
}

impl SysvSem {
    /// Create a private set of one semaphore with value 1 (unlocked).
    pub fn new() -> io::Result<Self> {
        let id = syscall!(semget(libc::IPC_PRIVATE, 1, libc::IPC_CREAT | 0o600))?;
        let sem = SysvSem {
            id,
            creator: std::process::id() as libc::pid_t,
        };
        // SAFETY: SETVAL takes an int as its fourth, variadic argument.
        syscall!(semctl(id, 0, libc::SETVAL, 1 as libc::c_int))?;
        Ok(sem)
    }

    fn op(&self, delta: libc::c_short, flags: libc::c_short) -> io::Result<()> {
        let mut buf = libc::sembuf {
            sem_num: 0,
            sem_op: delta,
            sem_flg: flags,
        };
        // SAFETY: `buf` is one valid sembuf and we pass nsops = 1.
        syscall!(semop(self.id, &mut buf, 1))?;
        Ok(())
    }

    /// Block until the semaphore is ours. Fails with `Interrupted` when a signal arrives.
    pub fn lock(&self) -> io::Result<()> {
        self.op(-1, libc::SEM_UNDO as libc::c_short)
    }

    pub fn unlock(&self) -> io::Result<()> {
        self.op(1, libc::SEM_UNDO as libc::c_short)
    }
}

impl Drop for SysvSem {
    fn drop(&mut self) {
        // Only the creating process removes the set; forked workers that drop their copy leave
        // it alone.
        if std::process::id() as libc::pid_t == self.creator {
            let _ = syscall!(semctl(self.id, 0, libc::IPC_RMID));
        }
    }
}
