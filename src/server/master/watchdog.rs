//! `--lock-watchdog LIMIT`: the master kills a worker that sits on the accept lock while
//! connections wait. A frozen holder (SIGSTOP, a debugger, a stuck page fault) is not dead, so
//! the kernel keeps its lock and no other worker accepts: every lock strategy has this hole,
//! and so do nginx's accept_mutex and Apache's AcceptMutex. With the watchdog, once the same
//! worker has held the lock for LIMIT with no lock taken anywhere meanwhile *and* connections
//! queued on the listener, the master sends it SIGKILL; the usual dead-holder recovery then
//! takes over (the kernel drops a SysV, fcntl or flock lock, a robust mutex reports the
//! owner's death, the master posts a POSIX semaphore), and the worker is restarted.
//!
//! A holder waiting in accept() on an idle server holds the lock for as long as nothing
//! arrives: the queue is empty, so it is left alone. The queue is read through sock_diag
//! (as `ss -lnt`), only once a holder has been seen unchanged for LIMIT.
use crate::metrics::{Scoreboard, Slot};
use crate::sys::sock_diag::SockDiag;
use std::time::{Duration, Instant};

pub(super) struct Watchdog {
    limit: Duration,
    port: u16,
    diag: Option<SockDiag>,
    /// The holder last seen, the lock acquisitions counted then, and since when.
    seen: Option<(u64, u64, Instant)>,
}

impl Watchdog {
    pub fn new(limit: Duration, port: u16) -> Self {
        Watchdog {
            limit,
            port,
            diag: None,
            seen: None,
        }
    }

    /// Look at the lock once; the pid to kill, when its holder is stuck.
    pub fn check(&mut self, holder: Option<u64>, board: &Scoreboard) -> Option<u64> {
        let Some(h) = holder.filter(|&h| h != 0) else {
            self.seen = None;
            return None;
        };
        let acquires: u64 = board
            .slots()
            .iter()
            .map(|s| Slot::read(&s.lock_acquires))
            .sum();
        match self.seen {
            Some((sh, sa, since)) if sh == h && sa == acquires => {
                if since.elapsed() < self.limit || self.queued() == 0 {
                    return None;
                }
                self.seen = None;
                eprintln!(
                    "herd serve: lock watchdog: worker pid {h} has held the accept lock for {:?} \
                     while connections wait: killing it (its lock is recovered as a dead \
                     holder's)",
                    since.elapsed()
                );
                Some(h)
            }
            _ => {
                self.seen = Some((h, acquires, Instant::now()));
                None
            }
        }
    }

    /// Connections waiting in the accept queues of the server's port.
    fn queued(&mut self) -> u32 {
        if self.diag.is_none() {
            self.diag = SockDiag::open().ok();
        }
        self.diag
            .as_mut()
            .and_then(|d| d.listeners(self.port).ok())
            .map_or(0, |ls| ls.iter().map(|l| l.queued).sum())
    }
}
