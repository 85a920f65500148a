//! One client thread: an edge-triggered event loop (mio) over its share of the connection
//! slots, paced by a [`Pacing`]. Closed loop: every free slot starts a connection at once.
//! Open loop: a slot starts a connection when the schedule says so; when no slot is free (the
//! `--concurrency` cap) or the thread is simply behind, the start is late and the lateness is
//! measured, while latency still counts from the intended start. A timerfd wakes the loop at
//! the next intended start with nanosecond resolution (epoll_wait's timeout is whole ms), or
//! with `--pacing-quantum` at the next multiple of the quantum: each wakeup costs the client
//! (and, through the server's wakeups, the host) CPU, so batching starts trades lateness for
//! CPU. Starts also happen whenever the loop runs for other events, so most are not batched.
//! After the phase's end no connection is started and those in flight finish or time out, so
//! the server's counters can be read while the client is quiet.
//!
//! Long-lived connections (`--long-lived T`): the slots start their connections as a closed
//! loop does and keep them; after each response a connection rests until its slot's next tick
//! ([`Ticks`]), kept in a min-heap that arms the same timerfd.
use super::conn::{Conn, Requests, Step};
use super::long_lived::LongLived;
use super::pacing::{Pacing, Schedule};
use super::progress::Progress;
use super::source::SourceAddrs;
use super::stats::{ErrorKind, Stats};
use super::timer::{Timer, TIMER};
use super::LoadConfig;
use crate::sys::clock::{monotonic_ns, thread_cpu_ns};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Socket, Type};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How often timeouts are checked and how long one poll may sleep.
const TICK_NS: u64 = 10_000_000;
/// The largest `--pacing-quantum`: the tick wakes the loop at least this often anyway.
pub const MAX_QUANTUM: std::time::Duration = std::time::Duration::from_nanos(TICK_NS);
/// After a connection could not even be started (no port, no descriptor), its slot waits this
/// long before trying again, so a broken client environment does not spin.
const RETRY_NS: u64 = 1_000_000;
/// How often a thread hands its figures to the progress line.
const PUBLISH_NS: u64 = 250_000_000;

/// What every thread of a phase shares.
pub struct PhaseCtx<'a> {
    pub cfg: &'a LoadConfig,
    pub requests: &'a Requests,
    /// CLOCK_MONOTONIC when the phase started: the schedule's origin.
    pub start_ns: u64,
    /// CLOCK_MONOTONIC after which no connection is started.
    pub end_ns: u64,
    /// Connections that may still be started, if the phase is bounded by count.
    pub budget: Option<&'a AtomicU64>,
    /// Raised when the run must end early (the server died).
    pub abort: &'a AtomicBool,
    pub progress: Option<&'a Progress>,
}

impl PhaseCtx<'_> {
    fn over(&self, now: u64) -> bool {
        now >= self.end_ns
            || self.abort.load(Ordering::Relaxed)
            || crate::sys::signal::interrupted().is_some()
    }

    /// Take one connection from the budget; false once it is spent.
    fn take_budget(&self) -> bool {
        match self.budget {
            None => true,
            Some(b) => b
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// Run one thread's `conns` slots until the phase ends; return what it measured.
pub fn run(ctx: &PhaseCtx<'_>, thread: usize, threads: usize, conns: usize) -> io::Result<Stats> {
    let cpu_start = thread_cpu_ns();
    let mut pacing = ctx
        .cfg
        .shape
        .pacing(thread, threads, ctx.start_ns, ctx.end_ns);
    let mut ev = EventLoop {
        ctx,
        poll: Poll::new()?,
        slots: (0..conns).map(|_| None).collect(),
        bufs: (0..conns).map(|_| Vec::with_capacity(512)).collect(),
        reqs: (0..conns).map(|_| Vec::new()).collect(),
        free: (0..conns).rev().collect(),
        cooling: Vec::new(),
        active: 0,
        budget_spent: false,
        sources: SourceAddrs::new(ctx.cfg.rotate_sources, thread, threads),
        stats: Stats::default(),
        long: ctx.cfg.shape.long_lived_ns().map(|interval| {
            let slots = (thread, threads, conns, ctx.cfg.concurrency);
            LongLived::new(ctx.start_ns, ctx.end_ns, interval, slots)
        }),
    };
    let timer = match (&pacing, &ev.long) {
        (Pacing::Open(_), _) | (_, Some(_)) => Some(Timer::new(&ev.poll)?),
        (Pacing::Closed, None) => None,
    };
    let mut next_publish = monotonic_ns() + PUBLISH_NS;
    let mut events = Events::with_capacity(1024);
    let mut next_tick = monotonic_ns() + TICK_NS;
    loop {
        let now = monotonic_ns();
        ev.uncool(now);
        ev.resume_due(now);
        let starting = match &mut pacing {
            Pacing::Closed => ev.start_closed(now),
            Pacing::Open(s) => ev.start_scheduled(s, now),
        };
        if ev.active == 0 && !starting {
            break;
        }
        let mut wait = next_tick.saturating_sub(now).min(TICK_NS);
        if let (Pacing::Open(s), Some(timer)) = (&pacing, &timer) {
            if let Some(t) = s.peek().filter(|_| !ev.free.is_empty()) {
                let t = quantize(t, ctx.cfg.pacing_quantum_ns);
                wait = wait.min(t.saturating_sub(now));
                timer.arm(t)?;
            }
        }
        if let (Some(t), Some(timer)) = (ev.next_due(), &timer) {
            wait = wait.min(t.saturating_sub(now));
            timer.arm(t)?;
        }
        match ev
            .poll
            .poll(&mut events, Some(std::time::Duration::from_nanos(wait)))
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        for (n, event) in events.iter().enumerate() {
            if event.token() != TIMER {
                ev.on_event(event.token().0);
            }
            // Open loop: a long batch of events must not delay due starts.
            if n % 16 == 15 {
                if let Pacing::Open(s) = &mut pacing {
                    ev.start_scheduled(s, monotonic_ns());
                }
            }
        }
        let now = monotonic_ns();
        if now >= next_tick {
            ev.expire(now);
            next_tick = now + TICK_NS;
            if let Some(p) = ctx.progress.filter(|_| now >= next_publish) {
                p.publish(thread, &ev.stats);
                next_publish = now + PUBLISH_NS;
            }
        }
    }
    ev.stats.cpu_ns = thread_cpu_ns().saturating_sub(cpu_start);
    if let Some(p) = ctx.progress {
        p.publish(thread, &ev.stats);
    }
    Ok(ev.stats)
}

/// The pacing timer's target for a start due at `t_ns`: `t_ns` itself, or with a quantum the
/// next multiple of it, so that starts due within one quantum share one wakeup. Either way the
/// start's lateness and latency count from `t_ns`.
fn quantize(t_ns: u64, quantum_ns: u64) -> u64 {
    if quantum_ns > 1 {
        t_ns.div_ceil(quantum_ns).saturating_mul(quantum_ns)
    } else {
        t_ns
    }
}

struct EventLoop<'a> {
    ctx: &'a PhaseCtx<'a>,
    poll: Poll,
    slots: Vec<Option<Conn>>,
    bufs: Vec<Vec<u8>>,
    /// Per-connection first requests, when each carries its connect time (`send_connect_ns`).
    reqs: Vec<Vec<u8>>,
    free: Vec<usize>,
    /// Slots waiting out RETRY_NS after a failed start: (slot, retry time).
    cooling: Vec<(usize, u64)>,
    active: usize,
    budget_spent: bool,
    sources: SourceAddrs,
    stats: Stats,
    /// Long-lived connections: each slot's ticks and the resting connections' next ticks.
    long: Option<LongLived>,
}

impl EventLoop<'_> {
    fn uncool(&mut self, now: u64) {
        if !self.cooling.is_empty() {
            let (ready, wait): (Vec<_>, Vec<_>) =
                self.cooling.drain(..).partition(|&(_, t)| t <= now);
            self.cooling = wait;
            self.free.extend(ready.into_iter().map(|(i, _)| i));
        }
    }

    /// Closed loop: start a connection in every free slot. Whether more may start later.
    fn start_closed(&mut self, now: u64) -> bool {
        if self.ctx.over(now) || self.budget_spent {
            return false;
        }
        while let Some(&i) = self.free.last() {
            if self.long.is_some() && self.is_last(i, now) {
                // Long-lived: this slot has no tick left in the phase; it is done.
                self.free.pop();
                continue;
            }
            if !self.ctx.take_budget() {
                self.budget_spent = true;
                return false;
            }
            self.free.pop();
            // A closed loop has no schedule: a connection's intended start is its connect()
            // call, so its latency and raw latency are one figure. (Stamping it with `now`,
            // taken before this loop opens every free slot in turn, charged each connection
            // the time spent opening the ones before it: 13-15% of the p50 at 32 connections.)
            self.start(i, None, now);
        }
        true
    }

    /// Open loop: start every due connection a free slot allows. Whether more may start.
    fn start_scheduled(&mut self, sched: &mut Schedule, now: u64) -> bool {
        if self.ctx.over(now) {
            // The phase is over: what is still scheduled is never started. Each counts as late
            // by the time it waited, so a generator that fell behind cannot hide it.
            while let Some(t) = sched.peek() {
                self.stats.record_lateness(now.saturating_sub(t));
                self.stats.unstarted_conns += 1;
                sched.advance();
            }
            return false;
        }
        while let Some(t) = sched.peek().filter(|&t| t <= now) {
            let Some(i) = self.free.pop() else { break };
            if !self.ctx.take_budget() {
                sched.stop();
                self.free.push(i);
                break;
            }
            sched.advance();
            let started = self.start(i, Some(t), monotonic_ns());
            self.stats.record_lateness(started.saturating_sub(t));
        }
        sched.peek().is_some()
    }

    /// Open a connection in slot `i`, meant to start at `intended` (`None`: no schedule, it
    /// starts when it starts); returns its connect() time.
    fn start(&mut self, i: usize, intended: Option<u64>, now: u64) -> u64 {
        match self.open(i, intended) {
            Ok(conn) => {
                let t = conn.t_start();
                self.slots[i] = Some(conn);
                self.active += 1;
                t
            }
            Err(e) => {
                self.stats.error(ErrorKind::from_io(&e));
                self.cooling.push((i, now + RETRY_NS));
                now
            }
        }
    }

    /// Long-lived: the earliest tick a resting connection waits for.
    fn next_due(&self) -> Option<u64> {
        self.long.as_ref().and_then(LongLived::next_due)
    }

    /// Long-lived: whether a request sent for tick `due` on slot `i` is the phase's last.
    fn is_last(&self, i: usize, due: u64) -> bool {
        self.long.as_ref().is_some_and(|l| l.is_last(i, due))
    }

    /// Long-lived: connection `i` has its response; it rests until its slot's next tick.
    fn rest(&mut self, i: usize) {
        if let (Some(l), Some(conn)) = (self.long.as_mut(), self.slots[i].as_mut()) {
            l.rest(i, conn);
        }
    }

    /// Long-lived: send the requests whose ticks have come.
    fn resume_due(&mut self, now: u64) {
        while let Some((due, i)) = self.long.as_mut().and_then(|l| l.pop_due(now)) {
            let last = self.is_last(i, due);
            let Some(conn) = self.slots[i].as_mut() else {
                continue;
            };
            if !conn.is_idle() || conn.next_due != due {
                continue; // an entry of an earlier connection of this slot
            }
            let t = monotonic_ns();
            conn.resume(due, last, t);
            self.stats.record_lateness(t.saturating_sub(due));
            self.on_event(i);
        }
    }

    fn open(&mut self, i: usize, intended: Option<u64>) -> io::Result<Conn> {
        let cfg = self.ctx.cfg;
        let sock = Socket::new(
            Domain::for_address(cfg.target),
            Type::STREAM.nonblocking().cloexec(),
            None,
        )?;
        if let Some(src) = self.sources.next() {
            crate::sys::net::set_bind_address_no_port(&sock)?;
            sock.bind(&std::net::SocketAddr::new(src, 0).into())?;
        }
        let t_start = monotonic_ns();
        let first_last = self.is_last(i, t_start);
        if cfg.send_connect_ns {
            let r = self.ctx.requests;
            let base = match self.long {
                Some(_) if !first_last => &r.keep_alive[..],
                Some(_) => &r.close[..],
                None => r.first(),
            };
            super::request::with_connect_ns(&mut self.reqs[i], base, t_start);
        }
        match sock.connect(&cfg.target.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let mut stream = TcpStream::from_std(sock.into());
        self.poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.bufs[i].clear();
        let deadline = t_start + cfg.timeout.as_nanos() as u64;
        let conn = Conn::new(stream, intended.unwrap_or(t_start), t_start, deadline);
        Ok(match self.long {
            Some(_) => conn.long_lived(first_last),
            None => conn,
        })
    }

    fn on_event(&mut self, i: usize) {
        let Some(conn) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let first = self.ctx.cfg.send_connect_ns.then(|| &self.reqs[i][..]);
        match conn.advance(&mut self.bufs[i], self.ctx.requests, first, &mut self.stats) {
            Ok(Step::Pending) => {}
            Ok(Step::Finished) => {
                self.release(i);
            }
            Ok(Step::Idle) => self.rest(i),
            Err(kind) => self.fail(i, kind),
        }
    }

    fn fail(&mut self, i: usize, kind: ErrorKind) {
        if self.release(i).is_some() {
            self.stats.error(kind);
        }
    }

    /// Close connection `i` (dropping the socket removes it from epoll) and free its slot.
    fn release(&mut self, i: usize) -> Option<Conn> {
        let conn = self.slots[i].take()?;
        self.active -= 1;
        self.free.push(i);
        Some(conn)
    }

    fn expire(&mut self, now: u64) {
        for i in 0..self.slots.len() {
            if matches!(&self.slots[i], Some(c) if c.deadline <= now) {
                self.fail(i, ErrorKind::Timeout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantize;

    #[test]
    fn a_quantum_rounds_the_timer_up_never_down() {
        assert_eq!(quantize(1_234_567, 0), 1_234_567);
        assert_eq!(quantize(1_234_567, 1), 1_234_567);
        assert_eq!(quantize(1_234_567, 250_000), 1_250_000);
        assert_eq!(quantize(1_250_000, 250_000), 1_250_000);
        assert_eq!(quantize(1_250_001, 250_000), 1_500_000);
        assert_eq!(quantize(u64::MAX - 5, 1_000), u64::MAX);
    }
}
