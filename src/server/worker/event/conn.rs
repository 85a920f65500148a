//! One connection of an event worker: the bytes it has received and not yet used, the body
//! bytes still to skip, the part of a response the socket did not take, and where it is in its
//! request cycle. Nothing here blocks; the loop decides what to do with each outcome.
use crate::server::http::{self, Head, MAX_HEAD};
use crate::server::trace::Accepted;
use std::io::{self, Read, Write};
use std::net::TcpStream;

/// The size of the loop's read buffer.
pub(super) const SCRATCH: usize = MAX_HEAD;

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Waiting for (the rest of) a request; watched for reading.
    Reading,
    /// A request whose response waits until `due` (`--sleep-us`: an upstream call). The
    /// connection is out of the wait meanwhile; the loop serves the others.
    Delayed { due: u64, keep_alive: bool },
    /// Part of a response is still to be written; watched for writing.
    Writing,
}

pub(super) struct Conn {
    pub stream: TcpStream,
    /// Tells this connection's timers from those of an earlier connection in the same place.
    pub gen: u32,
    pub state: State,
    /// Received and not yet used: a partial request head, or pipelined requests.
    buf: Vec<u8>,
    /// Body bytes of the current request still to arrive and be discarded.
    skip: u64,
    /// The part of a response the socket did not take.
    unsent: Vec<u8>,
    /// CLOCK_MONOTONIC when accept() returned (the `X-Herd-Accept-Ns` of every response).
    pub accepted_ns: u64,
    /// Requests answered.
    pub served: u32,
    /// Close once the current response is written (`Connection: close`, or a 400).
    pub close_after: bool,
    /// The response being written is a `200` (counted in `requests` once written).
    pub ok_pending: bool,
    /// The connection is closed if nothing is read or written before this time
    /// (`--read-timeout` after its last progress).
    pub deadline: u64,
    /// The trace's record of the accept, when tracing.
    pub traced: Option<Accepted>,
    /// The first request's `X-Herd-Connect-Ns`.
    pub connect_ns: Option<u64>,
    /// The current request is a `HEAD`: its response has no body.
    pub head_request: bool,
}

/// What a read brought.
pub(super) enum Input {
    /// Some bytes (possibly only body bytes that were skipped); `more`: the read filled the
    /// room it had, so more may be waiting (an edge-triggered wait will not say so again).
    Bytes { more: bool },
    /// The peer closed its side.
    Eof,
    /// Nothing there now.
    Nothing,
}

impl Conn {
    pub fn new(stream: TcpStream, gen: u32, accepted_ns: u64, deadline: u64) -> Self {
        Conn {
            stream,
            gen,
            state: State::Reading,
            buf: Vec::new(),
            skip: 0,
            unsent: Vec::new(),
            accepted_ns,
            served: 0,
            close_after: false,
            ok_pending: false,
            deadline,
            traced: None,
            connect_ns: None,
            head_request: false,
        }
    }

    /// Whether part of a request has arrived (a close or a timeout now loses it).
    pub fn mid_request(&self) -> bool {
        !self.buf.is_empty() || self.skip > 0
    }

    /// One read(2), through the loop's `scratch` buffer (so that a connection holds no
    /// buffer of its own beyond the bytes it has not used yet); body bytes being skipped are
    /// discarded.
    pub fn read(&mut self, scratch: &mut [u8]) -> io::Result<Input> {
        let room = MAX_HEAD
            .saturating_sub(self.buf.len())
            .clamp(1, scratch.len().max(1));
        let n = match (&self.stream).read(&mut scratch[..room]) {
            Ok(0) => return Ok(Input::Eof),
            Ok(n) => n,
            Err(e) => {
                return match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Input::Nothing),
                    _ => Err(e),
                };
            }
        };
        let mut data = &scratch[..n];
        if self.skip > 0 {
            let k = (self.skip as usize).min(data.len());
            data = &data[k..];
            self.skip -= k as u64;
        }
        self.buf.extend_from_slice(data);
        Ok(Input::Bytes { more: n == room })
    }

    /// The next complete request head in the buffer, consumed with what has arrived of its
    /// body (the rest is skipped as it arrives). `Ok(None)`: more bytes are needed. `Err`: a
    /// malformed or oversized request (answer 400 and close).
    pub fn next_request(&mut self) -> Result<Option<Head>, ()> {
        if self.skip > 0 {
            return Ok(None);
        }
        let Some(end) = http::head_end(&self.buf) else {
            return if self.buf.len() >= MAX_HEAD {
                Err(())
            } else {
                Ok(None)
            };
        };
        let head = http::parse_head(&self.buf[..end]).map_err(drop)?;
        let here = (head.content_length).min((self.buf.len() - end) as u64);
        self.buf.drain(..end + here as usize);
        self.skip = head.content_length - here;
        Ok(Some(head))
    }

    /// Write `out`; keep what the socket did not take. `Ok(true)`: all written.
    pub fn send(&mut self, out: &[u8]) -> io::Result<bool> {
        let n = write_some(&self.stream, out)?;
        if n < out.len() {
            self.unsent.clear();
            self.unsent.extend_from_slice(&out[n..]);
            return Ok(false);
        }
        Ok(true)
    }

    /// Write what is left of the response. `Ok(true)`: all written.
    pub fn flush(&mut self) -> io::Result<bool> {
        let n = write_some(&self.stream, &self.unsent)?;
        self.unsent.drain(..n);
        Ok(self.unsent.is_empty())
    }
}

/// Write as much of `out` as the socket takes now.
fn write_some(mut s: &TcpStream, out: &[u8]) -> io::Result<usize> {
    let mut off = 0;
    while off < out.len() {
        match s.write(&out[off..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (TcpStream, TcpStream) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        (c, s)
    }

    fn read_all(c: &mut Conn) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < end {
            if let Input::Nothing = c.read(&mut [0u8; SCRATCH]).unwrap() {
                if c.mid_request() {
                    return;
                }
            }
        }
    }

    #[test]
    fn requests_split_pipelined_and_with_bodies() {
        let (mut client, server) = pair();
        let mut c = Conn::new(server, 1, 0, 0);
        assert!(matches!(
            c.read(&mut [0u8; SCRATCH]).unwrap(),
            Input::Nothing
        ));
        client.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
        read_all(&mut c);
        assert_eq!(c.next_request(), Ok(None));
        client
            .write_all(b"st: x\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
            .unwrap();
        read_all(&mut c);
        assert!(c.next_request().unwrap().unwrap().keep_alive);
        let post = c.next_request().unwrap().unwrap();
        assert_eq!(post.content_length, 5);
        assert!(!c.mid_request() || c.skip == 3);
        client
            .write_all(b"cdeGET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        read_all(&mut c);
        assert!(!c.next_request().unwrap().unwrap().keep_alive);
        assert!(!c.mid_request());
        drop(client);
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !matches!(c.read(&mut [0u8; SCRATCH]).unwrap(), Input::Eof) {
            assert!(std::time::Instant::now() < end);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// The event loop's parser, fed arbitrary bytes in arbitrary chunks through a real
        /// socket, answers as the sync reader does (same requests, a 400 at the same place).
        #[test]
        fn the_event_parser_agrees_with_the_sync_one(
            (data, sizes) in crate::server::http_props::input()
        ) {
            use crate::server::http_props::{reference, Outcome};
            let (mut client, server) = pair();
            let mut c = Conn::new(server, 1, 0, 0);
            let mut scratch = vec![0u8; SCRATCH];
            let mut got = Vec::new();
            let (mut off, mut i) = (0, 0);
            let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
            'feed: loop {
                proptest::prop_assert!(std::time::Instant::now() < end, "no end");
                if off < data.len() {
                    let n = sizes[i % sizes.len()].min(data.len() - off);
                    client.write_all(&data[off..off + n]).unwrap();
                    off += n;
                    i += 1;
                } else if off == data.len() {
                    client.shutdown(std::net::Shutdown::Write).unwrap();
                    off += 1;
                }
                loop {
                    let input = c.read(&mut scratch).unwrap();
                    loop {
                        match c.next_request() {
                            Ok(Some(h)) => got.push(Outcome::Request(h)),
                            Ok(None) => break,
                            Err(()) => {
                                got.push(Outcome::Bad);
                                break 'feed;
                            }
                        }
                    }
                    match input {
                        Input::Bytes { .. } => {}
                        Input::Nothing => break,
                        Input::Eof => {
                            got.push(if c.mid_request() { Outcome::Cut } else { Outcome::Closed });
                            break 'feed;
                        }
                    }
                }
            }
            proptest::prop_assert_eq!(got, reference(&data));
            proptest::prop_assert!(c.buf.len() <= MAX_HEAD, "buffer {} bytes", c.buf.len());
        }
    }

    #[test]
    fn garbage_and_oversized_heads_are_bad() {
        let (mut client, server) = pair();
        let mut c = Conn::new(server, 1, 0, 0);
        client.write_all(b"hello\r\n\r\n").unwrap();
        read_all(&mut c);
        assert_eq!(c.next_request(), Err(()));
        let (mut client, server) = pair();
        let mut c = Conn::new(server, 1, 0, 0);
        client.write_all(&vec![b'a'; MAX_HEAD + 10]).unwrap();
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while c.buf.len() < MAX_HEAD {
            c.read(&mut [0u8; SCRATCH]).unwrap();
            assert!(std::time::Instant::now() < end);
        }
        assert_eq!(c.next_request(), Err(()));
    }
}
