//! Accept strategies: how a prefork server's workers wait for and take connections.
//!
//! A closed enum, [`StrategyKind`], selects a strategy; [`Shared`] is what it sets up in the
//! master before fork (sockets, locks); [`Acceptor`] is what each worker builds from it after
//! fork and calls in its hot loop. The worker loop is generic over the acceptor, so the hot path
//! has no dynamic dispatch. Adding a strategy is one file, one variant and one arm in each of
//! the matches below.
use crate::metrics::Slot;
use crate::sys::net::accept;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

pub mod accept_mutex;
pub mod blocking;
pub mod epoll;
pub mod epoll_et;
pub mod epoll_exclusive;
pub mod epoll_exclusive_rotate;
pub mod epoll_shared;
pub mod fcntl;
pub mod flock;
pub mod listen;
pub mod lock;
pub mod mode;
pub mod options;
pub mod poll;
pub mod posix_sem;
pub mod pthread_mutex;
pub mod ready;
pub mod reuseport;
pub mod reuseport_cbpf;
pub mod select;
pub mod sysv_sem;
pub mod uring;

pub use options::StrategyOptions;

pub use mode::Mode;

/// The accept strategies herd implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Every worker blocks in accept() on the shared socket; the kernel wakes one waiter.
    Blocking,
    /// A SysV semaphore (SEM_UNDO) serialises waiting and accepting (Apache, uWSGI).
    SysvSem,
    /// A process-shared robust pthread mutex serialises waiting and accepting (uWSGI thunder lock).
    PthreadMutex,
    /// One level-triggered epoll instance per worker on the shared socket: the classic herd.
    EpollShared,
    /// As epoll-shared, registered with EPOLLEXCLUSIVE (Linux 4.5).
    EpollExclusive,
    /// One SO_REUSEPORT listening socket per worker on the same port (Linux 3.9).
    Reuseport,
    /// An fcntl(F_SETLKW) lock on a lock file serialises accept (Apache's default).
    Fcntl,
    /// A flock(LOCK_EX) lock, each worker opening the lock file itself, serialises accept.
    Flock,
    /// A process-shared POSIX semaphore serialises accept; the master posts it for a dead holder.
    PosixSem,
    /// nginx's accept_mutex: a shared-memory try-lock; only the holder polls the socket.
    AcceptMutex,
    /// As epoll-exclusive, re-registering every 16 accepts (nginx 1.21.6).
    EpollExclusiveRotate,
    /// One edge-triggered epoll per worker on the shared socket, accepting until EAGAIN.
    EpollEt,
    /// SO_REUSEPORT with a cBPF program choosing the socket by receiving CPU (Linux 4.5).
    ReuseportCbpf,
    /// One io_uring per worker with a multishot accept on the shared socket (Linux 5.19).
    IoUring,
    /// Every worker waits in poll() on the shared non-blocking socket.
    Poll,
    /// Every worker waits in select() on the shared non-blocking socket (gunicorn sync).
    Select,
}

impl StrategyKind {
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Blocking,
        StrategyKind::SysvSem,
        StrategyKind::PthreadMutex,
        StrategyKind::EpollShared,
        StrategyKind::EpollExclusive,
        StrategyKind::Reuseport,
        StrategyKind::Fcntl,
        StrategyKind::Flock,
        StrategyKind::PosixSem,
        StrategyKind::AcceptMutex,
        StrategyKind::EpollExclusiveRotate,
        StrategyKind::EpollEt,
        StrategyKind::ReuseportCbpf,
        StrategyKind::IoUring,
        StrategyKind::Poll,
        StrategyKind::Select,
    ];

    /// The name used on the command line and in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Blocking => "blocking",
            StrategyKind::SysvSem => "sysv-sem",
            StrategyKind::PthreadMutex => "pthread-mutex",
            StrategyKind::EpollShared => "epoll-shared",
            StrategyKind::EpollExclusive => "epoll-exclusive",
            StrategyKind::Reuseport => "reuseport",
            StrategyKind::Fcntl => "fcntl",
            StrategyKind::Flock => "flock",
            StrategyKind::PosixSem => "posix-sem",
            StrategyKind::AcceptMutex => "accept-mutex",
            StrategyKind::EpollExclusiveRotate => "epoll-exclusive-rotate",
            StrategyKind::EpollEt => "epoll-et",
            StrategyKind::ReuseportCbpf => "reuseport-cbpf",
            StrategyKind::IoUring => "io-uring",
            StrategyKind::Poll => "poll",
            StrategyKind::Select => "select",
        }
    }

    /// One line: the mechanism and the herd behaviour to expect.
    pub fn summary(self) -> &'static str {
        match self {
            StrategyKind::Blocking => blocking::SUMMARY,
            StrategyKind::SysvSem => sysv_sem::SUMMARY,
            StrategyKind::PthreadMutex => pthread_mutex::SUMMARY,
            StrategyKind::EpollShared => epoll_shared::SUMMARY,
            StrategyKind::EpollExclusive => epoll_exclusive::SUMMARY,
            StrategyKind::Reuseport => reuseport::SUMMARY,
            StrategyKind::Fcntl => fcntl::SUMMARY,
            StrategyKind::Flock => flock::SUMMARY,
            StrategyKind::PosixSem => posix_sem::SUMMARY,
            StrategyKind::AcceptMutex => accept_mutex::SUMMARY,
            StrategyKind::EpollExclusiveRotate => epoll_exclusive_rotate::SUMMARY,
            StrategyKind::EpollEt => epoll_et::SUMMARY,
            StrategyKind::ReuseportCbpf => reuseport_cbpf::SUMMARY,
            StrategyKind::IoUring => uring::SUMMARY,
            StrategyKind::Poll => poll::SUMMARY,
            StrategyKind::Select => select::SUMMARY,
        }
    }

    /// Whether this kernel offers what the strategy needs; the reason when it does not.
    pub fn supported(self) -> Result<(), String> {
        match self {
            StrategyKind::EpollExclusive | StrategyKind::EpollExclusiveRotate => {
                epoll_exclusive::supported()
            }
            StrategyKind::Reuseport => reuseport::supported(),
            StrategyKind::ReuseportCbpf => reuseport_cbpf::supported(),
            StrategyKind::IoUring => uring::supported(),
            _ => Ok(()),
        }
    }

    /// Set up, in the master before fork, everything the workers will share.
    pub fn prepare(
        self,
        cfg: &listen::ListenConfig,
        workers: usize,
        opts: &StrategyOptions,
    ) -> io::Result<Shared> {
        let multi = opts.multi_accept;
        Ok(match self {
            StrategyKind::Blocking => Shared::Blocking(blocking::Shared::new(cfg)?),
            StrategyKind::SysvSem => Shared::SysvSem(sysv_sem::shared(cfg)?),
            StrategyKind::PthreadMutex => Shared::PthreadMutex(pthread_mutex::shared(cfg)?),
            StrategyKind::EpollShared => {
                Shared::Epoll(epoll_shared::shared(cfg)?.multi_accept(multi))
            }
            StrategyKind::EpollExclusive => {
                Shared::Epoll(epoll_exclusive::shared(cfg)?.multi_accept(multi))
            }
            StrategyKind::Reuseport => {
                let s = reuseport::Shared::new(cfg, workers)?;
                Shared::Reuseport(if opts.incoming_cpu {
                    s.with_incoming_cpu()?
                } else {
                    s
                })
            }
            StrategyKind::Fcntl => Shared::Fcntl(fcntl::shared(cfg)?),
            StrategyKind::Flock => Shared::Flock(flock::shared(cfg)?),
            StrategyKind::PosixSem => Shared::PosixSem(posix_sem::shared(cfg)?),
            StrategyKind::AcceptMutex => Shared::AcceptMutex(accept_mutex::Shared::new(cfg, opts)?),
            StrategyKind::EpollExclusiveRotate => {
                Shared::Epoll(epoll_exclusive_rotate::shared(cfg)?.multi_accept(multi))
            }
            StrategyKind::EpollEt => Shared::Epoll(epoll_et::shared(cfg)?.multi_accept(multi)),
            StrategyKind::ReuseportCbpf => Shared::Reuseport(reuseport_cbpf::shared(cfg, workers)?),
            StrategyKind::IoUring => Shared::IoUring(uring::Shared::new(cfg)?),
            StrategyKind::Poll => Shared::Poll(ready::SharedSocket::new(cfg, multi)?),
            StrategyKind::Select => Shared::Select(ready::SharedSocket::new(cfg, multi)?),
        })
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a strategy shares between its workers, made before fork.
pub enum Shared {
    Blocking(blocking::Shared),
    SysvSem(lock::Shared<sysv_sem::SemLock>),
    PthreadMutex(lock::Shared<pthread_mutex::MutexLock>),
    Epoll(epoll::Shared),
    Reuseport(reuseport::Shared),
    Fcntl(lock::Shared<fcntl::FcntlLock>),
    Flock(lock::Shared<flock::FlockLock>),
    PosixSem(lock::Shared<posix_sem::PsemLock>),
    AcceptMutex(accept_mutex::Shared),
    IoUring(uring::Shared),
    Poll(ready::SharedSocket),
    Select(ready::SharedSocket),
}

impl Shared {
    /// The address the listener is bound to (with the port the kernel chose).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Shared::Blocking(s) => s.listener.local_addr(),
            Shared::SysvSem(s) => s.listener.local_addr(),
            Shared::PthreadMutex(s) => s.listener.local_addr(),
            Shared::Epoll(s) => s.listener.local_addr(),
            Shared::Reuseport(s) => s.local_addr(),
            Shared::Fcntl(s) => s.listener.local_addr(),
            Shared::Flock(s) => s.listener.local_addr(),
            Shared::PosixSem(s) => s.listener.local_addr(),
            Shared::AcceptMutex(s) => s.listener.local_addr(),
            Shared::IoUring(s) => s.listener.local_addr(),
            Shared::Poll(s) | Shared::Select(s) => s.listener.local_addr(),
        }
    }

    /// The master reaped worker `pid`: release anything it held that the kernel does not
    /// (an accept lock). Returns whether something was released.
    pub fn on_worker_exit(&self, pid: u64) -> io::Result<bool> {
        match self {
            Shared::SysvSem(s) => s.on_worker_exit(pid),
            Shared::PthreadMutex(s) => s.on_worker_exit(pid),
            Shared::Fcntl(s) => s.on_worker_exit(pid),
            Shared::Flock(s) => s.on_worker_exit(pid),
            Shared::PosixSem(s) => s.on_worker_exit(pid),
            Shared::AcceptMutex(s) => s.on_worker_exit(pid),
            Shared::Blocking(_)
            | Shared::Epoll(_)
            | Shared::Reuseport(_)
            | Shared::IoUring(_)
            | Shared::Poll(_)
            | Shared::Select(_) => Ok(false),
        }
    }

    /// The pid holding the accept lock (0: nobody), or `None` for a strategy without one.
    pub fn lock_holder(&self) -> Option<u64> {
        match self {
            Shared::SysvSem(s) => Some(s.holder()),
            Shared::PthreadMutex(s) => Some(s.holder()),
            Shared::Fcntl(s) => Some(s.holder()),
            Shared::Flock(s) => Some(s.holder()),
            Shared::PosixSem(s) => Some(s.holder()),
            Shared::AcceptMutex(s) => Some(s.holder()),
            Shared::Blocking(_)
            | Shared::Epoll(_)
            | Shared::Reuseport(_)
            | Shared::IoUring(_)
            | Shared::Poll(_)
            | Shared::Select(_) => None,
        }
    }

    /// The per-worker sockets, for a master that adds, removes or replaces workers.
    pub fn reuseport_mut(&mut self) -> Option<&mut reuseport::Shared> {
        match self {
            Shared::Reuseport(s) => Some(s),
            _ => None,
        }
    }

    /// Build worker `worker`'s acceptor (after fork, in the worker) and hand it to `run`, the
    /// worker's loop, monomorphised per strategy.
    pub fn with_acceptor<R>(&self, worker: usize, run: impl RunWorker<R>) -> io::Result<R> {
        Ok(match self {
            Shared::Blocking(s) => run.run(s.acceptor()),
            Shared::SysvSem(s) => run.run(s.acceptor()),
            Shared::PthreadMutex(s) => run.run(s.acceptor()),
            Shared::Epoll(s) => run.run(s.acceptor()?),
            Shared::Reuseport(s) => run.run(s.acceptor(worker)?),
            Shared::Fcntl(s) => run.run(s.acceptor()),
            Shared::Flock(s) => run.run(s.acceptor()),
            Shared::PosixSem(s) => run.run(s.acceptor()),
            Shared::AcceptMutex(s) => run.run(s.acceptor()?),
            Shared::IoUring(s) => run.run(s.acceptor()?),
            Shared::Poll(s) => run.run(poll::acceptor(s)),
            Shared::Select(s) => run.run(select::acceptor(s)?),
        })
    }
}

/// A worker loop that can run over any acceptor type (a generic closure, spelled as a trait).
pub trait RunWorker<R> {
    fn run<A: Acceptor>(self, acceptor: A) -> R;
}

/// Waits for and takes connections, one worker's side of a strategy.
pub trait Acceptor {
    /// Wait for the next connection. `Ok(None)`: the wait ended without one (a spurious or
    /// interrupted wakeup, already counted in `slot`); the caller checks its stop flag and calls
    /// again. `Err`: the strategy itself failed (not an accept error, which is counted).
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>>;

    /// The worker is stopping: stop taking connections and hand back those this acceptor has
    /// already taken from the kernel but not yet returned (io_uring's completion queue), so
    /// that they are served rather than dropped. Most acceptors hold none.
    fn drain(&mut self, _slot: &Slot) -> io::Result<Vec<TcpStream>> {
        Ok(Vec::new())
    }
}

/// Count the outcome of one accept() call in `slot` and return the connection, if any.
/// Shared by every acceptor so that all strategies classify errors the same way.
pub fn record_accept(slot: &Slot, res: io::Result<TcpStream>) -> Option<TcpStream> {
    match res {
        Ok(s) => Some(s),
        Err(e) => {
            match e.raw_os_error() {
                Some(libc::EAGAIN) => Slot::bump(&slot.eagain, 1),
                Some(libc::EINTR) => {}
                Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                    Slot::bump(&slot.err_no_fds, 1);
                    // Out of descriptors: the connection stays queued and accept() would fail
                    // again at once. Back off instead of spinning (nginx waits 500 ms).
                    std::thread::sleep(NO_FDS_BACKOFF);
                }
                Some(libc::ECONNABORTED) => Slot::bump(&slot.err_connaborted, 1),
                _ => Slot::bump(&slot.err_other, 1),
            }
            None
        }
    }
}

/// How long a worker waits after accept() failed for lack of descriptors.
pub const NO_FDS_BACKOFF: Duration = Duration::from_millis(10);

/// One accept() after a wakeup that has already been counted: the connection, or `None` with
/// the wakeup counted as spurious.
pub(crate) fn accept_after_wakeup(listener: &TcpListener, slot: &Slot) -> Option<TcpStream> {
    let got = record_accept(slot, accept(listener));
    if got.is_none() {
        Slot::bump(&slot.spurious, 1);
    }
    got
}

/// A blocking accept() that is itself the wait: counts the return as a wakeup unless a signal
/// caused it.
pub(crate) fn blocking_accept(listener: &TcpListener, slot: &Slot) -> Option<TcpStream> {
    match accept(listener) {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
        res => {
            Slot::bump(&slot.wakeups, 1);
            let got = record_accept(slot, res);
            if got.is_none() {
                Slot::bump(&slot.spurious, 1);
            }
            got
        }
    }
}
