//! `blocking`: every worker blocks in accept(2) on the one shared listening socket.
//!
//! Mechanism: accept() sleeps on the socket's wait queue as an exclusive waiter, so the kernel
//! wakes exactly one sleeper per incoming connection (wake-one has been the rule for accept()
//! since Linux 2.4). Needs nothing beyond that.
//!
//! Expected behaviour: about one wakeup and one voluntary context switch per connection, no
//! spurious wakeups. Exclusive waiters are woken in FIFO order of their arrival on the wait
//! queue, so the load rotates across idle workers. Used by Apache prefork with a single
//! listener (`AcceptMutex none`), gunicorn's sync worker with one socket, classic inetd-style
//! preforks.
//!
//! See accept(2), and `inet_csk_wait_for_connect` in net/ipv4/inet_connection_sock.c.
use super::listen::{self, ListenConfig};
use super::{blocking_accept, Acceptor};
use crate::metrics::Slot;
use std::io;
use std::net::{TcpListener, TcpStream};

pub const SUMMARY: &str =
    "all workers block in accept() on one socket; the kernel wakes one (FIFO)";

pub struct Shared {
    pub listener: TcpListener,
}

impl Shared {
    pub fn new(cfg: &ListenConfig) -> io::Result<Self> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, false)?,
        })
    }

    pub fn acceptor(&self) -> BlockingAcceptor<'_> {
        BlockingAcceptor {
            listener: &self.listener,
        }
    }
}

pub struct BlockingAcceptor<'a> {
    listener: &'a TcpListener,
}

impl Acceptor for BlockingAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        Ok(blocking_accept(self.listener, slot))
    }
}
