//! `accept-mutex`: nginx's `accept_mutex on` (its default before 1.11.3). A try-lock in shared
//! memory decides which worker has the listening socket in its epoll instance.
//!
//! Mechanism (nginx's `ngx_process_events_and_timers` and `ngx_trylock_accept_mutex`, mapped
//! onto herd's one-connection-at-a-time worker): at each turn the worker tries the lock, a
//! compare-and-swap of its pid into one shared word that never blocks. The holder adds the
//! shared non-blocking socket to its own epoll instance if it is not there yet, waits in
//! epoll_wait() with no timeout, accepts, and releases the lock before serving (nginx releases
//! it once the accept events of the turn are handled). A worker that fails removes the socket
//! from its epoll instance if it was there, and sleeps in epoll_wait() for at most
//! `--accept-mutex-delay` (default 500 ms, nginx's `accept_mutex_delay`) before the next try.
//! With `--accept-mutex-backoff`, nginx's load backoff: nginx skips lock attempts while more
//! than 7/8 of its connections are in use (`ngx_accept_disabled > 0`); a herd worker serves one
//! connection at a time, so herd uses the share of the time since its previous turn it spent
//! serving (`busy_ns`): above 7/8, it skips this turn's attempt. The kernel does not know the
//! lock: when its holder dies, the master, having reaped it, clears the word
//! (`SharedTryLock::release_if_held_by`), as nginx's master does (`ngx_shmtx_force_unlock`).
//! Any Linux with epoll.
//!
//! Expected behaviour: no herd (only the holder waits on the socket), about one wakeup per
//! connection, but one worker takes nearly all connections: it releases the lock, serves, and
//! takes the lock straight back, while the others try only every `--accept-mutex-delay`. Having
//! failed together, the others sleep on one timer phase: when it fires one of them finds the
//! lock free and takes over, so the connections go to one worker per delay (a 2 s run at the
//! default 500 ms: four workers near 25%; results/accept-mutex-share/). Their
//! timed-out waits count as wakeups without a connection (`spurious`). Connections queue while
//! the holder serves, so latency grows with service time; with the backoff, a busy holder
//! sleeps for the delay and connections wait for the next worker's retry.
//!
//! See nginx's `accept_mutex` and `accept_mutex_delay` directives; epoll_ctl(2), epoll_wait(2).
use super::event::{EpollSet, EventAcceptor, Interest, ListenerLoop, Load};
use super::listen::{self, ListenConfig};
use super::{
    accept_after_wakeup, record_accept, Acceptor, PerWakeup, Prepared, Strategy, StrategyOptions,
};
use crate::metrics::Slot;
use crate::sys::atomic_lock::SharedTryLock;
use crate::sys::clock::monotonic_ns;
use crate::sys::epoll::{event_buffer, Epoll, Trigger};
use crate::sys::net::accept;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

pub struct AcceptMutex;

impl Strategy for AcceptMutex {
    const SUMMARY: &'static str =
        "nginx accept_mutex: a shared-memory try-lock; only the holder has the socket in its epoll";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("only the holder of the try-lock has the shared socket in its epoll, while it waits; the others retry every --accept-mutex-delay (nginx's accept_mutex)");
    const MULTI_ACCEPT: bool = true;
    type Shared = Shared;

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared {
            listener: listen::bind(cfg, cfg.addr, false, true)?,
            lock: SharedTryLock::new()?,
            delay_ms: opts
                .accept_mutex_delay
                .as_millis()
                .clamp(1, i32::MAX as u128) as i32,
            backoff: opts.accept_mutex_backoff,
            per_wakeup: opts.per_wakeup,
        })
    }
}

pub struct Shared {
    pub listener: TcpListener,
    lock: SharedTryLock,
    delay_ms: i32,
    backoff: bool,
    per_wakeup: PerWakeup,
}

impl Prepared for Shared {
    type Acceptor<'a> = MutexAcceptor<'a>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The pid holding the mutex, 0 if none.
    fn lock_holder(&self) -> Option<u64> {
        Some(self.lock.holder())
    }

    /// The master reaped `pid`: if it held the mutex, release it.
    fn on_worker_exit(&self, pid: u64) -> io::Result<bool> {
        Ok(pid != 0 && self.lock.release_if_held_by(pid))
    }

    type Events<'a> = MutexLoop<'a>;

    fn event_acceptor(&self, _worker: usize) -> io::Result<MutexLoop<'_>> {
        Ok(MutexLoop {
            shared: self,
            inner: ListenerLoop::new(
                EpollSet::new()?,
                &self.listener,
                Trigger::Level,
                self.per_wakeup,
            ),
            me: crate::sys::process::gettid() as u64,
            holding: false,
            want_since: None,
            disabled: 0,
        })
    }

    fn acceptor(&self, _worker: usize) -> io::Result<MutexAcceptor<'_>> {
        Ok(MutexAcceptor {
            shared: self,
            ep: Epoll::new()?,
            events: event_buffer(1),
            me: crate::sys::process::gettid() as u64,
            registered: false,
            taken: 0,
            want_since: None,
            turn_ns: monotonic_ns(),
            turn_busy_ns: 0,
        })
    }
}

pub struct MutexAcceptor<'a> {
    shared: &'a Shared,
    ep: Epoll,
    events: Vec<libc::epoll_event>,
    me: u64,
    /// Whether the socket is in this worker's epoll instance.
    registered: bool,
    /// Connections taken since the last wakeup: with `--accepts-per-wakeup` above 1, the next
    /// turn accepts before waiting while this is below it.
    taken: u64,
    /// When this worker started wanting the lock (for `lock_wait_ns`).
    want_since: Option<u64>,
    /// Start of the current turn and `busy_ns` then (for the backoff).
    turn_ns: u64,
    turn_busy_ns: u64,
}

impl MutexAcceptor<'_> {
    /// nginx's backoff: more than 7/8 of the time since the previous turn spent serving.
    fn overloaded(&mut self, slot: &Slot, now: u64) -> bool {
        let busy = Slot::read(&slot.busy_ns);
        let (dt, db) = (
            now.saturating_sub(self.turn_ns),
            busy.saturating_sub(self.turn_busy_ns),
        );
        self.turn_ns = now;
        self.turn_busy_ns = busy;
        self.shared.backoff && dt > 0 && u128::from(db) * 8 > u128::from(dt) * 7
    }

    fn set_registered(&mut self, on: bool) -> io::Result<()> {
        if on != self.registered {
            let fd = self.shared.listener.as_raw_fd();
            if on {
                self.ep.add(fd, 0, Trigger::Level)?;
            } else {
                self.ep.delete(fd)?;
            }
            self.registered = on;
        }
        Ok(())
    }

    /// Without the lock: wait at most the delay (nothing registered, so only the timeout or a
    /// signal ends it).
    fn wait_without_lock(&mut self, slot: &Slot, now: u64) -> io::Result<Option<TcpStream>> {
        self.set_registered(false)?;
        self.want_since.get_or_insert(now);
        match self.ep.wait(&mut self.events, self.shared.delay_ms) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
            Ok(_) => {
                Slot::bump(&slot.wakeups, 1);
                Slot::bump(&slot.spurious, 1);
                Ok(None)
            }
        }
    }

    /// Holding the lock: accept what is queued (in a drain), else wait for a connection.
    fn accept_holding(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.set_registered(true)?;
        if self.taken > 0 && self.shared.per_wakeup.more_after(self.taken) {
            if let Some(s) = record_accept(slot, accept(&self.shared.listener)) {
                self.taken += 1;
                return Ok(Some(s));
            }
        }
        self.taken = 0;
        match self.ep.wait(&mut self.events, -1) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
            Ok(_) => {
                Slot::bump(&slot.wakeups, 1);
                let got = accept_after_wakeup(&self.shared.listener, slot);
                self.taken = u64::from(got.is_some());
                Ok(got)
            }
        }
    }
}

impl Acceptor for MutexAcceptor<'_> {
    fn next(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        let now = monotonic_ns();
        if self.overloaded(slot, now) || !self.shared.lock.try_lock(self.me) {
            self.taken = 0;
            return self.wait_without_lock(slot, now);
        }
        Slot::bump(&slot.lock_acquires, 1);
        // Fault injection (die or freeze holding the lock), as in the event form.
        crate::fault::lock_taken();
        if let Some(t0) = self.want_since.take() {
            Slot::bump(&slot.lock_wait_ns, now.saturating_sub(t0));
        }
        let got = self.accept_holding(slot);
        self.shared.lock.unlock(self.me);
        got
    }
}

/// The event model: nginx's own design (`ngx_process_events_and_timers`). At each turn of its
/// loop the worker tries the lock, unless it is at its `--worker-connections` limit or, with
/// `--accept-mutex-backoff`, nginx's `ngx_accept_disabled` (set at each accept to
/// `worker_connections / 8 - free connections`) is above 0, which it then counts down. The
/// holder has the shared socket in its epoll and waits as long as its timers allow, holding the
/// lock; it accepts what the wait reports, releases the lock, then serves its connections'
/// events. A worker without the lock takes the socket out of its epoll and waits at most
/// `--accept-mutex-delay` before trying again. The lock's holder record and the master's
/// release of a dead holder are the sync form's.
pub struct MutexLoop<'a> {
    shared: &'a Shared,
    inner: ListenerLoop<'a, EpollSet>,
    me: u64,
    /// Whether this turn holds the lock.
    holding: bool,
    /// When this worker started wanting the lock (for `lock_wait_ns`).
    want_since: Option<u64>,
    /// nginx's `ngx_accept_disabled` (with `--accept-mutex-backoff`).
    disabled: i64,
}

impl EventAcceptor for MutexLoop<'_> {
    fn watch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.inner.watch(fd, token, interest)
    }

    fn rewatch(&mut self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.inner.rewatch(fd, token, interest)
    }

    fn unwatch(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.inner.unwatch(fd, token)
    }

    fn forget(&mut self, fd: RawFd, token: u64) -> io::Result<()> {
        self.inner.forget(fd, token)
    }

    fn wait(
        &mut self,
        slot: &Slot,
        load: Load,
        mut timeout_ms: i32,
        ready: &mut Vec<u64>,
    ) -> io::Result<bool> {
        let now = monotonic_ns();
        let may = self.inner.may_watch(load, &mut timeout_ms);
        if may && self.shared.backoff && self.disabled > 0 {
            self.disabled -= 1;
        } else if may {
            self.holding = self.shared.lock.try_lock(self.me);
            if self.holding {
                Slot::bump(&slot.lock_acquires, 1);
                if let Some(t0) = self.want_since.take() {
                    Slot::bump(&slot.lock_wait_ns, now.saturating_sub(t0));
                }
                // Fault injection (`--fault die-holding-lock`, SIGUSR2): may SIGKILL us here.
                crate::fault::lock_taken();
            } else {
                self.want_since.get_or_insert(now);
                let delay = self.shared.delay_ms;
                timeout_ms = if timeout_ms < 0 {
                    delay
                } else {
                    timeout_ms.min(delay)
                };
            }
        }
        self.inner.set_watching(self.holding)?;
        self.inner.wait_as_registered(slot, timeout_ms, ready)
    }

    fn accept(&mut self, slot: &Slot) -> io::Result<Option<TcpStream>> {
        self.inner.accept(slot)
    }

    fn per_wakeup(&self) -> PerWakeup {
        self.inner.per_wakeup()
    }

    fn turn_done(&mut self, slot: &Slot, accepted: usize, load: Load) -> io::Result<()> {
        if accepted > 0 {
            self.disabled = (load.limit / 8) as i64 - load.limit.saturating_sub(load.open) as i64;
        }
        if std::mem::take(&mut self.holding) {
            self.shared.lock.unlock(self.me);
        }
        self.inner.turn_done(slot, accepted, load)
    }

    fn stop(&mut self, slot: &Slot) -> io::Result<Vec<TcpStream>> {
        if std::mem::take(&mut self.holding) {
            self.shared.lock.unlock(self.me);
        }
        self.inner.stop(slot)
    }
}
