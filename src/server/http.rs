//! Just enough HTTP/1.1 to be a real server for any client (curl, wrk, herd's own): read a
//! request head (and a Content-Length body), answer `200 OK`, honour keep-alive. Malformed or
//! oversized requests get `400` and a close.
//!
//! Every response names the worker and its accept time, which herd's client uses for the
//! accept-queue delay and the per-worker view:
//! `X-Herd-Worker: <index>` and `X-Herd-Accept-Ns: <CLOCK_MONOTONIC ns>`.
//!
//! A request may carry the client's connect time, `X-Herd-Connect-Ns: <CLOCK_MONOTONIC ns>`
//! (optional; herd's client sends it when tracing), which `--trace` turns into the
//! accept-queue delay.
use crate::protocol::{ACCEPT_NS_HEADER, CONNECT_NS_HEADER, WORKER_HEADER};
use std::io::{self, Read, Write};

/// Largest request head accepted.
pub const MAX_HEAD: usize = 8192;
/// Largest request body accepted (and discarded).
pub const MAX_BODY: u64 = 1 << 20;

/// A parsed request head: what the server needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The client wants the connection kept open afterwards.
    pub keep_alive: bool,
    pub content_length: u64,
    /// `X-Herd-Connect-Ns`, when the client sent a valid one.
    pub connect_ns: Option<u64>,
    /// A `HEAD` request: the response has the head a `GET` would get, and no body (RFC 9110
    /// 9.3.2).
    pub head_request: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    Malformed,
    TooLarge,
}

/// The first `\r\n` in `buf`.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'\r', &buf[from..]) {
        let at = from + p;
        if buf.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Position just past the blank line ending the head in `buf`, if it is complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = find_crlf(&buf[from..]) {
        let at = from + p;
        if buf[at + 2..].starts_with(b"\r\n") {
            return Some(at + 4);
        }
        from = at + 2;
    }
    None
}

/// The lines of `buf`, split at each `\r\n` (as `str::split("\r\n")`).
fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(buf);
    std::iter::from_fn(move || {
        let r = rest?;
        match find_crlf(r) {
            Some(p) => {
                rest = Some(&r[p + 2..]);
                Some(&r[..p])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Parse a complete request head (`buf` ends at the blank line). Byte-wise (the event loop
/// parses one head per request), with the same result as splitting the UTF-8 text.
pub fn parse_head(buf: &[u8]) -> Result<Head, ParseError> {
    std::str::from_utf8(buf).map_err(|_| ParseError::Malformed)?;
    // NUL is never valid in a request head (RFC 9110 5.5: reject or replace; herd rejects).
    if memchr::memchr(0, buf).is_some() {
        return Err(ParseError::Malformed);
    }
    let mut lines = lines(buf);
    let mut parts = lines.next().unwrap_or(b"").split(|&b| b == b' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version), None) = (method, target, version, parts.next())
    else {
        return Err(ParseError::Malformed);
    };
    if method.is_empty() || !method.iter().all(|b| b.is_ascii_uppercase()) || target.is_empty() {
        return Err(ParseError::Malformed);
    }
    let mut keep_alive = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Err(ParseError::Malformed),
    };
    let mut content_length = 0;
    let mut connect_ns = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let colon = memchr::memchr(b':', line).ok_or(ParseError::Malformed)?;
        let name = &line[..colon];
        let wanted = [
            &b"connection"[..],
            b"content-length",
            b"transfer-encoding",
            CONNECT_NS_HEADER.as_bytes(),
        ];
        if !wanted.iter().any(|w| name.eq_ignore_ascii_case(w)) {
            continue;
        }
        // The head is valid UTF-8 and ':' is ASCII, so the value is too.
        let value = std::str::from_utf8(&line[colon + 1..])
            .map_err(|_| ParseError::Malformed)?
            .trim();
        let name = std::str::from_utf8(name).map_err(|_| ParseError::Malformed)?;
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| ParseError::Malformed)?;
            if content_length > MAX_BODY {
                return Err(ParseError::TooLarge);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are not supported by this minimal server.
            return Err(ParseError::Malformed);
        } else if name.eq_ignore_ascii_case(CONNECT_NS_HEADER) {
            // Optional and informational: a bad value is ignored, not a bad request.
            connect_ns = value.parse().ok();
        }
    }
    Ok(Head {
        keep_alive,
        content_length,
        connect_ns,
        head_request: method == b"HEAD",
    })
}

/// Write a `200 OK` (body `ok\n`, none for a `HEAD` request) into `out`.
pub fn ok_response(out: &mut Vec<u8>, worker: usize, accept_ns: u64, keep_alive: bool, head: bool) {
    out.clear();
    let conn = if keep_alive { "keep-alive" } else { "close" };
    let body = if head { "" } else { "ok\n" };
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: {conn}\r\n{WORKER_HEADER}: {worker}\r\n{ACCEPT_NS_HEADER}: {accept_ns}\r\n\r\n{body}"
    );
}

/// [`ok_response`] for one worker, with everything but the accept time formatted once: the
/// event loop writes one per request, and the bytes stay exactly those of `ok_response`.
pub struct OkResponses {
    /// Everything up to the accept time's value, for keep-alive and for close.
    keep_alive: Vec<u8>,
    close: Vec<u8>,
}

impl OkResponses {
    pub fn new(worker: usize) -> Self {
        let prefix = |conn: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: {conn}\r\n{WORKER_HEADER}: {worker}\r\n{ACCEPT_NS_HEADER}: "
            )
            .into_bytes()
        };
        OkResponses {
            keep_alive: prefix("keep-alive"),
            close: prefix("close"),
        }
    }

    /// Write the response into `out` (cleared first); `head`: to a `HEAD` request, no body.
    pub fn write(&self, out: &mut Vec<u8>, accept_ns: u64, keep_alive: bool, head: bool) {
        out.clear();
        out.extend_from_slice(if keep_alive {
            &self.keep_alive
        } else {
            &self.close
        });
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = accept_ns;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(&digits[i..]);
        out.extend_from_slice(if head { b"\r\n\r\n" } else { b"\r\n\r\nok\n" });
    }
}

pub const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbad request\n";

/// Reads requests from a stream into a reusable buffer, with leftovers kept for pipelining.
///
/// A request must arrive whole (head and body) within `limit` of its first byte, checked after
/// every read: a client that trickles a byte at a time (slowloris) cannot hold a worker for
/// more than `limit` plus one read timeout. The buffer never grows past [`MAX_HEAD`] and no
/// read asks for more than the room left in it, or the body bytes still due.
pub struct RequestReader<'b> {
    buf: &'b mut Vec<u8>,
    filled: usize,
    limit: Option<std::time::Duration>,
    /// When the first byte of the request being read arrived.
    started: Option<std::time::Instant>,
}

pub enum Next {
    Request(Head),
    /// The client closed between requests.
    Closed,
    Bad,
}

impl<'b> RequestReader<'b> {
    pub fn new(buf: &'b mut Vec<u8>) -> Self {
        buf.resize(MAX_HEAD, 0);
        RequestReader {
            buf,
            filled: 0,
            limit: None,
            started: None,
        }
    }

    /// Give each request at most `limit` from its first byte to its last.
    pub fn with_limit(mut self, limit: std::time::Duration) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Read the next request head, and discard its body.
    pub fn next<S: Read>(&mut self, s: &mut S) -> io::Result<Next> {
        self.started = (self.filled > 0).then(std::time::Instant::now);
        loop {
            if let Some(end) = head_end(&self.buf[..self.filled]) {
                let head = match parse_head(&self.buf[..end]) {
                    Ok(h) => h,
                    Err(_) => return Ok(Next::Bad),
                };
                self.consume(end);
                self.skip_body(s, head.content_length)?;
                return Ok(Next::Request(head));
            }
            if self.filled == self.buf.len() {
                return Ok(Next::Bad);
            }
            match s.read(&mut self.buf[self.filled..]) {
                Ok(0) if self.filled == 0 => return Ok(Next::Closed),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.filled += n;
                    self.check_limit()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// After a read: start the request's clock at its first byte; fail once it is over.
    fn check_limit(&mut self) -> io::Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        if started.elapsed() > limit {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request did not arrive whole within --read-timeout",
            ));
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    fn skip_body<S: Read>(&mut self, s: &mut S, mut left: u64) -> io::Result<()> {
        let have = (self.filled as u64).min(left) as usize;
        self.consume(have);
        left -= have as u64;
        let mut sink = [0u8; 4096];
        while left > 0 {
            let want = (left as usize).min(sink.len());
            match s.read(&mut sink[..want]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    left -= n as u64;
                    self.check_limit()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keep_alive_and_close() {
        let h = parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(h.keep_alive);
        let h = parse_head(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = parse_head(b"POST /x HTTP/1.1\r\ncontent-length: 5\r\n\r\n").unwrap();
        assert_eq!(h.content_length, 5);
        assert_eq!(h.connect_ns, None);
        let h = parse_head(b"GET / HTTP/1.1\r\nX-Herd-Connect-Ns: 123\r\n\r\n").unwrap();
        assert_eq!(h.connect_ns, Some(123));
        let h = parse_head(b"GET / HTTP/1.1\r\nx-herd-connect-ns: soon\r\n\r\n").unwrap();
        assert_eq!(h.connect_ns, None);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_head(b"hello\r\n\r\n"), Err(ParseError::Malformed));
        assert_eq!(
            parse_head(b"GET / HTTP/2.0\r\n\r\n"),
            Err(ParseError::Malformed)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"),
            Err(ParseError::Malformed)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            Err(ParseError::TooLarge)
        );
    }

    #[test]
    fn reader_handles_pipelining_and_bodies() {
        let data = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        let mut src: &[u8] = data;
        let mut buf = Vec::new();
        let mut r = RequestReader::new(&mut buf);
        assert!(matches!(
            r.next(&mut src).unwrap(),
            Next::Request(Head {
                keep_alive: true,
                ..
            })
        ));
        assert!(matches!(
            r.next(&mut src).unwrap(),
            Next::Request(Head {
                keep_alive: false,
                ..
            })
        ));
        assert!(matches!(r.next(&mut src).unwrap(), Next::Closed));
    }

    #[test]
    fn oversized_head_is_bad() {
        let mut data = b"GET / HTTP/1.1\r\nX: ".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        let mut src: &[u8] = &data;
        let mut buf = Vec::new();
        let mut r = RequestReader::new(&mut buf);
        assert!(matches!(r.next(&mut src).unwrap(), Next::Bad));
    }

    #[test]
    fn preformatted_responses_are_the_same_bytes() {
        let r = OkResponses::new(13);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for ns in [0, 7, 10, 1_234_567_890_123, u64::MAX] {
            for (ka, head) in [(true, false), (false, false), (true, true), (false, true)] {
                ok_response(&mut a, 13, ns, ka, head);
                r.write(&mut b, ns, ka, head);
                assert_eq!(a, b);
                assert_eq!(a.ends_with(b"\r\n\r\nok\n"), !head);
            }
        }
    }

    #[test]
    fn byte_parser_keeps_the_text_parsers_edges() {
        // A bare LF is not a line end; a header without a colon is malformed; values are
        // trimmed; unknown headers are skipped; non-UTF-8 is malformed.
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\nHost: x\r\n\r\n"),
            Err(ParseError::Malformed)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nX-Other: \xff\r\n\r\n"),
            Err(ParseError::Malformed)
        );
        let h = parse_head(b"GET / HTTP/1.1\r\nX-A: b:c\r\nCONNECTION:\t close \r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        assert_eq!(
            parse_head(b"GET  / HTTP/1.1\r\n\r\n"),
            Err(ParseError::Malformed)
        );
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"a\r\r\n\r\n"), Some(6));
        assert_eq!(head_end(b"a\r\nb\r\n\r\r\n\r\n"), Some(11));
        assert_eq!(head_end(b"\r\n\r\n"), Some(4));
    }
}
