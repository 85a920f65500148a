//! `io-uring`: each worker has its own io_uring with one multishot accept (IORING_OP_ACCEPT with
//! IORING_ACCEPT_MULTISHOT) armed on the shared listening socket; it takes the accepted
//! connections from its completion queue. Needs Linux 5.19 (multishot accept), with io_uring
//! enabled (`kernel.io_uring_disabled` not 2).
//!
//! Mechanism: io_uring first tries the accept without blocking; when the queue is empty it arms
//! an internal poll on the socket's wait queue, which for accept is registered EPOLLEXCLUSIVE
//! (`.poll_exclusive = 1` for IORING_OP_ACCEPT in io_uring/opdef.c). A connection
//! wakes the first such entry, and the kernel accepts on behalf of that ring and posts a
//! completion carrying the new descriptor. The multishot request stays armed, so connections
//! are accepted whether or not the worker is waiting: they queue in its completion queue while
//! it serves. The worker only blocks (io_uring_enter with GETEVENTS) when its queue is empty;
//! a connection taken from a non-empty queue is not a wakeup, so `wakeups_per_accept` can be
//! below 1. Those queued connections are already accepted: a stopping worker (a reload, a
//! graceful stop) cancels its multishot accept and serves what its completion queue holds
//! (`Acceptor::drain`) instead of closing them unserved. liburing offers it as
//! io_uring_prep_multishot_accept();
//! io_uring-based servers use it on one ring per thread or worker.
//!
//! Expected behaviour: no herd (exclusive wakeups, one per batch of connections), and the bias
//! of exclusive wait queues without nginx's rotation: the first ring to arm its poll sits at
//! the front and is woken first, busy or not, since its poll entry stays armed. One worker can
//! collect most connections in its completion queue while the others idle, so expect a high
//! `max_worker_share` and a long accept-delay tail.
//!
//! See io_uring_enter(2), io_uring_prep_multishot_accept(3).
use super::event::Refused;
use super::listen::{self, ListenConfig};
use super::{record_accept, Acceptor, Prepared, Strategy, StrategyOptions};
use crate::metrics::Slot;
use crate::sys::uring::{ring_available, AcceptRing};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

pub struct IoUring;

impl Strategy for IoUring {
    const SUMMARY: &'static str =
        "one io_uring per worker with a multishot accept (Linux 5.19) on the shared socket";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(EVENT_REFUSAL);
    type Shared = Shared;

    /// Linux 5.19 or later, and a ring can be set up.
    fn supported() -> Result<(), String> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut nums = release
            .trim()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u32>().ok());
        let version = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
        if version < (5, 19) {
            return Err(format!(
                "multishot accept needs Linux 5.19 or later (this is {})",
                release.trim()
            ));
        }
        ring_available()
    }

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, false)?,
        })
    }
}

/// Why `io-uring` has no event form (yet).
const EVENT_REFUSAL: &str = "herd's event loop waits for readiness (epoll, poll, select); a \
     completion loop with the multishot accept, reads and writes all on the ring is not built \
     yet, so io-uring runs in the sync model only";

pub struct Shared {
    pub listener: TcpListener,
}

impl Prepared for Shared {
    type Acceptor<'a> = UringAcceptor<'a>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    type Events<'a> = Refused;

    fn event_acceptor(&self, _worker: usize) -> io::Result<Refused> {
        Err(Refused::error(EVENT_REFUSAL))
    }

    fn acceptor(&self, _worker: usize) -> io::Result<UringAcceptor<'_>> {
        Ok(UringAcceptor {
            ring: AcceptRing::new(&self.listener)?,
        })
    }
}

pub struct UringAcceptor<'a> {
    ring: AcceptRing<'a>,
}

impl Acceptor for UringAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        if let Some(c) = self.ring.next_completion() {
            return Ok(record_accept(slot, c));
        }
        match self.ring.wait() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
            Ok(()) => {
                Slot::bump(&slot.wakeups, 1);
                let got = self
                    .ring
                    .next_completion()
                    .and_then(|c| record_accept(slot, c));
                if got.is_none() {
                    Slot::bump(&slot.spurious, 1);
                }
                Ok(got)
            }
        }
    }

    fn drain(&mut self, _slot: &Slot) -> io::Result<Vec<TcpStream>> {
        self.ring.drain()
    }
}
