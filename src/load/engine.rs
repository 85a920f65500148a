//! One client thread: an edge-triggered event loop (mio) over its share of the connections.
//! Each connection connects without blocking, sends one request, reads the response to EOF
//! and closes; then its slot starts the next (closed loop) until the phase ends. After the end
//! no connection is started and those in flight finish or time out, so the server's counters
//! can be read while the client is quiet.
use super::http::{parse_response, Parsed};
use super::source::SourceAddrs;
use super::stats::{ErrorKind, Stats};
use super::LoadConfig;
use crate::sys::clock::monotonic_ns;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Socket, Type};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How often timeouts are checked and how long one poll may sleep.
const TICK_NS: u64 = 10_000_000;
/// After a connection could not even be started (no port, no descriptor), its slot waits this
/// long before trying again, so a broken client environment does not spin.
const RETRY_NS: u64 = 1_000_000;
/// A response larger than this is refused as bad.
const MAX_RESPONSE: usize = 64 * 1024;

/// What every thread of a phase shares.
pub struct PhaseCtx<'a> {
    pub cfg: &'a LoadConfig,
    pub request: &'a [u8],
    /// CLOCK_MONOTONIC after which no connection is started.
    pub end_ns: u64,
    /// Connections that may still be started, if the phase is bounded by count.
    pub budget: Option<&'a AtomicU64>,
    /// Raised when the run must end early (the server died).
    pub abort: &'a AtomicBool,
}

impl PhaseCtx<'_> {
    fn may_start(&self, now: u64) -> bool {
        if now >= self.end_ns || self.abort.load(Ordering::Relaxed) {
            return false;
        }
        match self.budget {
            None => true,
            Some(b) => b
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

enum State {
    Connecting,
    Writing(usize),
    Reading,
}

struct Conn {
    stream: TcpStream,
    state: State,
    /// When the schedule meant this connection to start (closed loop: when it did).
    t_intended: u64,
    t_start: u64,
    deadline: u64,
}

/// Run one thread's `conns` connections until the phase ends; return what it measured.
pub fn run(ctx: &PhaseCtx<'_>, thread: usize, threads: usize, conns: usize) -> io::Result<Stats> {
    let mut ev = EventLoop {
        ctx,
        poll: Poll::new()?,
        slots: (0..conns).map(|_| None).collect(),
        bufs: (0..conns).map(|_| Vec::with_capacity(512)).collect(),
        reqs: (0..conns).map(|_| Vec::new()).collect(),
        free: (0..conns).rev().collect(),
        cooling: Vec::new(),
        active: 0,
        sources: SourceAddrs::new(ctx.cfg.rotate_sources, thread, threads),
        stats: Stats::default(),
    };
    let mut events = Events::with_capacity(1024);
    let mut next_tick = monotonic_ns() + TICK_NS;
    loop {
        let now = monotonic_ns();
        ev.start_free(now);
        if ev.active == 0 && (now >= ctx.end_ns || ctx.abort.load(Ordering::Relaxed)) {
            break;
        }
        if ev.active == 0 && ev.free.is_empty() && ev.cooling.is_empty() {
            break; // budget exhausted
        }
        let wait = next_tick.saturating_sub(now).min(TICK_NS);
        match ev
            .poll
            .poll(&mut events, Some(std::time::Duration::from_nanos(wait)))
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            ev.on_event(event.token().0);
        }
        let now = monotonic_ns();
        if now >= next_tick {
            ev.expire(now);
            next_tick = now + TICK_NS;
        }
    }
    Ok(ev.stats)
}

struct EventLoop<'a> {
    ctx: &'a PhaseCtx<'a>,
    poll: Poll,
    slots: Vec<Option<Conn>>,
    bufs: Vec<Vec<u8>>,
    /// Per-connection requests, when each carries its connect time (`send_connect_ns`).
    reqs: Vec<Vec<u8>>,
    free: Vec<usize>,
    /// Slots waiting out RETRY_NS after a failed start: (slot, retry time).
    cooling: Vec<(usize, u64)>,
    active: usize,
    sources: SourceAddrs,
    stats: Stats,
}

impl EventLoop<'_> {
    fn start_free(&mut self, now: u64) {
        if !self.cooling.is_empty() {
            let (ready, wait): (Vec<_>, Vec<_>) =
                self.cooling.drain(..).partition(|&(_, t)| t <= now);
            self.cooling = wait;
            self.free.extend(ready.into_iter().map(|(i, _)| i));
        }
        while let Some(&i) = self.free.last() {
            if !self.ctx.may_start(now) {
                if self.ctx.budget.is_some()
                    && now < self.ctx.end_ns
                    && !self.ctx.abort.load(Ordering::Relaxed)
                {
                    // Count budget spent: this slot will never start again.
                    self.free.clear();
                }
                return;
            }
            self.free.pop();
            match self.open(i, now) {
                Ok(conn) => {
                    self.slots[i] = Some(conn);
                    self.active += 1;
                }
                Err(e) => {
                    self.stats.error(ErrorKind::from_io(&e));
                    self.cooling.push((i, now + RETRY_NS));
                }
            }
        }
    }

    fn open(&mut self, i: usize, intended: u64) -> io::Result<Conn> {
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
        if cfg.send_connect_ns {
            super::http::with_connect_ns(&mut self.reqs[i], self.ctx.request, t_start);
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
        Ok(Conn {
            stream,
            state: State::Connecting,
            t_intended: intended.min(t_start),
            t_start,
            deadline: t_start + cfg.timeout.as_nanos() as u64,
        })
    }

    fn on_event(&mut self, i: usize) {
        match self.advance(i) {
            Ok(None) => {}
            Ok(Some(eof_parse)) => self.finish(i, eof_parse),
            Err(kind) => self.fail(i, kind),
        }
    }

    /// Move connection `i` as far as it can go. `Ok(Some(parsed))` when the server closed.
    fn advance(&mut self, i: usize) -> Result<Option<Parsed>, ErrorKind> {
        let request: &[u8] = if self.ctx.cfg.send_connect_ns {
            &self.reqs[i]
        } else {
            self.ctx.request
        };
        let Some(conn) = self.slots[i].as_mut() else {
            return Ok(None);
        };
        let io_err = |e: io::Error| ErrorKind::from_io(&e);
        if let State::Connecting = conn.state {
            if let Some(e) = conn.stream.take_error().map_err(io_err)? {
                return Err(ErrorKind::from_io(&e));
            }
            match conn.stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(None),
                Err(e) => return Err(ErrorKind::from_io(&e)),
            }
            let _ = self
                .stats
                .connect
                .record(monotonic_ns().saturating_sub(conn.t_start).max(1));
            conn.state = State::Writing(0);
        }
        if let State::Writing(mut off) = conn.state {
            while off < request.len() {
                match conn.stream.write(&request[off..]) {
                    Ok(n) => off += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        conn.state = State::Writing(off);
                        return Ok(None);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_err(e)),
                }
            }
            conn.state = State::Reading;
        }
        let buf = &mut self.bufs[i];
        let mut chunk = [0u8; 4096];
        loop {
            match conn.stream.read(&mut chunk) {
                Ok(0) => return Ok(Some(parse_response(buf, true))),
                Ok(n) => {
                    if buf.len() + n > MAX_RESPONSE {
                        return Err(ErrorKind::BadResponse);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
    }

    /// The server closed: a complete good response is a success.
    fn finish(&mut self, i: usize, parsed: Parsed) {
        let resp = match parsed {
            Parsed::Complete(r) if r.len == self.bufs[i].len() => r,
            Parsed::Complete(_) | Parsed::Bad => return self.fail(i, ErrorKind::BadResponse),
            Parsed::Incomplete => return self.fail(i, ErrorKind::ShortResponse),
        };
        let Some(conn) = self.release(i) else { return };
        let now = monotonic_ns();
        let s = &mut self.stats;
        s.ok += 1;
        let _ = s.latency.record(now.saturating_sub(conn.t_intended).max(1));
        let _ = s
            .raw_latency
            .record(now.saturating_sub(conn.t_start).max(1));
        if let Some(w) = resp.worker {
            s.count_worker(w);
        }
        if let Some(a) = resp.accept_ns {
            let _ = s.accept_delay.record(a.saturating_sub(conn.t_start).max(1));
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
