//! Accept strategies: how a prefork server's workers wait for and take connections.
//!
//! Each strategy is one file with a unit type implementing [`Strategy`]: what `herd strategies`
//! says of it, whether this kernel has what it needs, and what the master sets up before fork
//! (its [`Prepared`] state: sockets, locks). After fork each worker asks that state for its
//! [`Acceptor`] and calls it in its hot loop; the loop is generic over the acceptor, so the hot
//! path has no dynamic dispatch.
//!
//! In the event model (`--worker-model event`, [`model`]) the same state gives each worker an
//! [`event::EventAcceptor`] instead: the wait its event loop sleeps in, with the listener
//! registered as the strategy says. Whether a strategy can live in an event loop at all, and
//! how, is its [`Strategy::EVENT_FORM`].
//!
//! The [`strategies!`] list below is the one place a strategy is named: it generates
//! [`StrategyKind`] (the closed enum the command line, the CSV files and serde use, with the
//! name given there), [`StrategyKind::ALL`], and [`Shared`], the master's state of any strategy.
//! Adding a strategy is one file and one line in that list.
use crate::metrics::Slot;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::{SocketAddr, TcpStream};

mod accept;
pub(crate) mod accept_mutex;
pub(crate) mod blocking;
pub(crate) mod epoll;
pub(crate) mod epoll_et;
pub(crate) mod epoll_exclusive;
pub(crate) mod epoll_exclusive_rotate;
pub(crate) mod epoll_shared;
pub mod event;
pub(crate) mod fcntl;
pub(crate) mod flock;
pub mod handoff;
pub(crate) mod handoff_least;
pub(crate) mod handoff_p2c;
pub(crate) mod handoff_rr;
pub(crate) mod listen;
pub(crate) mod lock;
mod mode;
pub mod model;
mod options;
pub(crate) mod poll;
pub(crate) mod posix_sem;
pub(crate) mod pthread_mutex;
pub(crate) mod ready;
pub(crate) mod reuseport;
pub(crate) mod reuseport_cbpf;
pub(crate) mod reuseport_ebpf;
pub(crate) mod select;
pub(crate) mod sysv_sem;
pub(crate) mod uring;

pub(crate) use accept::{accept_after_wakeup, blocking_accept, count_accept_error};
pub use accept::{record_accept, NO_FDS_BACKOFF};
pub use listen::ListenConfig;
pub use mode::Mode;
pub use model::WorkerModel;
pub use options::{EbpfPolicy, PerWakeup, StrategyOptions};

/// One accept strategy, as a type: what is said of it and how the master prepares it.
pub trait Strategy {
    /// One line: the mechanism and the herd behaviour to expect.
    const SUMMARY: &'static str;
    /// How the thread form (`--mode thread`) differs from the process form, when it differs in
    /// more than "the workers are threads".
    const THREAD_FORM: Option<&'static str> = None;
    /// Whether the worker waits for readiness and then accepts, so that
    /// `--accepts-per-wakeup` (and `--multi-accept`, accept until EAGAIN) applies.
    const MULTI_ACCEPT: bool = false;
    /// Whether the event form waits for a shared socket to be readable and then accepts, so
    /// that `--busy-delay` (Puma's rule: a worker holding connections waits before it
    /// accepts, so that an idle one takes the connection) applies.
    const BUSY_DELAY: bool = false;
    /// The event model (`--worker-model event`): `Ok(how)` says how the strategy's wait sits
    /// in an event loop, `Err(why)` why it cannot (a blocking accept or a blocking lock would
    /// stall every connection the worker holds). `herd strategies` prints it; asking for a
    /// refused pair exits 2 with the reason.
    const EVENT_FORM: Result<&'static str, &'static str>;
    /// What the master sets up before fork and every worker shares.
    type Shared: Prepared;
    /// Whether this kernel (and these privileges) offer what the strategy needs.
    fn supported() -> Result<(), String> {
        Ok(())
    }
    /// Set up, in the master before fork, everything the workers will share.
    fn prepare(
        cfg: &ListenConfig,
        workers: usize,
        opts: &StrategyOptions,
    ) -> io::Result<Self::Shared>;
}

/// What a strategy shares between its workers, made before fork.
pub trait Prepared {
    /// One worker's side of the strategy.
    type Acceptor<'a>: Acceptor
    where
        Self: 'a;
    /// The address the listener is bound to (with the port the kernel chose).
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// Build worker `worker`'s acceptor (after fork, in the worker).
    fn acceptor(&self, worker: usize) -> io::Result<Self::Acceptor<'_>>;
    /// One event worker's side of the strategy ([`event::Refused`] when the strategy has no
    /// event form).
    type Events<'a>: event::EventAcceptor
    where
        Self: 'a;
    /// Build worker `worker`'s event acceptor (after fork, in the worker).
    fn event_acceptor(&self, worker: usize) -> io::Result<Self::Events<'_>>;
    /// The master reaped worker `pid`: release anything it held that the kernel does not (an
    /// accept lock). Returns whether something was released.
    fn on_worker_exit(&self, _pid: u64) -> io::Result<bool> {
        Ok(false)
    }
    /// The pid holding the accept lock (0: nobody), or `None` for a strategy without one.
    fn lock_holder(&self) -> Option<u64> {
        None
    }
    /// The per-worker sockets, for a master that adds, removes or replaces workers.
    fn reuseport_mut(&mut self) -> Option<&mut reuseport::Shared> {
        None
    }
    /// The master changed the number of seats to `seats` (SIGTTIN, SIGTTOU), or replaced
    /// `reuseport`'s sockets (a reload with `--reuseport-reload recreate` or `migrate`), through
    /// [`Prepared::reuseport_mut`] or not: bring what the strategy keeps per seat in line.
    /// Returns whether the strategy's acceptor process must be restarted to see the change.
    fn seats_changed(&mut self, _seats: usize) -> io::Result<bool> {
        Ok(false)
    }
    /// Seat `seat`'s serving worker died; the master restarts it later.
    fn seat_down(&self, _seat: usize) {}
    /// A worker is about to start in seat `seat` after its predecessor died.
    fn seat_up(&self, _seat: usize) {}
    /// Seat `seat` was removed (SIGTTOU) and its last worker has exited: move anything the
    /// strategy still queues for it to the seats left. Returns how many it moved.
    fn seat_removed(&self, _seat: usize) -> io::Result<u64> {
        Ok(0)
    }
    /// The strategy's acceptor, a process (or thread) of its own beside the workers, that
    /// takes every connection and hands it to a worker (`handoff-*`); `None` for the others.
    fn acceptor_side(&self) -> Option<&handoff::Shared> {
        None
    }
}

/// The one list of strategies: `Variant = "name" in module`, the module holding the unit type
/// `Variant` that implements [`Strategy`]. The doc comment is the `--help` text of the value.
macro_rules! strategies {
    ($( $(#[$doc:meta])* $V:ident = $name:literal in $m:ident, )*) => {
        /// The accept strategies herd implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
        pub enum StrategyKind {
            $( $(#[$doc])* #[value(name = $name)] #[serde(rename = $name)] $V, )*
        }

        impl StrategyKind {
            /// Every strategy, in the order `herd strategies`, sweeps and charts list them.
            pub const ALL: &'static [StrategyKind] = &[$(StrategyKind::$V),*];

            /// The name used on the command line and in CSV files.
            pub fn name(self) -> &'static str {
                match self { $(StrategyKind::$V => $name,)* }
            }

            /// One line: the mechanism and the herd behaviour to expect.
            pub fn summary(self) -> &'static str {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::SUMMARY,)* }
            }

            /// How the thread form differs, when it does (see [`Strategy::THREAD_FORM`]).
            pub fn thread_form(self) -> Option<&'static str> {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::THREAD_FORM,)* }
            }

            /// Whether `--accepts-per-wakeup` (`--multi-accept`) applies.
            pub fn takes_multi_accept(self) -> bool {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::MULTI_ACCEPT,)* }
            }

            /// Whether `--busy-delay` applies (in the event model).
            pub fn takes_busy_delay(self) -> bool {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::BUSY_DELAY,)* }
            }

            /// Whether this kernel offers what the strategy needs; the reason when it does not.
            pub fn supported(self) -> Result<(), String> {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::supported(),)* }
            }

            /// How the strategy lives in an event loop, or why it cannot
            /// (see [`Strategy::EVENT_FORM`]).
            pub fn event_form(self) -> Result<&'static str, &'static str> {
                match self { $(StrategyKind::$V => <$m::$V as Strategy>::EVENT_FORM,)* }
            }

            /// Set up, in the master before fork, everything the workers will share.
            pub fn prepare(
                self,
                cfg: &ListenConfig,
                workers: usize,
                opts: &StrategyOptions,
            ) -> io::Result<Shared> {
                Ok(match self {
                    $(StrategyKind::$V => {
                        Shared::$V(<$m::$V as Strategy>::prepare(cfg, workers, opts)?)
                    })*
                })
            }
        }

        /// What a strategy shares between its workers, made before fork.
        #[allow(clippy::large_enum_variant)]
        pub enum Shared {
            $( $V(<$m::$V as Strategy>::Shared), )*
        }

        impl Shared {
            /// The address the listener is bound to (with the port the kernel chose).
            pub fn local_addr(&self) -> io::Result<SocketAddr> {
                match self { $(Shared::$V(s) => s.local_addr(),)* }
            }

            /// See [`Prepared::on_worker_exit`].
            pub fn on_worker_exit(&self, pid: u64) -> io::Result<bool> {
                match self { $(Shared::$V(s) => s.on_worker_exit(pid),)* }
            }

            /// See [`Prepared::lock_holder`].
            pub fn lock_holder(&self) -> Option<u64> {
                match self { $(Shared::$V(s) => s.lock_holder(),)* }
            }

            /// See [`Prepared::reuseport_mut`].
            pub fn reuseport_mut(&mut self) -> Option<&mut reuseport::Shared> {
                match self { $(Shared::$V(s) => s.reuseport_mut(),)* }
            }

            /// See [`Prepared::seats_changed`].
            pub fn seats_changed(&mut self, seats: usize) -> io::Result<bool> {
                match self { $(Shared::$V(s) => s.seats_changed(seats),)* }
            }

            /// See [`Prepared::seat_down`].
            pub fn seat_down(&self, seat: usize) {
                match self { $(Shared::$V(s) => s.seat_down(seat),)* }
            }

            /// See [`Prepared::seat_up`].
            pub fn seat_up(&self, seat: usize) {
                match self { $(Shared::$V(s) => s.seat_up(seat),)* }
            }

            /// See [`Prepared::seat_removed`].
            pub fn seat_removed(&self, seat: usize) -> io::Result<u64> {
                match self { $(Shared::$V(s) => s.seat_removed(seat),)* }
            }

            /// See [`Prepared::acceptor_side`].
            pub fn acceptor_side(&self) -> Option<&handoff::Shared> {
                match self { $(Shared::$V(s) => s.acceptor_side(),)* }
            }

            /// Build worker `worker`'s acceptor (after fork, in the worker) and hand it to
            /// `run`, the worker's loop, monomorphised per strategy.
            pub fn with_acceptor<R>(&self, worker: usize, run: impl RunWorker<R>) -> io::Result<R> {
                Ok(match self { $(Shared::$V(s) => run.run(s.acceptor(worker)?),)* })
            }

            /// The event model's [`Shared::with_acceptor`]: build worker `worker`'s event
            /// acceptor and hand it to `run`, the event loop, monomorphised per strategy.
            pub fn with_event_acceptor<R>(
                &self,
                worker: usize,
                run: impl RunEventWorker<R>,
            ) -> io::Result<R> {
                Ok(match self { $(Shared::$V(s) => run.run(s.event_acceptor(worker)?),)* })
            }
        }
    };
}

strategies! {
    /// Every worker blocks in accept() on the shared socket; the kernel wakes one waiter.
    Blocking = "blocking" in blocking,
    /// A SysV semaphore (SEM_UNDO) serialises waiting and accepting (Apache, uWSGI).
    SysvSem = "sysv-sem" in sysv_sem,
    /// A process-shared robust pthread mutex serialises waiting and accepting (uWSGI thunder lock).
    PthreadMutex = "pthread-mutex" in pthread_mutex,
    /// One level-triggered epoll instance per worker on the shared socket: the classic herd.
    EpollShared = "epoll-shared" in epoll_shared,
    /// As epoll-shared, registered with EPOLLEXCLUSIVE (Linux 4.5).
    EpollExclusive = "epoll-exclusive" in epoll_exclusive,
    /// One SO_REUSEPORT listening socket per worker on the same port (Linux 3.9).
    Reuseport = "reuseport" in reuseport,
    /// An fcntl(F_SETLKW) lock on a lock file serialises accept (Apache's default).
    Fcntl = "fcntl" in fcntl,
    /// A flock(LOCK_EX) lock, each worker opening the lock file itself, serialises accept.
    Flock = "flock" in flock,
    /// A process-shared POSIX semaphore serialises accept; the master posts it for a dead holder.
    PosixSem = "posix-sem" in posix_sem,
    /// nginx's accept_mutex: a shared-memory try-lock; only the holder polls the socket.
    AcceptMutex = "accept-mutex" in accept_mutex,
    /// As epoll-exclusive, re-registering every 16 accepts (nginx 1.21.6).
    EpollExclusiveRotate = "epoll-exclusive-rotate" in epoll_exclusive_rotate,
    /// One edge-triggered epoll per worker on the shared socket, accepting until EAGAIN.
    EpollEt = "epoll-et" in epoll_et,
    /// SO_REUSEPORT with a cBPF program choosing the socket by receiving CPU (Linux 4.5).
    ReuseportCbpf = "reuseport-cbpf" in reuseport_cbpf,
    /// One io_uring per worker with a multishot accept on the shared socket (Linux 5.19).
    IoUring = "io-uring" in uring,
    /// Every worker waits in poll() on the shared non-blocking socket.
    Poll = "poll" in poll,
    /// Every worker waits in select() on the shared non-blocking socket (gunicorn sync).
    Select = "select" in select,
    /// One acceptor hands each connection to the next worker that took its last (Node cluster).
    HandoffRr = "handoff-rr" in handoff_rr,
    /// One acceptor hands each connection to the worker with the fewest open (Envoy exact balance).
    HandoffLeast = "handoff-least" in handoff_least,
    /// One acceptor picks the less loaded of two random workers (HAProxy multi-queue).
    HandoffP2c = "handoff-p2c" in handoff_p2c,
    /// SO_REUSEPORT with an eBPF program choosing the socket: rr or least open (Linux 4.19).
    ReuseportEbpf = "reuseport-ebpf" in reuseport_ebpf,
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Of `kinds`, those this kernel supports (in order), and the others with the reason. Every
/// caller that runs "all strategies" (sweeps, `herd chaos`, `herd order`, the tests) filters
/// through this one function.
pub fn split_supported(kinds: &[StrategyKind]) -> (Vec<StrategyKind>, Vec<(StrategyKind, String)>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for &k in kinds {
        match k.supported() {
            Ok(()) => ok.push(k),
            Err(why) => skipped.push((k, why)),
        }
    }
    (ok, skipped)
}

/// A worker loop that can run over any acceptor type (a generic closure, spelled as a trait).
pub trait RunWorker<R> {
    fn run<A: Acceptor>(self, acceptor: A) -> R;
}

/// An event loop that can run over any event acceptor type.
pub trait RunEventWorker<R> {
    fn run<E: event::EventAcceptor>(self, acceptor: E) -> R;
}

impl StrategyKind {
    /// Whether the strategy can run in worker model `model`; the reason when it cannot.
    pub fn supports_model(self, model: WorkerModel) -> Result<(), &'static str> {
        match model {
            WorkerModel::Sync => Ok(()),
            WorkerModel::Event => self.event_form().map(drop),
        }
    }
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

    /// The worker has finished serving a connection this acceptor gave it (a strategy that
    /// balances on open connections counts it down here).
    #[inline]
    fn done(&mut self) {}
}
