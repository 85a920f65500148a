//! A sync worker's side of a hand-off strategy: wait on its seat's channel (a blocking
//! recvmsg(2) on its Unix socket, or its queue's eventfd in thread mode) instead of a socket.
//! Each return from that wait is a wakeup; one that brings nothing is spurious.
use super::Shared;
use crate::metrics::Slot;
use crate::strategy::Acceptor;
use std::io;
use std::net::TcpStream;

pub struct HandoffAcceptor<'a> {
    shared: &'a Shared,
    seat: usize,
}

impl<'a> HandoffAcceptor<'a> {
    pub fn new(shared: &'a Shared, seat: usize) -> io::Result<Self> {
        if seat >= shared.channels.len() {
            return Err(io::Error::other(format!(
                "no hand-off channel for seat {seat}"
            )));
        }
        Ok(HandoffAcceptor { shared, seat })
    }

    fn take(&self, wait: bool, slot: &Slot) -> io::Result<Option<TcpStream>> {
        let got = match self.shared.channels[self.seat].recv(wait) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        };
        if got.woke {
            Slot::bump(&slot.wakeups, 1);
            if got.conn.is_none() {
                Slot::bump(&slot.spurious, 1);
            }
        }
        if got.conn.is_some() {
            self.shared.took(self.seat)?;
        }
        Ok(got.conn)
    }
}

impl Acceptor for HandoffAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.take(true, slot)
    }

    /// Stopping: serve what was already sent to this seat (a reload's new generation, or the
    /// master for a removed seat, takes what comes after).
    fn drain(&mut self, slot: &Slot) -> io::Result<Vec<TcpStream>> {
        let mut out = Vec::new();
        while let Some(c) = self.take(false, slot)? {
            out.push(c);
        }
        Ok(out)
    }

    fn done(&mut self) {
        self.shared.closed(self.seat);
    }
}
