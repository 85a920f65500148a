//! One client connection's state machine: connect without blocking, then `per_conn` requests in
//! turn. Every request but the last asks for keep-alive and its response ends where its head
//! says (Content-Length, the last chunk; [`super::http`] reads it); the last asks `Connection:
//! close` and is read to EOF, so the server closes first and the client never holds TIME_WAIT.
//! A keep-alive response that says `Connection: close` (a stopping server, its request limit)
//! ends the connection there, normally; the engine starts the next one. A long-lived connection ([`Conn::long_lived`]) rests between
//! requests until the engine resumes it at its next tick. Measurements go straight into the
//! thread's [`Stats`]: nothing is kept per request.
use super::http::{Expect, Fault, Reader, Response};
use super::stats::{ErrorKind, Stats};
use crate::sys::clock::monotonic_ns;
use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// The request bytes a phase sends.
pub struct Requests {
    pub keep_alive: Vec<u8>,
    pub close: Vec<u8>,
    /// Requests per connection (at least 1).
    pub per_conn: u32,
    /// The response header naming the worker, when `--worker-header` asks for one.
    pub worker_header: Option<String>,
    /// The server runs on this host, so its `X-Herd-Accept-Ns` (its CLOCK_MONOTONIC) can be
    /// compared with the client's: only then is an accept delay recorded.
    pub same_clock: bool,
    /// The method is `HEAD`: responses have no body.
    pub head_request: bool,
}

enum State {
    Connecting,
    Writing(usize),
    Reading,
    /// Long-lived, between requests: waiting for the engine's [`Conn::resume`].
    Idle,
}

pub struct Conn {
    pub stream: TcpStream,
    state: State,
    /// When the schedule meant this connection to start (closed loop: when it did). The first
    /// request's corrected latency counts from here.
    t_intended: u64,
    /// The connect() call: the first request's raw latency and the accept delay count from here.
    t_start: u64,
    /// When the current request was sent (the first: `t_start`).
    t_req: u64,
    /// Requests completed on this connection.
    done: u32,
    pub deadline: u64,
    /// Long-lived: requests are sent at ticks, not back to back (see `long_last`, `t_due`).
    long: bool,
    /// Long-lived: the current request is the phase's last for this connection (it asks
    /// `Connection: close`).
    long_last: bool,
    /// Long-lived: the current request's intended time (its tick); latency counts from it.
    pub t_due: u64,
    /// Long-lived, resting: the tick the engine will resume it at.
    pub next_due: u64,
    timeout_ns: u64,
    /// The current response, as far as it has come.
    reader: Reader,
}

/// What an event did to a connection.
pub enum Step {
    /// Waiting for the socket.
    Pending,
    /// The last response is complete: the connection is done.
    Finished,
    /// Long-lived: a response is complete and the connection rests until its next tick.
    Idle,
}

impl Requests {
    /// The bytes of a connection's first request.
    pub fn first(&self) -> &[u8] {
        if self.per_conn <= 1 {
            &self.close
        } else {
            &self.keep_alive
        }
    }
}

impl Conn {
    pub fn new(stream: TcpStream, t_intended: u64, t_start: u64, deadline: u64) -> Self {
        Conn {
            stream,
            state: State::Connecting,
            t_intended: t_intended.min(t_start),
            t_start,
            t_req: t_start,
            done: 0,
            deadline,
            long: false,
            long_last: false,
            t_due: t_intended.min(t_start),
            next_due: 0,
            timeout_ns: deadline.saturating_sub(t_start),
            reader: Reader::default(),
        }
    }

    /// Make this a long-lived connection; `last`: its first request is already the last.
    pub fn long_lived(mut self, last: bool) -> Self {
        self.long = true;
        self.long_last = last;
        self
    }

    /// Long-lived: send the next request now, meant for `due`; `last`: it is the last one.
    pub fn resume(&mut self, due: u64, last: bool, now: u64) {
        self.t_due = due;
        self.t_req = now;
        self.long_last = last;
        self.deadline = now.saturating_add(self.timeout_ns);
        self.state = State::Writing(0);
    }

    /// Long-lived: whether it rests between requests.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// Whether the current request is the connection's last.
    fn last(&self, req: &Requests) -> bool {
        if self.long {
            self.long_last
        } else {
            self.done + 1 >= req.per_conn
        }
    }

    /// The bytes of the current request: `first` (carrying `X-Herd-Connect-Ns`) for the first,
    /// else keep-alive or, for the last, close.
    fn request<'r>(&self, req: &'r Requests, first: Option<&'r [u8]>) -> &'r [u8] {
        match first {
            Some(f) if self.done == 0 => f,
            _ if self.last(req) => &req.close,
            _ => &req.keep_alive,
        }
    }

    /// The connect() call's time.
    pub fn t_start(&self) -> u64 {
        self.t_start
    }

    /// Move as far as the socket allows, recording what completes into `stats`.
    /// `first`, when given, replaces the first request's bytes (it carries this connection's
    /// `X-Herd-Connect-Ns`).
    pub fn advance(
        &mut self,
        buf: &mut Vec<u8>,
        req: &Requests,
        first: Option<&[u8]>,
        stats: &mut Stats,
    ) -> Result<Step, ErrorKind> {
        let io_err = |e: io::Error| ErrorKind::from_io(&e);
        if let State::Idle = self.state {
            return self.while_idle();
        }
        if let State::Connecting = self.state {
            // The first write says whether the connection is up, so no getsockopt(SO_ERROR)
            // or getpeername() is spent per connection: on a non-blocking TCP socket still in
            // its handshake it fails with EAGAIN, and on a failed one with the connect error
            // (ECONNREFUSED, ...), see sk_stream_wait_connect() in net/core/stream.c.
            let request = self.request(req, first);
            match self.stream.write(request) {
                Ok(n) => {
                    stats.record_connect(monotonic_ns().saturating_sub(self.t_start));
                    self.state = State::Writing(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) =>
                {
                    return Ok(Step::Pending)
                }
                Err(e) => return Err(io_err(e)),
            }
        }
        loop {
            let last = self.last(req);
            let request = self.request(req, first);
            if let State::Writing(mut off) = self.state {
                while off < request.len() {
                    match self.stream.write(&request[off..]) {
                        Ok(n) => off += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            self.state = State::Writing(off);
                            return Ok(Step::Pending);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(io_err(e)),
                    }
                }
                self.state = State::Reading;
                // The response cannot be there yet; its arrival is a new edge.
                return Ok(Step::Pending);
            }
            let expect = Expect {
                worker_header: req.worker_header.as_deref(),
                head_request: req.head_request,
            };
            let Some(resp) = self.read_response(buf, last, &expect)? else {
                return Ok(Step::Pending);
            };
            self.reader = Reader::default();
            self.record(resp, req.same_clock, stats);
            if last || resp.close {
                stats.conns_ok += 1;
                return Ok(Step::Finished);
            }
            buf.clear();
            if self.long {
                self.state = State::Idle;
                self.deadline = u64::MAX;
                return Ok(Step::Idle);
            }
            self.t_req = monotonic_ns();
            self.state = State::Writing(0);
        }
    }

    /// Long-lived, between requests: the server may close the connection (its idle timeout, a
    /// stopping worker), which ends it normally; anything it sends unasked is a bad response.
    fn while_idle(&mut self) -> Result<Step, ErrorKind> {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => Ok(Step::Finished),
            Ok(_) => Err(ErrorKind::BadResponse),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(Step::Pending)
            }
            Err(e) => Err(ErrorKind::from_io(&e)),
        }
    }

    /// Read what is there; `Some` once the current response is complete and good. Bytes are
    /// parsed as they come (a body is counted and dropped, not kept); the last response of a
    /// connection is complete only at the server's close.
    fn read_response(
        &mut self,
        buf: &mut Vec<u8>,
        last: bool,
        expect: &Expect<'_>,
    ) -> Result<Option<Response>, ErrorKind> {
        let fault = |f: Fault| match f {
            Fault::Bad => ErrorKind::BadResponse,
            Fault::Short => ErrorKind::ShortResponse,
        };
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return self.reader.finish(buf, expect).map(Some).map_err(fault),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(r) = self.reader.feed(buf, expect).map_err(fault)? {
                        // Nothing was pipelined, so nothing may follow the response.
                        if !buf.is_empty() {
                            return Err(ErrorKind::BadResponse);
                        }
                        if !last {
                            return Ok(Some(r));
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ErrorKind::from_io(&e)),
            }
        }
    }

    fn record(&mut self, resp: Response, same_clock: bool, s: &mut Stats) {
        let now = monotonic_ns();
        let first = self.done == 0;
        self.done += 1;
        s.ok += 1;
        s.count_status(resp.status);
        // Later requests on a connection are sent as soon as the previous response is in, so
        // their intended start is their actual one.
        let from = if self.long {
            self.t_due
        } else if first {
            self.t_intended
        } else {
            self.t_req
        };
        s.record_latency(now.saturating_sub(from), now.saturating_sub(self.t_req));
        if first {
            if let Some(w) = resp.worker {
                s.count_worker(w);
            }
            if let Some(id) = resp.worker_id {
                *s.per_worker_id.entry(id).or_insert(0) += 1;
            }
            if let Some(d) = accept_delay(same_clock, resp.accept_ns, self.t_start) {
                s.record_accept(resp.worker, d);
            }
        }
    }
}

/// The accept delay of a connection started at `t_start` (client clock) and accepted at
/// `accept_ns` (the server's clock, from `X-Herd-Accept-Ns`): only when both clocks are this
/// host's CLOCK_MONOTONIC. Across hosts the difference of two unrelated clocks is no delay.
fn accept_delay(same_clock: bool, accept_ns: Option<u64>, t_start: u64) -> Option<u64> {
    accept_ns
        .filter(|_| same_clock)
        .map(|a| a.saturating_sub(t_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accept_time_from_another_host_is_no_accept_delay() {
        assert_eq!(accept_delay(true, Some(1_500), 1_000), Some(500));
        assert_eq!(accept_delay(false, Some(1_500), 1_000), None);
        assert_eq!(accept_delay(true, None, 1_000), None);
    }
}
