//! Creating listening sockets the same way for every strategy.
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// How the master binds its listening socket(s).
#[derive(Debug, Clone)]
pub struct ListenConfig {
    pub addr: SocketAddr,
    /// listen(2) backlog; the kernel caps it at net.core.somaxconn.
    pub backlog: i32,
    /// SO_RCVTIMEO and SO_SNDTIMEO of every accepted socket, so a client that sends nothing
    /// cannot hold a worker for ever. (Not set on the listener: there it would also bound
    /// accept() and wake idle workers.)
    pub io_timeout: Duration,
    /// Whether the workers will be processes or threads: a strategy whose process form does
    /// not exclude threads of one process (fcntl record locks) picks its thread form from it.
    pub mode: super::Mode,
    /// The workers' model: a strategy that accepts on the workers' behalf (hand-off) makes the
    /// sockets it passes non-blocking for event loops, blocking for sync workers.
    pub model: super::WorkerModel,
    /// TCP_DEFER_ACCEPT (`--defer-accept`): a connection reaches accept() only once its first
    /// data arrives (or this long has passed), so idle connections do not take sync workers.
    pub defer_accept: Option<Duration>,
}

impl ListenConfig {
    /// 127.0.0.1:0, backlog 16: a throwaway group for a strategy's support check.
    pub fn probe() -> Self {
        ListenConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            backlog: 16,
            io_timeout: Duration::from_secs(1),
            mode: super::Mode::Process,
            model: super::WorkerModel::Sync,
            defer_accept: None,
        }
    }
}

/// Bind and listen. `reuseport` sets SO_REUSEPORT before bind; `nonblocking` sets O_NONBLOCK on
/// the file description, which every forked worker shares.
pub fn bind(
    cfg: &ListenConfig,
    addr: SocketAddr,
    reuseport: bool,
    nonblocking: bool,
) -> io::Result<TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if reuseport {
        sock.set_reuse_port(true)?;
    }
    sock.bind(&addr.into())?;
    if let Some(d) = cfg.defer_accept {
        crate::sys::net::set_defer_accept(&sock, d)?;
    }
    sock.listen(cfg.backlog)?;
    sock.set_nonblocking(nonblocking)?;
    Ok(sock.into())
}
