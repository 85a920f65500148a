//! The event worker (nginx, Node's cluster, uvicorn): one non-blocking loop over the listener,
//! as the strategy registers it, and up to `--worker-connections` open connections. Each turn
//! the loop fires its due timers, sleeps in the strategy's wait, accepts what the listener
//! reports (once, or until EAGAIN with multi-accept), lets the strategy end its turn (the
//! accept mutex is released there, before any connection is served), then serves the
//! connections that are ready: reads what arrived, answers each complete request, keeps the
//! connection alive for the next one, closes it after `Connection: close`, at
//! `--max-requests-per-conn`, or when nothing arrives within `--read-timeout`.
//!
//! Work: `--work-us` burns CPU in the loop, delaying every connection of the worker, as a
//! CPU-bound handler does in nginx or Node; `--sleep-us` delays only that response, with a
//! timer (an upstream call): the connection leaves the wait and the loop serves the others.
//!
//! Stop (SIGTERM; a reload's old generation): the worker stops accepting for good (the
//! strategy takes the listener out of its wait and releases what it holds), answers every
//! request in flight, gives each open connection `Connection: close` on its next response and
//! closes it after that response, or when it sends nothing within `--read-timeout`; the loop
//! ends when no connection is left. Nothing queued on the listener is lost: the other workers
//! (or the next generation) take it.
mod conn;
mod timers;

use super::WorkerCtx;
use crate::metrics::Slot;
use crate::server::http::{OkResponses, BAD_REQUEST};
use crate::server::trace::TraceWriter;
use crate::strategy::event::{EventAcceptor, Interest, Load};
use crate::sys::clock::{burn_cpu, monotonic_ns};
use crate::sys::signal::stop_requested;
use conn::{Conn, Input, State};
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use timers::{Kind, Timer, Timers};

/// Serve with the event loop until a stop is requested and every connection is closed.
pub(super) fn serve<E: EventAcceptor>(acceptor: E, ctx: &WorkerCtx<'_>) -> io::Result<()> {
    let slot = ctx.slot;
    let mut lp = Loop {
        acc: acceptor,
        ctx,
        slot,
        conns: Vec::new(),
        free: Vec::new(),
        open: 0,
        gen: 0,
        timers: Timers::default(),
        ready: Vec::with_capacity(512),
        responses: OkResponses::new(ctx.index),
        out: Vec::with_capacity(256),
        scratch: vec![0; conn::SCRATCH],
        trace: ctx.cfg.tracer.as_deref().map(|t| t.writer(ctx.index, slot)),
        stopping: false,
        timeout_ns: ctx.cfg.listen.io_timeout.as_nanos() as u64,
        now: monotonic_ns(),
    };
    lp.run()?;
    // Every path out of the loop (here, `?`, a panic) drops the writer, which writes its rows.
    match lp.trace.as_mut() {
        Some(t) => t.flush(),
        None => Ok(()),
    }
}

struct Loop<'a, E> {
    acc: E,
    ctx: &'a WorkerCtx<'a>,
    slot: &'a Slot,
    /// Open connections by token (their index here); `None`: a free place.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    /// Generation of the latest connection, so that a timer of a closed connection does not
    /// act on the next one in its place.
    gen: u32,
    timers: Timers,
    /// The connections the last wait reported ready.
    ready: Vec<u64>,
    responses: OkResponses,
    /// Where a response is formatted before it is written.
    out: Vec<u8>,
    /// Where every read lands first.
    scratch: Vec<u8>,
    trace: Option<TraceWriter<'a>>,
    stopping: bool,
    timeout_ns: u64,
    /// CLOCK_MONOTONIC when the last wait returned.
    now: u64,
}

/// What became of a connection after handling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Open,
    /// Closed normally (by the client, after `Connection: close`, or a 400).
    Done,
    /// Failed (reset, a write error, a timeout mid-request): counted in `conn_errors`.
    Failed,
}

impl<E: EventAcceptor> Loop<'_, E> {
    fn run(&mut self) -> io::Result<()> {
        let limit = self.ctx.cfg.worker_connections;
        let mut woke = monotonic_ns();
        loop {
            if !self.stopping && stop_requested() {
                self.begin_stop()?;
            }
            self.now = monotonic_ns();
            self.fire_timers()?;
            if self.stopping && self.open == 0 {
                return Ok(());
            }
            let before = monotonic_ns();
            Slot::bump(&self.slot.busy_ns, before.saturating_sub(woke));
            let timeout = self.timers.wait_ms(before);
            let load = self.load(limit);
            let listen = self.acc.wait(self.slot, load, timeout, &mut self.ready)?;
            woke = monotonic_ns();
            self.now = woke;
            let mut accepted = 0;
            if listen {
                while self.open < limit && !self.stopping {
                    let Some(s) = self.acc.accept(self.slot)? else {
                        break;
                    };
                    self.add(s)?;
                    accepted += 1;
                    if !self.acc.drains() {
                        break;
                    }
                }
            }
            let load = self.load(limit);
            self.acc.turn_done(self.slot, accepted, load)?;
            let ready = std::mem::take(&mut self.ready);
            for &t in &ready {
                let flow = self.on_ready(t as usize)?;
                self.settle(t as usize, flow);
            }
            self.ready = ready;
        }
    }

    fn load(&self, limit: usize) -> Load {
        Load {
            open: self.open,
            limit,
            accepting: !self.stopping && self.open < limit,
        }
    }

    /// Stop accepting for good; serve what the strategy had already taken.
    fn begin_stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        for s in self.acc.stop(self.slot)? {
            self.add(s)?;
        }
        Ok(())
    }

    fn epoch(&self) -> u64 {
        self.ctx.epoch.load(Ordering::Relaxed)
    }

    /// Take a new connection into the loop.
    fn add(&mut self, stream: TcpStream) -> io::Result<()> {
        let now = monotonic_ns();
        let t = match self.free.pop() {
            Some(t) => t,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        self.gen = self.gen.wrapping_add(1);
        Slot::bump(&self.slot.accepted, 1);
        self.open += 1;
        self.slot.set_open(self.open as u64, now, self.epoch());
        let fd = stream.as_raw_fd();
        let mut c = Conn::new(stream, self.gen, now, now + self.timeout_ns);
        c.traced = self.trace.as_mut().map(|w| w.on_accept(self.slot));
        self.timers.push(Timer {
            at: c.deadline,
            token: t as u32,
            gen: c.gen,
            kind: Kind::Idle,
        });
        self.conns[t] = Some(c);
        if self.acc.watch(fd, t as u64, Interest::Read).is_err() {
            self.settle(t, Flow::Failed);
        }
        Ok(())
    }

    /// Close connection `t` unless `flow` keeps it open.
    fn settle(&mut self, t: usize, flow: Flow) {
        if flow == Flow::Open {
            return;
        }
        let Some(c) = self.conns.get_mut(t).and_then(Option::take) else {
            return;
        };
        if !matches!(c.state, State::Delayed { .. }) {
            let _ = self.acc.forget(c.stream.as_raw_fd(), t as u64);
        }
        self.free.push(t);
        self.open -= 1;
        let now = monotonic_ns();
        self.slot.set_open(self.open as u64, now, self.epoch());
        if flow == Flow::Failed {
            Slot::bump(&self.slot.conn_errors, 1);
        }
        if let (Some(w), Some(a)) = (self.trace.as_mut(), c.traced) {
            if let Err(e) = w.row(a, c.accepted_ns, c.connect_ns) {
                eprintln!(
                    "herd serve: worker {}: writing the trace: {e}",
                    self.ctx.index
                );
            }
        }
        drop(c);
        crate::fault::connection_done(Slot::read(&self.slot.accepted));
    }

    fn on_ready(&mut self, t: usize) -> io::Result<Flow> {
        let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return Ok(Flow::Open); // closed earlier in this turn
        };
        match c.state {
            State::Reading => self.read_and_serve(t),
            State::Writing => match c.flush() {
                Err(_) => Ok(Flow::Failed),
                Ok(false) => {
                    c.deadline = self.now + self.timeout_ns;
                    Ok(Flow::Open)
                }
                Ok(true) => self.written(t),
            },
            // Out of the wait until its response is due: a stale event.
            State::Delayed { .. } => Ok(Flow::Open),
        }
    }

    /// Read connection `t` and answer what arrived, until a read comes back short (all there
    /// was), the connection waits for something else, or it ends.
    fn read_and_serve(&mut self, t: usize) -> io::Result<Flow> {
        loop {
            let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
                return Ok(Flow::Open);
            };
            if c.state != State::Reading {
                return Ok(Flow::Open);
            }
            let more = match c.read(&mut self.scratch) {
                Err(_) => return Ok(Flow::Failed),
                Ok(Input::Nothing) => return Ok(Flow::Open),
                Ok(Input::Eof) if c.mid_request() => return Ok(Flow::Failed),
                Ok(Input::Eof) => return Ok(Flow::Done),
                Ok(Input::Bytes { more }) => more,
            };
            c.deadline = self.now + self.timeout_ns;
            let flow = self.serve_buffered(t)?;
            if flow != Flow::Open || !more {
                return Ok(flow);
            }
        }
    }

    /// Answer every complete request in connection `t`'s buffer, in order, until one needs
    /// more bytes, is delayed, or waits for the socket to take its response.
    fn serve_buffered(&mut self, t: usize) -> io::Result<Flow> {
        let cfg = self.ctx.cfg;
        loop {
            let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
                return Ok(Flow::Open);
            };
            if c.state != State::Reading {
                return Ok(Flow::Open);
            }
            let head = match c.next_request() {
                Ok(Some(h)) => h,
                Ok(None) => return Ok(Flow::Open),
                Err(()) => {
                    Slot::bump(&self.slot.bad_requests, 1);
                    c.close_after = true;
                    return self.send(t, BAD_REQUEST, false);
                }
            };
            if c.served == 0 {
                c.connect_ns = head.connect_ns;
            }
            c.served += 1;
            let keep_alive =
                head.keep_alive && c.served < cfg.max_requests_per_conn && !self.stopping;
            if !cfg.work.is_zero() {
                burn_cpu(cfg.work);
            }
            if !cfg.sleep.is_zero() {
                let due = monotonic_ns() + cfg.sleep.as_nanos() as u64;
                c.state = State::Delayed { due, keep_alive };
                let (fd, gen) = (c.stream.as_raw_fd(), c.gen);
                self.timers.push(Timer {
                    at: due,
                    token: t as u32,
                    gen,
                    kind: Kind::Delay,
                });
                return Ok(match self.acc.unwatch(fd, t as u64) {
                    Ok(()) => Flow::Open,
                    Err(_) => Flow::Failed,
                });
            }
            match self.respond(t, keep_alive)? {
                Flow::Open => continue,
                other => return Ok(other),
            }
        }
    }

    /// Write the `200` of connection `t`'s current request.
    fn respond(&mut self, t: usize, keep_alive: bool) -> io::Result<Flow> {
        let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return Ok(Flow::Open);
        };
        self.responses
            .write(&mut self.out, c.accepted_ns, keep_alive);
        c.close_after = !keep_alive;
        let out = std::mem::take(&mut self.out);
        let flow = self.send(t, &out, true);
        self.out = out;
        flow
    }

    /// Write a response to connection `t`; `ok`: it is a `200` (counted once written).
    fn send(&mut self, t: usize, bytes: &[u8], ok: bool) -> io::Result<Flow> {
        let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return Ok(Flow::Open);
        };
        c.ok_pending = ok;
        match c.send(bytes) {
            Err(_) => Ok(Flow::Failed),
            Ok(true) => self.written(t),
            Ok(false) => {
                c.state = State::Writing;
                let fd = c.stream.as_raw_fd();
                self.rewatch(fd, t, Interest::Write)
            }
        }
    }

    /// Connection `t`'s response is all written: count it, then close or read on.
    fn written(&mut self, t: usize) -> io::Result<Flow> {
        let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return Ok(Flow::Open);
        };
        if std::mem::take(&mut c.ok_pending) {
            Slot::bump(&self.slot.requests, 1);
        }
        if c.close_after {
            return Ok(Flow::Done);
        }
        c.deadline = self.now + self.timeout_ns;
        if c.state == State::Writing {
            c.state = State::Reading;
            let fd = c.stream.as_raw_fd();
            if self.rewatch(fd, t, Interest::Read)? != Flow::Open {
                return Ok(Flow::Failed);
            }
            return self.serve_buffered(t);
        }
        Ok(Flow::Open)
    }

    fn rewatch(&mut self, fd: RawFd, t: usize, interest: Interest) -> io::Result<Flow> {
        Ok(match self.acc.rewatch(fd, t as u64, interest) {
            Ok(()) => Flow::Open,
            Err(_) => Flow::Failed,
        })
    }

    /// Act on every timer due now: delayed responses, idle deadlines.
    fn fire_timers(&mut self) -> io::Result<()> {
        let now = self.now;
        while let Some(tm) = self.timers.pop_due(now) {
            let t = tm.token as usize;
            let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
                continue;
            };
            if c.gen != tm.gen {
                continue;
            }
            let flow = match (tm.kind, c.state) {
                (Kind::Delay, State::Delayed { due, keep_alive }) if due == tm.at => {
                    c.state = State::Reading;
                    c.deadline = now + self.timeout_ns;
                    let fd = c.stream.as_raw_fd();
                    match self.acc.watch(fd, t as u64, Interest::Read) {
                        Err(_) => Flow::Failed,
                        Ok(()) => match self.respond(t, keep_alive)? {
                            Flow::Open => self.serve_buffered(t)?,
                            other => other,
                        },
                    }
                }
                (Kind::Delay, _) => Flow::Open,
                (Kind::Idle, state) => {
                    let delayed = matches!(state, State::Delayed { .. });
                    if !delayed && c.deadline <= now {
                        // Between requests, an idle keep-alive connection ends normally; in
                        // the middle of one (or before the first), the client failed.
                        if state == State::Reading && c.served > 0 && !c.mid_request() {
                            Flow::Done
                        } else {
                            Flow::Failed
                        }
                    } else {
                        let at = if delayed {
                            now + self.timeout_ns
                        } else {
                            c.deadline
                        };
                        self.timers.push(Timer { at, ..tm });
                        Flow::Open
                    }
                }
            };
            self.settle(t, flow);
        }
        Ok(())
    }
}
