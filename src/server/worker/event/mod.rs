//! The event worker (nginx, Node's cluster, uvicorn): one non-blocking loop over the listener,
//! as the strategy registers it, and up to `--worker-connections` open connections. Each turn
//! the loop fires its due timers, sleeps in the strategy's wait, accepts what the listener
//! reports (up to `--accepts-per-wakeup`, once by default), lets the strategy end its turn (the
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
mod requests;
mod timers;

use super::WorkerCtx;
use crate::metrics::Slot;
use crate::server::http::OkResponses;
use crate::server::trace::TraceWriter;
use crate::strategy::event::{EventAcceptor, Interest, Load};
use crate::sys::clock::monotonic_ns;
use crate::sys::signal::stop_requested;
use conn::{Conn, State};
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
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
                let per_wakeup = self.acc.per_wakeup();
                while self.open < limit && !self.stopping && per_wakeup.more_after(accepted) {
                    let Some(s) = self.acc.accept(self.slot)? else {
                        break;
                    };
                    self.add(s)?;
                    accepted += 1;
                }
            }
            let load = self.load(limit);
            self.acc.turn_done(self.slot, accepted as usize, load)?;
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
        self.acc.closed();
        crate::fault::connection_done(Slot::read(&self.slot.accepted));
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
