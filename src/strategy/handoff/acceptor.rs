//! The hand-off acceptor's loop: wait in epoll for the listening socket (while some seat may
//! be offered a connection) and for the credit eventfd (while parked), accept until EAGAIN,
//! and send each connection to the seat the policy picks.
//!
//! Counting, in the acceptor's own slot: `wakeups` the returns from epoll with the socket
//! ready, `spurious` those whose first accept() found nothing, `accepted` the connections taken
//! from the kernel, `handoffs` those sent to a worker, `eagain` and the accept errors as a
//! worker counts them. `busy_ns` is its time outside the wait.
use super::pick::{Picker, SeatState};
use super::Shared;
use crate::metrics::Slot;
use crate::strategy::{count_accept_error, WorkerModel, NO_FDS_BACKOFF};
use crate::sys::clock::monotonic_ns;
use crate::sys::epoll::{event_buffer, token, Epoll, Trigger};
use crate::sys::net::{accept, accept_nonblocking};
use crate::sys::signal::stop_requested;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

const LISTENER: u64 = 0;
const CREDIT: u64 = 1;

/// Run the acceptor of `shared` until a stop is requested. The caller has claimed
/// [`Shared::slot`].
pub fn run(shared: &Shared) -> io::Result<()> {
    let mut a = Acceptor {
        shared,
        slot: shared.slot(),
        ep: Epoll::new()?,
        listening: false,
        picker: Picker::new(shared.policy),
        blocked: Vec::new(),
        pending: None,
    };
    a.ep.add(shared.credit.fd().as_raw_fd(), CREDIT, Trigger::Level)?;
    let mut events = event_buffer(4);
    let mut woke = monotonic_ns();
    while !stop_requested() {
        a.blocked.clear();
        a.blocked.resize(shared.in_service(), false);
        if let Some(conn) = a.pending.take() {
            a.place(conn)?;
        }
        let open = a.pending.is_none() && a.any_seat() || a.unpark();
        a.set_listening(open)?;
        Slot::bump(&a.slot.busy_ns, monotonic_ns().saturating_sub(woke));
        let n = match a.ep.wait(&mut events, -1) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        woke = monotonic_ns();
        let mut listener_ready = false;
        for ev in &events[..n] {
            match token(ev) {
                CREDIT => {
                    shared.credit.take()?;
                    shared.control[0].parked.store(0, Ordering::SeqCst);
                }
                _ => listener_ready = true,
            }
        }
        if listener_ready && a.listening {
            Slot::bump(&a.slot.wakeups, 1);
            a.accept_all()?;
        }
    }
    Ok(())
}

struct Acceptor<'a> {
    shared: &'a Shared,
    slot: &'a Slot,
    ep: Epoll,
    /// Whether the listening socket is in the epoll.
    listening: bool,
    picker: Picker,
    /// Seats whose channel refused a message in this turn (buffer full).
    blocked: Vec<bool>,
    /// A connection taken from the kernel that no seat could take yet.
    pending: Option<TcpStream>,
}

/// Seat `i` as the policy sees it; a seat whose channel refused a message this turn is not up.
fn state(shared: &Shared, blocked: &[bool], i: usize) -> SeatState {
    let w = shared.seat(i);
    let sent = w.sent.load(Ordering::SeqCst);
    let received = w.received.load(Ordering::SeqCst);
    SeatState {
        up: w.up.load(Ordering::Relaxed) != 0 && !blocked.get(i).copied().unwrap_or(true),
        queued: sent.saturating_sub(received),
        open: w.open.load(Ordering::Relaxed),
    }
}

impl Acceptor<'_> {
    fn any_seat(&self) -> bool {
        let (shared, blocked) = (self.shared, &self.blocked);
        self.picker
            .any(blocked.len(), |i| state(shared, blocked, i))
    }

    /// No seat may take a connection: raise the parked flag, then look again (a worker that
    /// took one before seeing the flag has made room; one after it will send a credit).
    /// Returns whether a seat has room after all.
    fn unpark(&self) -> bool {
        let parked = &self.shared.control[0].parked;
        parked.store(1, Ordering::SeqCst);
        let room = self.pending.is_none() && self.any_seat();
        if room {
            parked.store(0, Ordering::SeqCst);
        }
        room
    }

    fn set_listening(&mut self, on: bool) -> io::Result<()> {
        if on != self.listening {
            let fd = self.shared.listener.as_raw_fd();
            if on {
                self.ep.add(fd, LISTENER, Trigger::Level)?;
            } else {
                self.ep.delete(fd)?;
            }
            self.listening = on;
        }
        Ok(())
    }

    /// Accept until EAGAIN or until no seat may take another.
    fn accept_all(&mut self) -> io::Result<()> {
        let event = self.shared.model == WorkerModel::Event;
        let mut taken = 0u64;
        while self.pending.is_none() && self.any_seat() {
            let res = match event {
                true => accept_nonblocking(&self.shared.listener),
                false => accept(&self.shared.listener),
            };
            match res {
                Ok(conn) => {
                    Slot::bump(&self.slot.accepted, 1);
                    taken += 1;
                    self.place(conn)?;
                }
                Err(e) => {
                    if taken == 0 {
                        Slot::bump(&self.slot.spurious, 1);
                    }
                    if count_accept_error(self.slot, &e) {
                        std::thread::sleep(NO_FDS_BACKOFF);
                    }
                    break;
                }
            }
        }
        Ok(())
    }

    /// Send `conn` to the seat the policy picks; keep it pending if no seat can take it.
    fn place(&mut self, conn: TcpStream) -> io::Result<()> {
        let mut conn = conn;
        let n = self.blocked.len();
        let shared = self.shared;
        loop {
            let blocked = &self.blocked;
            let Some(seat) = self.picker.pick(n, |i| state(shared, blocked, i)) else {
                break;
            };
            // Counted before the send, and taken back if it fails: a SIGKILL is delivered as
            // the system call returns, and a message sent is then counted as handed over.
            Slot::bump(&self.slot.handoffs, 1);
            match self.shared.channels[seat].send(conn) {
                Ok(()) => {
                    self.shared.seat(seat).sent.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                Err((e, back)) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        eprintln!("herd serve: hand-off to worker seat {seat}: {e}");
                    }
                    self.blocked[seat] = true;
                    match back {
                        Some(c) => {
                            let h = &self.slot.handoffs;
                            h.store(Slot::read(h).saturating_sub(1), Ordering::Relaxed);
                            conn = c;
                        }
                        // A worker took it before the failed wakeup: handed all the same.
                        None => {
                            self.shared.seat(seat).sent.fetch_add(1, Ordering::SeqCst);
                            return Ok(());
                        }
                    }
                }
            }
        }
        self.pending = Some(conn);
        Ok(())
    }
}
