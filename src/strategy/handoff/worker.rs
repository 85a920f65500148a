//! A sync worker's side of a hand-off strategy: wait on its seat's channel (a blocking
//! recvmsg(2) on its Unix socket, or an eventfd read in thread mode) instead of a socket. Each
//! return from that wait is a wakeup; one that brings nothing is spurious.
use super::channel::Receiver;
use super::Shared;
use crate::metrics::Slot;
use crate::strategy::Acceptor;
use std::io;
use std::net::TcpStream;

pub struct HandoffAcceptor<'a> {
    shared: &'a Shared,
    seat: usize,
    rx: Receiver<'a>,
}

impl<'a> HandoffAcceptor<'a> {
    pub fn new(shared: &'a Shared, seat: usize) -> io::Result<Self> {
        let ch = shared
            .channels
            .get(seat)
            .ok_or_else(|| io::Error::other(format!("no hand-off channel for seat {seat}")))?;
        Ok(HandoffAcceptor {
            shared,
            seat,
            rx: Receiver::new(ch),
        })
    }
}

impl Acceptor for HandoffAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        let got = match self.rx.wait() {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        };
        if got.woke {
            Slot::bump(&slot.wakeups, 1);
        }
        match got.conn {
            Some(c) => {
                self.shared.took(self.seat)?;
                Ok(Some(c))
            }
            None => {
                Slot::bump(&slot.spurious, 1);
                Ok(None)
            }
        }
    }

    /// Stopping: serve what was already sent to this seat (a reload's new generation, or the
    /// master for a removed seat, takes what comes after).
    fn drain(&mut self, _slot: &Slot) -> io::Result<Vec<TcpStream>> {
        let mut out = Vec::new();
        while let Some(c) = self.shared.channels[self.seat].take_now()? {
            self.shared.took(self.seat)?;
            out.push(c);
        }
        Ok(out)
    }

    fn done(&mut self) {
        self.shared.closed(self.seat);
    }
}
