//! Serving one connection of the event loop: reading what arrived, answering each complete
//! request in order (a 400 for a bad one), writing the response or keeping what the socket did
//! not take, and going back to reading, closing, or waiting on a delayed response's timer.
use super::conn::{Input, State};
use super::timers::{Kind, Timer};
use super::{Flow, Loop};
use crate::metrics::Slot;
use crate::server::http::BAD_REQUEST;
use crate::strategy::event::{EventAcceptor, Interest};
use crate::sys::clock::{burn_cpu, monotonic_ns};
use std::io;
use std::os::fd::{AsRawFd, RawFd};

impl<E: EventAcceptor> Loop<'_, E> {
    pub(super) fn on_ready(&mut self, t: usize) -> io::Result<Flow> {
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
            // A request has --read-timeout from its first byte to arrive whole: a client that
            // trickles it (slowloris) does not push the deadline on with every byte.
            let was_mid = c.mid_request();
            let more = match c.read(&mut self.scratch) {
                Err(_) => return Ok(Flow::Failed),
                Ok(Input::Nothing) => return Ok(Flow::Open),
                Ok(Input::Eof) if c.mid_request() => return Ok(Flow::Failed),
                Ok(Input::Eof) => return Ok(Flow::Done),
                Ok(Input::Bytes { more }) => more,
            };
            if !was_mid {
                c.deadline = self.now + self.timeout_ns;
            }
            let flow = self.serve_buffered(t)?;
            if flow != Flow::Open || !more {
                return Ok(flow);
            }
        }
    }

    /// Answer every complete request in connection `t`'s buffer, in order, until one needs
    /// more bytes, is delayed, or waits for the socket to take its response.
    pub(super) fn serve_buffered(&mut self, t: usize) -> io::Result<Flow> {
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
            c.head_request = head.head_request;
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
    pub(super) fn respond(&mut self, t: usize, keep_alive: bool) -> io::Result<Flow> {
        let Some(c) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return Ok(Flow::Open);
        };
        self.responses
            .write(&mut self.out, c.accepted_ns, keep_alive, c.head_request);
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
}
