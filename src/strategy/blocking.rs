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
use super::event::Refused;
use super::listen::{self, ListenConfig};
use super::{blocking_accept, Acceptor, Prepared, Strategy, StrategyOptions};
use crate::metrics::Slot;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

pub struct Blocking;

impl Strategy for Blocking {
    const SUMMARY: &'static str =
        "all workers block in accept() on one socket; the kernel wakes one (FIFO)";
    const EVENT_FORM: Result<&'static str, &'static str> = Err(EVENT_REFUSAL);
    type Shared = Shared;

    fn prepare(cfg: &ListenConfig, _: usize, _: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, false)?,
        })
    }
}

/// Why `blocking` has no event form.
const EVENT_REFUSAL: &str = "its wait is a blocking accept(): a worker blocked there could not \
     serve the connections it already holds (in an event loop the shared socket sits in the \
     loop's wait instead: epoll-shared, epoll-exclusive)";

pub struct Shared {
    pub listener: TcpListener,
}

impl Prepared for Shared {
    type Acceptor<'a> = BlockingAcceptor<'a>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    type Events<'a> = Refused;

    fn event_acceptor(&self, _worker: usize) -> io::Result<Refused> {
        Err(Refused::error(EVENT_REFUSAL))
    }

    fn acceptor(&self, _worker: usize) -> io::Result<BlockingAcceptor<'_>> {
        Ok(BlockingAcceptor {
            listener: &self.listener,
        })
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
