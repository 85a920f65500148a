//! One io_uring per worker with a multishot accept (IORING_ACCEPT_MULTISHOT, Linux 5.19) armed on
//! a listening socket: one submission, then one completion per accepted connection until the
//! kernel ends the request (a completion without IORING_CQE_F_MORE), when it is armed again.
//! Built on the `io-uring` crate; this file holds the unsafe calls it leaves to its user.
use io_uring::{cqueue, opcode, types, IoUring};
use std::io;
use std::marker::PhantomData;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

/// Entries of the submission queue; the completion queue gets twice as many. Completions that
/// do not fit are kept by the kernel (IORING_FEAT_NODROP) or end the multishot request, which
/// is then re-armed.
const ENTRIES: u32 = 64;
/// user_data of the multishot accept's completions.
const ACCEPT: u64 = 0;
/// user_data of the cancellation's completion.
const CANCEL: u64 = 1;
/// How long [`AcceptRing::drain`] waits for the kernel to end the multishot accept.
const CANCEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct AcceptRing<'a> {
    ring: IoUring,
    listener: RawFd,
    armed: bool,
    _listener: PhantomData<&'a TcpListener>,
}

impl<'a> AcceptRing<'a> {
    pub fn new(listener: &'a TcpListener) -> io::Result<Self> {
        Ok(AcceptRing {
            ring: IoUring::new(ENTRIES)?,
            listener: listener.as_raw_fd(),
            armed: false,
            _listener: PhantomData,
        })
    }

    fn arm(&mut self) -> io::Result<()> {
        let sqe = opcode::AcceptMulti::new(types::Fd(self.listener))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(ACCEPT);
        // SAFETY: a multishot accept without a peer-address buffer references no user memory;
        // the listener outlives the ring (the `'a` borrow).
        unsafe { self.ring.submission().push(&sqe) }
            .map_err(|_| io::Error::other("io_uring submission queue full"))?;
        self.armed = true;
        Ok(())
    }

    /// Arm the accept if needed, submit, and block until at least one completion is there.
    /// Fails with `Interrupted` when a signal arrives.
    pub fn wait(&mut self) -> io::Result<()> {
        if !self.armed {
            self.arm()?;
        }
        self.ring.submit_and_wait(1)?;
        Ok(())
    }

    /// The next accept completion, if any: an accepted connection or the accept's error.
    pub fn next_completion(&mut self) -> Option<io::Result<TcpStream>> {
        loop {
            let cqe = self.ring.completion().next()?;
            if cqe.user_data() != ACCEPT {
                continue; // the cancellation's own completion
            }
            if !cqueue::more(cqe.flags()) {
                self.armed = false;
            }
            let res = cqe.result();
            return Some(if res < 0 {
                Err(io::Error::from_raw_os_error(-res))
            } else {
                // SAFETY: a successful accept completion carries a new descriptor that nothing
                // else owns.
                Ok(unsafe { TcpStream::from_raw_fd(res) })
            });
        }
    }

    /// Cancel the multishot accept and return every connection it accepted that has not been
    /// taken yet: a stopping worker serves them instead of closing them unserved. Waits (at most
    /// [`CANCEL_TIMEOUT`]) for the kernel's final accept completion, which says that no more
    /// connections will arrive on this ring.
    pub fn drain(&mut self) -> io::Result<Vec<TcpStream>> {
        let mut out = Vec::new();
        if self.armed {
            let sqe = opcode::AsyncCancel::new(ACCEPT).build().user_data(CANCEL);
            // SAFETY: a cancellation references no user memory.
            unsafe { self.ring.submission().push(&sqe) }
                .map_err(|_| io::Error::other("io_uring submission queue full"))?;
            let deadline = std::time::Instant::now() + CANCEL_TIMEOUT;
            while self.armed && std::time::Instant::now() < deadline {
                match self.ring.submit_and_wait(1) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                while let Some(c) = self.next_completion() {
                    out.extend(c.ok());
                }
            }
        }
        while let Some(c) = self.next_completion() {
            out.extend(c.ok());
        }
        Ok(out)
    }
}

impl Drop for AcceptRing<'_> {
    fn drop(&mut self) {
        // Close connections the kernel accepted for us that were never taken.
        while self.next_completion().is_some() {}
    }
}

/// Whether this kernel lets us set up a ring, and the reason when not.
pub fn ring_available() -> Result<(), String> {
    match std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled") {
        Ok(s) if s.trim() == "2" => {
            return Err("io_uring is disabled (kernel.io_uring_disabled = 2)".into())
        }
        _ => {}
    }
    IoUring::new(2)
        .map(drop)
        .map_err(|e| format!("io_uring_setup failed: {e}"))
}
