//! `reuseport`: one SO_REUSEPORT listening socket per worker, all bound to the same port; each
//! worker blocks in accept(2) on its own socket.
//!
//! Mechanism: the kernel picks the socket for each new connection by a hash of its 4-tuple, so
//! every socket has its own accept queue and only its own worker ever waits on it. Needs
//! Linux 3.9. The master makes all the sockets before fork and keeps them, so a worker that is
//! replaced gets the same socket and nothing queued on it is lost.
//!
//! Expected behaviour: no herd at all (one waiter per queue), one wakeup per connection, an even
//! spread by hash, but a busy worker's queue waits behind it while other workers idle: the
//! latency tail grows with uneven service times. nginx `listen ... reuseport`, HAProxy, Envoy.
//!
//! See socket(7) (SO_REUSEPORT).
use super::blocking_accept;
use super::listen::{self, ListenConfig};
use super::Acceptor;
use crate::metrics::Slot;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

pub const SUMMARY: &str =
    "one SO_REUSEPORT socket per worker (Linux 3.9): the kernel hashes connections to queues";

pub struct Shared {
    pub listeners: Vec<TcpListener>,
}

impl Shared {
    /// Bind `workers` sockets: the first to `cfg.addr`, the rest to the port it got.
    pub fn new(cfg: &ListenConfig, workers: usize) -> io::Result<Self> {
        let first = listen::bind(cfg, cfg.addr, true, false)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..workers {
            listeners.push(listen::bind(cfg, addr, true, false)?);
        }
        Ok(Shared { listeners })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listeners[0].local_addr()
    }

    pub fn acceptor(&self, worker: usize) -> io::Result<ReuseportAcceptor<'_>> {
        let listener = self
            .listeners
            .get(worker)
            .ok_or_else(|| io::Error::other(format!("no reuseport socket for worker {worker}")))?;
        Ok(ReuseportAcceptor { listener })
    }
}

pub struct ReuseportAcceptor<'a> {
    listener: &'a TcpListener,
}

impl Acceptor for ReuseportAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        Ok(blocking_accept(self.listener, slot))
    }
}

pub fn supported() -> Result<(), String> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .map_err(|e| format!("socket: {e}"))?;
    sock.set_reuse_port(true)
        .map_err(|e| format!("SO_REUSEPORT needs Linux 3.9 or later: {e}"))
}
