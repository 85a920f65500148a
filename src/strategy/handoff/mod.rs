//! The hand-off strategies, `handoff-rr`, `handoff-least` and `handoff-p2c`: one acceptor takes
//! every connection from the kernel and passes each to a worker of its choosing, instead of the
//! workers taking them from a shared socket (the herd) or their own (SO_REUSEPORT).
//!
//! Mechanism. The master binds one non-blocking socket and, per seat, a channel ([`channel`]):
//! between processes a SOCK_SEQPACKET Unix socket pair over which the acceptor sends each
//! accepted descriptor (SCM_RIGHTS); between threads a queue and an eventfd. The acceptor is a
//! process of its own (a thread in `--mode thread`) that the master starts beside the workers
//! and restarts when it dies ([`acceptor`]): it waits in epoll for the socket, accepts until
//! EAGAIN (as libuv does for Node), and for each connection asks its policy ([`pick`]) for a
//! seat. Every seat has a word in shared memory ([`SeatWord`]): connections sent to it (the
//! acceptor's), connections taken and open (its workers'), and whether it has a live worker (the
//! master's). A seat is offered a connection only while it has taken all but its cap of those
//! sent: one for `rr` (Node's rule: a worker is offered the next connection once it took the
//! previous one), [`pick::QUEUE_CAP`] for the others. With no seat to offer one, the acceptor
//! takes the socket out of its epoll and parks: it raises a flag in shared memory, and a worker
//! that takes a connection while the flag is up signals the acceptor's eventfd (the credit;
//! the flag and the seat's count are written and read in the same sequentially consistent
//! order on both sides, so a credit cannot be missed).
//!
//! A worker (sync or event model) waits on its seat's channel instead of a socket
//! ([`worker`], [`events`]). Its scoreboard slot counts what it took from the channel as
//! `accepted`, and each return from its wait as a wakeup; the acceptor counts in a slot of its
//! own, shown apart in the scoreboard (`acceptor`): `accepted` from the kernel, `handoffs` to a
//! worker, its wakeups (returns from epoll with the socket ready). A run's `wakeups` is the
//! workers' and the acceptor's together, so `wakeups_per_accept` is about 2 (the acceptor's
//! wakeup, shared by every connection it drains, plus the worker's); its CPU and context
//! switches count in the run's too.
//!
//! The acceptor is a single point of failure. Connections queued in the kernel stay there
//! while it is down (the socket is the master's), messages in flight stay in their channels, so
//! a kill loses only what the acceptor held between accept() and the send; the master counts
//! that from its slot (taken minus handed) when it reaps it (`handoff_lost`). A hand-off is
//! counted just before its sendmsg (and taken back if the send fails), so a kill delivered as
//! sendmsg returns is not counted as a loss; one delivered as accept4 returns loses a
//! connection the slot never counted: the count is a lower bound, the client's errors the
//! truth.
pub mod acceptor;
pub(crate) mod channel;
pub(crate) mod events;
pub mod pick;
pub(crate) mod worker;

use super::listen::{self, ListenConfig};
use super::{Prepared, StrategyOptions};
use crate::metrics::Slot;
use crate::strategy::{Mode, WorkerModel};
use crate::sys::fdpass::Counter;
use crate::sys::shm::SharedArray;
use channel::Channel;
pub use pick::Policy;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most seats a hand-off server can grow to (the scoreboard's capacity).
const MAX_SEATS: usize = crate::metrics::MAX_WORKERS;

/// One seat's counts, in shared memory: the acceptor writes the first cache line, the seat's
/// workers the second.
#[repr(C, align(128))]
#[derive(Default, bytemuck::Zeroable)]
pub struct SeatWord {
    /// Connections sent to the seat (the acceptor; the master when it moves a removed seat's).
    pub sent: AtomicU64,
    /// 1 while the seat has a live worker (the master).
    pub up: AtomicU64,
    _pad: [u64; 6],
    /// Connections the seat's workers took from the channel.
    pub received: AtomicU64,
    /// Connections the seat's workers hold open.
    pub open: AtomicU64,
}

/// What the acceptor and the workers share besides the seats.
#[repr(C, align(128))]
#[derive(Default, bytemuck::Zeroable)]
pub struct Control {
    /// 1 while the acceptor is parked, waiting for a credit.
    pub parked: AtomicU64,
    /// The seats in service (SIGTTIN and SIGTTOU change it).
    pub seats: AtomicU64,
}

pub struct Shared {
    listener: TcpListener,
    channels: Vec<Channel>,
    seats: SharedArray<SeatWord>,
    control: SharedArray<Control>,
    /// The acceptor's wakeup from a parked state.
    credit: Counter,
    /// The acceptor's scoreboard slot.
    slot: SharedArray<Slot>,
    policy: Policy,
    mode: Mode,
    model: WorkerModel,
}

/// The master's side: bind, make the channels and the shared words.
pub fn prepare(
    cfg: &ListenConfig,
    workers: usize,
    _opts: &StrategyOptions,
    policy: Policy,
) -> io::Result<Shared> {
    let mut s = Shared {
        listener: listen::bind(cfg, cfg.addr, false, true)?,
        channels: Vec::new(),
        seats: SharedArray::new(MAX_SEATS)?,
        control: SharedArray::new(1)?,
        credit: Counter::new()?,
        slot: SharedArray::new(1)?,
        policy,
        mode: cfg.mode,
        model: cfg.model,
    };
    s.seats_changed(workers)?;
    Ok(s)
}

impl Shared {
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The acceptor's scoreboard slot.
    pub fn slot(&self) -> &Slot {
        &self.slot[0]
    }

    /// Connections the (dead) acceptor of this slot took from the kernel and did not hand to
    /// a worker: read by the master when it reaps it, before a successor claims the slot.
    pub fn lost_in_hand(&self) -> u64 {
        let s = self.slot();
        Slot::read(&s.accepted).saturating_sub(Slot::read(&s.handoffs))
    }

    fn seat(&self, i: usize) -> &SeatWord {
        &self.seats[i]
    }

    /// Seats with a channel (made at start or by [`Prepared::seats_changed`]).
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Set the seats in service (at most those with a channel); a parked acceptor looks again.
    /// Thread mode's SIGTTIN and SIGTTOU, which cannot add a queue under a running acceptor.
    pub fn set_in_service(&self, seats: usize) -> io::Result<()> {
        let seats = seats.min(self.channels.len());
        self.control[0].seats.store(seats as u64, Ordering::SeqCst);
        self.credit.signal()
    }

    fn in_service(&self) -> usize {
        (self.control[0].seats.load(Ordering::Relaxed) as usize).min(self.channels.len())
    }

    /// A worker of `seat` took a connection from its channel: count it, and give the acceptor
    /// its credit if it is parked.
    fn took(&self, seat: usize) -> io::Result<()> {
        let w = self.seat(seat);
        w.received.fetch_add(1, Ordering::SeqCst);
        w.open.fetch_add(1, Ordering::Relaxed);
        if self.control[0].parked.load(Ordering::SeqCst) != 0 {
            self.credit.signal()?;
        }
        Ok(())
    }

    /// A worker of `seat` closed a connection it took.
    fn closed(&self, seat: usize) {
        let _ = self
            .seat(seat)
            .open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }
}

impl Prepared for Shared {
    type Acceptor<'a> = worker::HandoffAcceptor<'a>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    fn acceptor(&self, worker: usize) -> io::Result<worker::HandoffAcceptor<'_>> {
        worker::HandoffAcceptor::new(self, worker)
    }

    type Events<'a> = events::HandoffLoop<'a>;

    fn event_acceptor(&self, worker: usize) -> io::Result<events::HandoffLoop<'_>> {
        events::HandoffLoop::new(self, worker)
    }

    /// Make the channels of new seats (the acceptor must then be restarted to hold them) and
    /// set the seats in service.
    fn seats_changed(&mut self, seats: usize) -> io::Result<bool> {
        let seats = seats.min(MAX_SEATS);
        let grew = self.channels.len() < seats;
        while self.channels.len() < seats {
            let i = self.channels.len();
            self.channels.push(match self.mode {
                Mode::Process => Channel::unix()?,
                Mode::Thread => Channel::queue()?,
            });
            self.seat_up(i);
        }
        self.set_in_service(seats)?;
        Ok(grew && self.mode == Mode::Process)
    }

    fn seat_down(&self, seat: usize) {
        if let Some(w) = self.seats.get(seat) {
            w.up.store(0, Ordering::SeqCst);
        }
    }

    /// A new worker in `seat` (its predecessor died): what was sent and not taken is still in
    /// the channel, for it to take; the counts start again from there.
    fn seat_up(&self, seat: usize) {
        if let Some(w) = self.seats.get(seat) {
            w.received
                .store(w.sent.load(Ordering::SeqCst), Ordering::SeqCst);
            w.open.store(0, Ordering::Relaxed);
            w.up.store(1, Ordering::SeqCst);
            let _ = self.credit.signal();
        }
    }

    /// Move what is left in a removed seat's channel to the seats in service, in turn.
    fn seat_removed(&self, seat: usize) -> io::Result<u64> {
        let Some(ch) = self.channels.get(seat) else {
            return Ok(0);
        };
        let n = self.in_service();
        let mut moved = 0u64;
        while let Some(conn) = ch.take_now()? {
            if n == 0 {
                break;
            }
            let to = (moved as usize) % n;
            if self.channels[to].send(conn).is_ok() {
                self.seat(to).sent.fetch_add(1, Ordering::SeqCst);
                moved += 1;
            }
        }
        Ok(moved)
    }

    fn acceptor_side(&self) -> Option<&Shared> {
        Some(self)
    }
}
