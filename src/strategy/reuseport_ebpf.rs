//! `reuseport-ebpf`: `reuseport` (one SO_REUSEPORT socket per worker) with an eBPF program
//! (BPF_PROG_TYPE_SK_REUSEPORT) attached to the group that picks the socket of each new
//! connection, instead of the kernel's 4-tuple hash.
//!
//! Mechanism: the master binds the sockets, creates a REUSEPORT_SOCKARRAY map holding socket i
//! at index i, loads the program (assembled in Rust, [`crate::sys::bpf_prog`], loaded with
//! bpf(2): no C toolchain, no libbpf) and attaches it (SO_ATTACH_REUSEPORT_EBPF). For each SYN
//! the program calls `bpf_sk_select_reuseport` with the index its policy picks
//! (`--ebpf-policy`):
//!
//! - `rr`: an atomic ticket counter in an array map, modulo the sockets: a strict rotation
//!   (Linux 4.19; exact under concurrent SYNs from 5.12's atomic fetch-add);
//! - `least`: the socket whose worker holds the fewest open connections, from counts the
//!   program and the workers keep in a BPF_F_MMAPABLE array mapped into every worker before
//!   fork (Linux 5.5): the program counts a connection up when it picks its socket (so a
//!   connection queued and not yet accepted counts, as Envoy counts a connection when it
//!   assigns it), the worker down when it closes it, an atomic add to shared memory, no system
//!   call. Among equal counts the first at or after the ticket wins, so ties rotate as `rr`
//!   does. A connection the kernel resets before any worker accepts it (a socket shut down
//!   without migration) stays counted.
//!
//! The master keeps the sockets, the maps and the program for the server's life: a replaced
//! worker takes over its socket, SIGTTIN/SIGTTOU bind or shut one and load a program for the
//! new count (attaching it replaces the old one atomically), and a dead worker's count is set to
//! u32::MAX until its successor starts, so that `least` does not send everything to a socket
//! nobody accepts on. `--reuseport-reload migrate` loads the program as
//! BPF_SK_REUSEPORT_SELECT_OR_MIGRATE (Linux 5.14): a reload binds new sockets, puts them in
//! the map and shuts the old ones down, and the kernel runs the program for each connection
//! queued on a closing socket (`migrating_sk` set) to move it to a new one instead of
//! resetting it, whatever net.ipv4.tcp_migrate_req says. Loading needs root, or CAP_BPF and
//! CAP_NET_ADMIN; `herd strategies` says what this kernel and user allow.
//!
//! Expected behaviour: no herd (one waiter per queue), one wakeup per connection; `rr` spreads
//! connections exactly evenly whatever their 4-tuples; `least` keeps the open connections per
//! worker even with long-lived connections (a burst of SYNs before the first accept is counted
//! as it is placed, so it spreads too). The same busy-worker queueing as
//! `reuseport`: a connection placed on a socket waits for that worker. Users: servers that steer
//! their own SO_REUSEPORT groups (the program type came from Facebook in 4.19, the migration
//! from Amazon in 5.14, both for their servers' restarts and balance); nginx, Envoy and
//! HAProxy ship no such program.
//!
//! See bpf-helpers(7) (bpf_sk_select_reuseport), socket(7) (SO_ATTACH_REUSEPORT_EBPF), and the
//! kernel's tools/testing/selftests/bpf/prog_tests/migrate_reuseport.c.
use super::event::{EpollSet, EventAcceptor, Interest, ListenerLoop, Load};
use super::listen::ListenConfig;
use super::reuseport::{ReuseportAcceptor, Shared as Sockets};
use super::{Acceptor, EbpfPolicy, PerWakeup, Prepared, Strategy, StrategyOptions};
use crate::metrics::Slot;
use crate::sys::bpf_prog::MAX_SOCKETS;
use crate::sys::bpf_selector::{self, Counts, Policy, Selector};
use crate::sys::net::accept_queue_len;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct ReuseportEbpf;

impl Strategy for ReuseportEbpf {
    const SUMMARY: &'static str =
        "reuseport with an eBPF program choosing the socket: --ebpf-policy rr or least open (Linux 4.19 / 5.5)";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("as reuseport, each worker's own socket in its epoll; the program picks the socket; least counts what it placed and the loop has not closed");
    type Shared = Shared;

    fn supported() -> Result<(), String> {
        policy_supported(EbpfPolicy::Rr)
    }

    fn prepare(cfg: &ListenConfig, workers: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        if workers > MAX_SOCKETS as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("reuseport-ebpf handles at most {MAX_SOCKETS} workers, not {workers}"),
            ));
        }
        let sockets = Sockets::new(cfg, workers)?;
        let selector = Selector::new(policy(opts.ebpf_policy), MAX_SOCKETS, opts.ebpf_migrate)?;
        let mut s = Shared {
            sockets,
            selector,
            active: 0,
        };
        s.place(workers)?;
        Ok(s)
    }
}

/// Whether this kernel and user can run `policy`: the reason (the failing step, its errno,
/// kernel, euid, kernel.unprivileged_bpf_disabled) when not.
pub fn policy_supported(p: EbpfPolicy) -> Result<(), String> {
    bpf_selector::supported(policy(p), false)
}

/// Whether `--reuseport-reload migrate` (SELECT_OR_MIGRATE, Linux 5.14) works here.
pub fn migrate_supported() -> Result<(), String> {
    bpf_selector::supported(Policy::RoundRobin, true)
}

fn policy(p: EbpfPolicy) -> Policy {
    match p {
        EbpfPolicy::Rr => Policy::RoundRobin,
        EbpfPolicy::Least => Policy::Least,
    }
}

pub struct Shared {
    sockets: Sockets,
    selector: Selector,
    /// The sockets the program selects among (the seats).
    active: usize,
}

impl Shared {
    /// Put every socket in the map (those not there yet: the map refuses a socket twice) and
    /// select among the first `seats`.
    fn place(&mut self, seats: usize) -> io::Result<()> {
        let seats = seats.clamp(1, MAX_SOCKETS as usize);
        for (i, l) in self
            .sockets
            .listeners
            .iter()
            .enumerate()
            .take(MAX_SOCKETS as usize)
        {
            let cookie = socket2::SockRef::from(l).cookie()?;
            if self.selector.socket_cookie(i as u32).ok() != Some(cookie) {
                self.selector.set_socket(i as u32, l)?;
            }
        }
        if let Some(c) = self.selector.counts() {
            for i in seats..self.active {
                c.retire(i as u32);
            }
            for i in self.active..seats {
                if let Some(s) = c.slot(i as u32) {
                    s.store(0, Ordering::Relaxed);
                }
            }
        }
        self.selector
            .resize(seats as u32, &self.sockets.listeners[0])?;
        self.active = seats;
        Ok(())
    }

    fn count(&self, seat: usize) -> Option<&AtomicU32> {
        self.selector.counts().and_then(|c| c.slot(seat as u32))
    }

    /// Selections the program made (one per new connection, one per migration) and
    /// migrations it saw, for tests and reports.
    pub fn tickets(&self) -> io::Result<(u64, u64)> {
        Ok((self.selector.tickets()?, self.selector.migrations()?))
    }

    /// The `least` counts (None for `rr`).
    pub fn counts(&self) -> Option<&Counts> {
        self.selector.counts()
    }
}

impl Prepared for Shared {
    type Acceptor<'a> = Counted<'a, ReuseportAcceptor<'a>>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sockets.local_addr()
    }

    fn acceptor(&self, worker: usize) -> io::Result<Self::Acceptor<'_>> {
        Ok(Counted {
            inner: self.sockets.acceptor(worker)?,
            count: self.count(worker),
        })
    }

    type Events<'a> = Counted<'a, ListenerLoop<'a, EpollSet>>;

    fn event_acceptor(&self, worker: usize) -> io::Result<Self::Events<'_>> {
        Ok(Counted {
            inner: self.sockets.event_acceptor(worker)?,
            count: self.count(worker),
        })
    }

    fn reuseport_mut(&mut self) -> Option<&mut Sockets> {
        Some(&mut self.sockets)
    }

    fn seats_changed(&mut self, seats: usize) -> io::Result<bool> {
        if seats > MAX_SOCKETS as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("reuseport-ebpf handles at most {MAX_SOCKETS} workers"),
            ));
        }
        self.place(seats)?;
        Ok(false)
    }

    fn seat_down(&self, seat: usize) {
        if let Some(c) = self.selector.counts() {
            c.retire(seat as u32);
        }
    }

    /// A new worker in `seat`: its predecessor's connections died with it; what is queued on
    /// the socket (counted when the program chose it) is the new worker's.
    fn seat_up(&self, seat: usize) {
        let queued = self
            .sockets
            .listeners
            .get(seat)
            .and_then(|l| accept_queue_len(l).ok())
            .unwrap_or(0);
        if let Some(c) = self.count(seat) {
            c.store(queued, Ordering::Relaxed);
        }
    }
}

/// A worker's acceptor that keeps its seat's count for `least` (`count` is `None` for `rr`):
/// the program counted each connection up when it chose the socket; the worker counts it down
/// when it closes it. Saturating, so that a retired seat (u32::MAX) stays out of the choice
/// and a stale count never wraps.
pub struct Counted<'a, A> {
    inner: A,
    count: Option<&'a AtomicU32>,
}

impl<A> Counted<'_, A> {
    /// A connection of this seat closed.
    #[inline]
    fn count_down(&self) {
        if let Some(c) = self.count {
            let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
        }
    }
}

impl<A: Acceptor> Acceptor for Counted<'_, A> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.inner.next(slot)
    }

    fn done(&mut self) {
        self.count_down();
    }
}

impl<E: EventAcceptor> EventAcceptor for Counted<'_, E> {
    fn watch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.inner.watch(fd, token, interest)
    }
    fn rewatch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.inner.rewatch(fd, token, interest)
    }
    fn unwatch(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.inner.unwatch(fd, token)
    }
    fn forget(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.inner.forget(fd, token)
    }
    fn wait(&mut self, slot: &Slot, load: Load, t: i32, ready: &mut Vec<u64>) -> io::Result<bool> {
        self.inner.wait(slot, load, t, ready)
    }
    fn accept(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.inner.accept(slot)
    }
    fn per_wakeup(&self) -> PerWakeup {
        self.inner.per_wakeup()
    }
    fn turn_done(&mut self, slot: &Slot, accepted: usize, load: Load) -> io::Result<()> {
        self.inner.turn_done(slot, accepted, load)
    }
    fn stop(&mut self, slot: &Slot) -> io::Result<Vec<TcpStream>> {
        self.inner.stop(slot)
    }
    fn closed(&mut self) {
        self.count_down();
        self.inner.closed();
    }
}
