//! `reuseport`: one SO_REUSEPORT listening socket per worker, all bound to the same port; each
//! worker blocks in accept(2) on its own socket.
//!
//! Mechanism: the kernel picks the socket for each new connection by a hash of its 4-tuple, so
//! every socket has its own accept queue and only its own worker ever waits on it. Needs
//! Linux 3.9. The master makes all the sockets before fork and keeps them, so a worker that is
//! replaced (restart, or reload with `--reuseport-reload keep`) gets the same socket and nothing
//! queued on it is lost. Removing a socket (SIGTTOU, or a reload with
//! `--reuseport-reload recreate`) shuts it down: the kernel resets the connections queued on
//! it, unless net.ipv4.tcp_migrate_req=1 (Linux 5.14) moves them to another socket of the group.
//!
//! Expected behaviour: no herd at all (one waiter per queue), one wakeup per connection, an even
//! spread by hash, but a busy worker's queue waits behind it while other workers idle: the
//! latency tail grows with uneven service times. nginx `listen ... reuseport`, HAProxy, Envoy.
//!
//! `--incoming-cpu` sets SO_INCOMING_CPU on socket i to i % CPUs. Since Linux 6.1 (commit
//! "soreuseport: Fix socket selection for SO_INCOMING_CPU") the reuseport selection, starting
//! from the hashed socket, takes the first socket whose incoming CPU is the CPU handling the
//! connection; before 6.1 the option was ignored for sockets in a reuseport group. With as many
//! workers as CPUs, each CPU's connections go to one worker; with more workers than CPUs, the
//! hash picks among the workers of that CPU (on loopback, the CPU is the client's).
//!
//! See socket(7) (SO_REUSEPORT, SO_INCOMING_CPU).
use super::blocking_accept;
use super::event::{EpollSet, ListenerLoop};
use super::listen::{self, ListenConfig};
use super::{Acceptor, PerWakeup, Prepared, Strategy, StrategyOptions};
use crate::metrics::Slot;
use crate::sys::epoll::Trigger;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

pub struct Reuseport;

impl Strategy for Reuseport {
    const SUMMARY: &'static str =
        "one SO_REUSEPORT socket per worker (Linux 3.9): the kernel hashes connections to queues";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("each worker's own SO_REUSEPORT socket in its epoll, level-triggered (nginx listen reuseport, Envoy, HAProxy)");
    type Shared = Shared;

    fn supported() -> Result<(), String> {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .map_err(|e| format!("socket: {e}"))?;
        sock.set_reuse_port(true)
            .map_err(|e| format!("SO_REUSEPORT needs Linux 3.9 or later: {e}"))
    }

    fn prepare(cfg: &ListenConfig, workers: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        let s = Shared::new(cfg, workers)?;
        if opts.incoming_cpu {
            s.with_incoming_cpu()
        } else {
            Ok(s)
        }
    }
}

pub struct Shared {
    pub listeners: Vec<TcpListener>,
    cfg: ListenConfig,
    addr: SocketAddr,
}

impl Shared {
    /// Bind `workers` sockets: the first to `cfg.addr`, the rest to the port it got.
    pub fn new(cfg: &ListenConfig, workers: usize) -> io::Result<Self> {
        let first = listen::bind(cfg, cfg.addr, true, false)?;
        let addr = first.local_addr()?;
        let mut s = Shared {
            listeners: vec![first],
            cfg: cfg.clone(),
            addr,
        };
        s.ensure(workers)?;
        Ok(s)
    }

    /// `--incoming-cpu`: SO_INCOMING_CPU on socket i = i % CPUs.
    pub fn with_incoming_cpu(self) -> io::Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for (i, l) in self.listeners.iter().enumerate() {
            socket2::SockRef::from(l).set_cpu_affinity(i % cpus)?;
        }
        Ok(self)
    }

    /// Master: bind sockets until there is one per seat (a worker added by SIGTTIN).
    pub fn ensure(&mut self, seats: usize) -> io::Result<()> {
        while self.listeners.len() < seats {
            self.listeners
                .push(listen::bind(&self.cfg, self.addr, true, false)?);
        }
        Ok(())
    }

    /// Master: take the sockets beyond `seats` out (SIGTTOU); the caller shuts them down with
    /// [`retire`] once their workers have been told to stop.
    pub fn truncate(&mut self, seats: usize) -> Vec<TcpListener> {
        self.listeners.split_off(seats.min(self.listeners.len()))
    }

    /// Master: replace every socket by a new one (`--reuseport-reload recreate`); returns the
    /// old ones for [`retire`].
    pub fn recreate(&mut self) -> io::Result<Vec<TcpListener>> {
        let n = self.listeners.len();
        let mut fresh = Vec::with_capacity(n);
        for _ in 0..n {
            fresh.push(listen::bind(&self.cfg, self.addr, true, false)?);
        }
        Ok(std::mem::replace(&mut self.listeners, fresh))
    }
}

impl Prepared for Shared {
    type Acceptor<'a> = ReuseportAcceptor<'a>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    type Events<'a> = ListenerLoop<'a, EpollSet>;

    /// The event model: the worker's own socket, level-triggered in its loop's epoll. The
    /// master bound it blocking (the sync form blocks in accept() on it); an event loop needs it
    /// non-blocking, which every event worker sharing it (a reload's next generation) wants.
    fn event_acceptor(&self, worker: usize) -> io::Result<ListenerLoop<'_, EpollSet>> {
        let listener = self
            .listeners
            .get(worker)
            .ok_or_else(|| io::Error::other(format!("no reuseport socket for worker {worker}")))?;
        listener.set_nonblocking(true)?;
        Ok(ListenerLoop::new(
            EpollSet::new()?,
            listener,
            Trigger::Level,
            PerWakeup::default(),
        ))
    }

    fn acceptor(&self, worker: usize) -> io::Result<ReuseportAcceptor<'_>> {
        let listener = self
            .listeners
            .get(worker)
            .ok_or_else(|| io::Error::other(format!("no reuseport socket for worker {worker}")))?;
        Ok(ReuseportAcceptor { listener })
    }

    fn reuseport_mut(&mut self) -> Option<&mut Shared> {
        Some(self)
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

/// Take a socket out of the reuseport group at once: shutdown(2) on a listener stops it
/// listening for every process holding it (workers forked earlier keep copies of the
/// descriptor, so closing the master's copy alone would leave it in the group, queueing
/// connections nobody accepts). What is queued is reset, or migrated when
/// net.ipv4.tcp_migrate_req=1.
pub fn retire(listener: TcpListener) {
    let _ = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Both);
}

/// net.ipv4.tcp_migrate_req (Linux 5.14), if the kernel has it.
pub fn migrate_req() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_migrate_req")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}
