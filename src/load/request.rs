//! The request the client sends: a method, the URL's path, headers and an optional body
//! (`herd load -m/-H/--body`), built once per phase into the bytes every connection writes.
use crate::protocol::CONNECT_NS_HEADER;
use std::io::Write;

/// What `herd load` asks for besides the URL: checked in `cli/`, so the names and values here
/// are valid HTTP tokens and field values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// `GET`, `POST`, `HEAD`, ...
    pub method: String,
    /// Extra headers in order; a `Host` or `User-Agent` here replaces herd's.
    pub headers: Vec<(String, String)>,
    /// Sent with a `Content-Length`; empty: no body (and no Content-Length).
    pub body: Vec<u8>,
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec {
            method: "GET".into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

impl RequestSpec {
    /// A `HEAD` request: its response has no body whatever its Content-Length says.
    pub fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The request's bytes for `path` on `host`, closing the connection after the response
    /// unless `keep_alive`.
    pub fn bytes(&self, host: &str, path: &str, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{} {path} HTTP/1.1\r\n", self.method);
        if !self.has("host") {
            let _ = write!(out, "Host: {host}\r\n");
        }
        if !self.has("user-agent") {
            out.extend_from_slice(b"User-Agent: herd\r\n");
        }
        for (n, v) in &self.headers {
            let _ = write!(out, "{n}: {v}\r\n");
        }
        if !self.body.is_empty() {
            let _ = write!(out, "Content-Length: {}\r\n", self.body.len());
        }
        let conn = if keep_alive { "keep-alive" } else { "close" };
        let _ = write!(out, "Connection: {conn}\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A GET request for `path` on `host`, closing the connection after the response unless
/// `keep_alive`.
pub fn request(host: &str, path: &str, keep_alive: bool) -> Vec<u8> {
    RequestSpec::default().bytes(host, path, keep_alive)
}

/// `request` with `X-Herd-Connect-Ns: connect_ns` added as the last header, into `out`.
pub fn with_connect_ns(out: &mut Vec<u8>, request: &[u8], connect_ns: u64) {
    out.clear();
    let head_end = memchr::memmem::find(request, b"\r\n\r\n").map_or(request.len(), |p| p + 2);
    out.extend_from_slice(&request[..head_end]);
    let _ = write!(out, "{CONNECT_NS_HEADER}: {connect_ns}\r\n");
    out.extend_from_slice(&request[head_end..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_ns_header_ends_the_head() {
        let mut out = Vec::new();
        with_connect_ns(&mut out, &request("h", "/", false), 77);
        let text = String::from_utf8(out.clone()).unwrap();
        // The server's parser reads this header (server/http.rs tests it on the same bytes).
        assert!(text.ends_with("Connection: close\r\nX-Herd-Connect-Ns: 77\r\n\r\n"));
        let post = RequestSpec {
            method: "POST".into(),
            headers: vec![],
            body: b"a=1".to_vec(),
        };
        with_connect_ns(&mut out, &post.bytes("h", "/", true), 5);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("Connection: keep-alive\r\nX-Herd-Connect-Ns: 5\r\n\r\na=1"),
            "{text}"
        );
    }

    #[test]
    fn method_headers_and_body() {
        let spec = RequestSpec {
            method: "PUT".into(),
            headers: vec![
                ("Host".into(), "example".into()),
                ("X-A".into(), "b c".into()),
            ],
            body: b"{}".to_vec(),
        };
        let text = String::from_utf8(spec.bytes("127.0.0.1:80", "/p?q", false)).unwrap();
        assert_eq!(
            text,
            "PUT /p?q HTTP/1.1\r\nUser-Agent: herd\r\nHost: example\r\nX-A: b c\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
        assert_eq!(
            request("h:1", "/", true),
            b"GET / HTTP/1.1\r\nHost: h:1\r\nUser-Agent: herd\r\nConnection: keep-alive\r\n\r\n"
        );
    }
}
