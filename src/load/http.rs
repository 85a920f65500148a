//! The client's side of HTTP/1.1: the request it sends and the response it checks.
use crate::protocol::{ACCEPT_NS_HEADER, CONNECT_NS_HEADER, WORKER_HEADER};
use std::io::Write;

/// A GET request for `path` on `host`, closing the connection after the response unless
/// `keep_alive`.
pub fn request(host: &str, path: &str, keep_alive: bool) -> Vec<u8> {
    let conn = if keep_alive { "keep-alive" } else { "close" };
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: herd\r\nConnection: {conn}\r\n\r\n")
        .into_bytes()
}

/// `request` (a complete head, no body) with `X-Herd-Connect-Ns: connect_ns` added, into `out`.
pub fn with_connect_ns(out: &mut Vec<u8>, request: &[u8], connect_ns: u64) {
    out.clear();
    out.extend_from_slice(request.strip_suffix(b"\r\n").unwrap_or(request));
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{CONNECT_NS_HEADER}: {connect_ns}\r\n\r\n");
}

/// What a good response told us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Response {
    /// Bytes the whole response takes (head and body).
    pub len: usize,
    /// `X-Herd-Worker`, when the server is `herd serve`.
    pub worker: Option<usize>,
    /// `X-Herd-Accept-Ns`, when the server is `herd serve`.
    pub accept_ns: Option<u64>,
    /// The numeric value of the header `herd load --worker-header` names (a PID or an index).
    pub worker_id: Option<u64>,
    /// `Connection: close`: the server closes after this response (a keep-alive connection
    /// it ends early: a stopping worker, its request limit).
    pub close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    Complete(Response),
    /// Not a `200`, or not HTTP.
    Bad,
}

/// Parse the response at the start of `buf`. `eof`: the server has closed, so a response
/// without Content-Length ends here.
pub fn parse_response(buf: &[u8], eof: bool) -> Parsed {
    parse_response_naming(buf, eof, None)
}

/// [`parse_response`], also reading the header `worker_header` (when given) into `worker_id`.
pub fn parse_response_naming(buf: &[u8], eof: bool, worker_header: Option<&str>) -> Parsed {
    // Bytes that cannot begin a response are bad at once, not a short response at EOF.
    if !b"HTTP/".starts_with(&buf[..buf.len().min(5)]) {
        return Parsed::Bad;
    }
    let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else {
        return Parsed::Incomplete;
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_len]) else {
        return Parsed::Bad;
    };
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !(status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200")) {
        return Parsed::Bad;
    }
    let mut resp = Response::default();
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) => content_length = Some(n),
                Err(_) => return Parsed::Bad,
            }
        } else if name.eq_ignore_ascii_case(WORKER_HEADER) {
            resp.worker = value.parse().ok();
        } else if name.eq_ignore_ascii_case(ACCEPT_NS_HEADER) {
            resp.accept_ns = value.parse().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            resp.close = value.eq_ignore_ascii_case("close");
        }
        if worker_header.is_some_and(|h| name.trim().eq_ignore_ascii_case(h)) {
            resp.worker_id = value.parse().ok();
        }
    }
    match content_length {
        Some(n) if buf.len() >= head_len + n => {
            resp.len = head_len + n;
            Parsed::Complete(resp)
        }
        Some(_) => Parsed::Incomplete,
        None if eof => {
            resp.len = buf.len();
            Parsed::Complete(resp)
        }
        None => Parsed::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_herd_headers() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Herd-Worker: 7\r\nX-Herd-Accept-Ns: 42\r\n\r\nok\n";
        let Parsed::Complete(resp) = parse_response(r, false) else {
            panic!()
        };
        assert_eq!(
            resp,
            Response {
                len: r.len(),
                worker: Some(7),
                accept_ns: Some(42),
                worker_id: None,
                close: false,
            }
        );
        let Parsed::Complete(named) = parse_response_naming(r, false, Some("x-herd-worker")) else {
            panic!()
        };
        assert_eq!(named.worker_id, Some(7));
        let pid = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pid: 4242\r\n\r\n";
        let Parsed::Complete(p) = parse_response_naming(pid, false, Some("X-Pid")) else {
            panic!()
        };
        assert_eq!((p.worker, p.worker_id), (None, Some(4242)));
        assert_eq!(parse_response(&r[..r.len() - 1], false), Parsed::Incomplete);
        let c = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert!(matches!(
            parse_response(c, false),
            Parsed::Complete(Response { close: true, .. })
        ));
    }

    #[test]
    fn connect_ns_header_ends_the_head() {
        let mut out = Vec::new();
        with_connect_ns(&mut out, &request("h", "/", false), 77);
        let text = String::from_utf8(out).unwrap();
        // The server's parser reads this header (server/http.rs tests it on the same bytes).
        assert!(text.ends_with("Connection: close\r\nX-Herd-Connect-Ns: 77\r\n\r\n"));
    }

    #[test]
    fn non_200_is_bad() {
        assert_eq!(
            parse_response(b"HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n", false),
            Parsed::Bad
        );
        assert_eq!(parse_response(b"SSH-2.0\r\n\r\n", true), Parsed::Bad);
        // Not HTTP: bad as soon as it shows, without waiting for a head's end or EOF.
        assert_eq!(parse_response(b"\x16\x03", false), Parsed::Bad);
        assert_eq!(parse_response(b"HTT", false), Parsed::Incomplete);
    }

    #[test]
    fn close_delimited_body_ends_at_eof() {
        let r = b"HTTP/1.0 200 OK\r\n\r\nhello";
        assert_eq!(parse_response(r, false), Parsed::Incomplete);
        assert!(matches!(
            parse_response(r, true),
            Parsed::Complete(Response { len: 24, .. })
        ));
    }
}
