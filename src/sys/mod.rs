//! Every piece of `unsafe` in herd lives below this module.
//!
//! Each submodule wraps one kernel facility in a safe type: file descriptors are held in
//! [`OwnedFd`](std::os::fd::OwnedFd) from the moment they exist, and every raw system call goes
//! through [`syscall!`], which turns the C convention (`-1` plus `errno`) into `io::Result`.
#![allow(unsafe_code)]

/// Call a libc function and turn a `-1` return into the thread's `errno` as `io::Error`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: the caller of the macro upholds the contract of the libc function; every use
        // below states it.
        #[allow(unused_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

pub mod affinity;
pub(crate) mod alarm;
pub mod atomic_lock;
pub mod bpf;
pub mod bpf_error;
pub mod bpf_insn;
pub mod bpf_prog;
pub mod bpf_selector;
pub mod clock;
pub(crate) mod epoll;
pub mod fdpass;
pub(crate) mod fds;
pub mod filelock;
pub mod files;
pub mod net;
pub mod pmutex;
pub(crate) mod poll;
pub mod process;
pub mod psem;
pub(crate) mod select;
pub mod shm;
pub(crate) mod signal;
pub(crate) mod sock_diag;
pub mod sysv;
pub(crate) mod uring;
