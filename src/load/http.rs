//! The client's HTTP/1.1 response parser, all of it in this file: the head through `httparse`
//! (headers parsed in place into a fixed array, nothing allocated per response), then the body
//! as the head says: `Content-Length` bytes, chunks (`Transfer-Encoding: chunked`, trailers
//! skipped), none (`HEAD`, 1xx, 204, 304), or up to the server's close. Body bytes are counted
//! and dropped as they arrive, so a response of any size is read in a buffer the size of one
//! read. Interim `100 Continue` heads are skipped; a response of any final status is complete,
//! and its status is reported for counting by class.
use crate::protocol::{ACCEPT_NS_HEADER, WORKER_HEADER};
use httparse::Status;

/// A response head larger than this is refused as bad.
pub const MAX_HEAD: usize = 64 * 1024;
/// Headers one response may have.
const MAX_HEADERS: usize = 64;
/// A chunk-size line (with extensions) longer than this is refused as bad.
const MAX_CHUNK_LINE: usize = 1024;

/// What a complete response told us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Response {
    /// The status code (200 to 599).
    pub status: u16,
    /// `X-Herd-Worker`, when the server is `herd serve`.
    pub worker: Option<usize>,
    /// `X-Herd-Accept-Ns`, when the server is `herd serve`.
    pub accept_ns: Option<u64>,
    /// The numeric value of the header `herd load --worker-header` names (a PID or an index).
    pub worker_id: Option<u64>,
    /// The server closes after this response: `Connection: close`, an HTTP/1.0 response
    /// without keep-alive, or a body that ends at the close.
    pub close: bool,
}

/// What the reader needs to know of the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect<'a> {
    /// The header named by `--worker-header`.
    pub worker_header: Option<&'a str>,
    /// The request was `HEAD`: no body follows whatever the head says.
    pub head_request: bool,
}

/// Why a response was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not HTTP, malformed, too large a head, or bytes after the response.
    Bad,
    /// The server closed before the response was complete.
    Short,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    #[default]
    Head,
    /// Body bytes still to come.
    Length(u64),
    ChunkSize,
    /// Bytes of the current chunk still to come, then its CRLF.
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    /// The body ends when the server closes.
    ToEof,
    Done,
}

/// One response being read, fed the connection's bytes as they arrive; [`Reader::default`]
/// for the next.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reader {
    stage: Stage,
    resp: Response,
}

/// `buf` without its first `n` bytes (a move of what follows, no allocation).
fn consume(buf: &mut Vec<u8>, n: usize) {
    if n >= buf.len() {
        buf.clear();
    } else {
        buf.drain(..n);
    }
}

/// A header value as a number.
fn number<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// Whether a comma-separated header value holds `token`.
fn has_token(v: &[u8], token: &str) -> bool {
    v.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

enum Head {
    Incomplete,
    /// A 1xx interim response of this many bytes, to skip.
    Interim(usize),
    Final(usize, Response, Stage),
}

fn parse_head(buf: &[u8], x: &Expect<'_>) -> Result<Head, Fault> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    let len = match r.parse(buf) {
        // The limit is on the head, not on what one read brought: a head past it is refused
        // however its bytes arrive.
        Ok(Status::Complete(len)) if len > MAX_HEAD => return Err(Fault::Bad),
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) if buf.len() > MAX_HEAD => return Err(Fault::Bad),
        Ok(Status::Partial) => return Ok(Head::Incomplete),
        Err(_) => return Err(Fault::Bad),
    };
    let status = r.code.ok_or(Fault::Bad)?;
    match status {
        101 | 600.. => return Err(Fault::Bad),
        100..=199 => return Ok(Head::Interim(len)),
        _ => {}
    }
    let mut resp = Response {
        status,
        ..Response::default()
    };
    let mut length: Option<u64> = None;
    let mut chunked = None;
    let mut keep_alive = false;
    for h in r.headers.iter() {
        let (name, v) = (h.name, h.value);
        if name.eq_ignore_ascii_case("content-length") {
            let n = number::<u64>(v).ok_or(Fault::Bad)?;
            if length.is_some_and(|l| l != n) {
                return Err(Fault::Bad);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked only if it is the last coding; any other: the body ends at the close.
            let last = v.rsplit(|&b| b == b',').next().unwrap_or(b"");
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            resp.close |= has_token(v, "close");
            keep_alive |= has_token(v, "keep-alive");
        } else if name.eq_ignore_ascii_case(WORKER_HEADER) {
            resp.worker = number(v);
        } else if name.eq_ignore_ascii_case(ACCEPT_NS_HEADER) {
            resp.accept_ns = number(v);
        }
        if x.worker_header
            .is_some_and(|w| name.eq_ignore_ascii_case(w))
        {
            resp.worker_id = number(v);
        }
    }
    if r.version == Some(0) && !keep_alive {
        resp.close = true;
    }
    let body = if x.head_request || status == 204 || status == 304 {
        Stage::Done
    } else {
        match (chunked, length) {
            (Some(true), _) => Stage::ChunkSize,
            (Some(false), _) | (None, None) => Stage::ToEof,
            (None, Some(0)) => Stage::Done,
            (None, Some(n)) => Stage::Length(n),
        }
    };
    if body == Stage::ToEof {
        resp.close = true;
    }
    Ok(Head::Final(len, resp, body))
}

impl Reader {
    /// Read what `buf` holds, consuming it. `Ok(Some)` once the response is complete (bytes
    /// left in `buf` then are more than the response: the caller decides); `Ok(None)` while
    /// more is needed.
    pub fn feed(&mut self, buf: &mut Vec<u8>, x: &Expect<'_>) -> Result<Option<Response>, Fault> {
        loop {
            match self.stage {
                Stage::Head => match parse_head(buf, x)? {
                    Head::Incomplete => return Ok(None),
                    Head::Interim(len) => consume(buf, len),
                    Head::Final(len, resp, body) => {
                        consume(buf, len);
                        self.resp = resp;
                        self.stage = body;
                    }
                },
                Stage::Length(n) | Stage::ChunkData(n) => {
                    let take = n.min(buf.len() as u64);
                    consume(buf, take as usize);
                    let left = n - take;
                    let chunk = matches!(self.stage, Stage::ChunkData(_));
                    self.stage = match (chunk, left) {
                        (false, 0) => Stage::Done,
                        (true, 0) => Stage::ChunkEnd,
                        (false, l) => Stage::Length(l),
                        (true, l) => Stage::ChunkData(l),
                    };
                    if left > 0 {
                        return Ok(None); // everything there was taken
                    }
                }
                Stage::ChunkSize => match httparse::parse_chunk_size(buf) {
                    Ok(Status::Complete((used, size))) => {
                        consume(buf, used);
                        self.stage = if size == 0 {
                            Stage::Trailers
                        } else {
                            Stage::ChunkData(size)
                        };
                    }
                    Ok(Status::Partial) if buf.len() > MAX_CHUNK_LINE => return Err(Fault::Bad),
                    Ok(Status::Partial) => return Ok(None),
                    Err(_) => return Err(Fault::Bad),
                },
                Stage::ChunkEnd => match buf.get(..2) {
                    None if buf.first().is_none_or(|&b| b == b'\r') => return Ok(None),
                    Some([b'\r', b'\n']) => {
                        consume(buf, 2);
                        self.stage = Stage::ChunkSize;
                    }
                    _ => return Err(Fault::Bad),
                },
                Stage::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        consume(buf, 2);
                        self.stage = Stage::Done;
                    } else if let Some(p) = memchr::memmem::find(buf, b"\r\n\r\n") {
                        if p + 4 > MAX_HEAD {
                            return Err(Fault::Bad);
                        }
                        consume(buf, p + 4);
                        self.stage = Stage::Done;
                    } else if buf.len() > MAX_HEAD {
                        return Err(Fault::Bad);
                    } else {
                        return Ok(None);
                    }
                }
                Stage::ToEof => {
                    buf.clear();
                    return Ok(None);
                }
                Stage::Done => return Ok(Some(self.resp)),
            }
        }
    }

    /// The server has closed: the response is complete if its body ends at the close or has
    /// ended, and nothing follows it.
    pub fn finish(&mut self, buf: &mut Vec<u8>, x: &Expect<'_>) -> Result<Response, Fault> {
        match (self.feed(buf, x)?, self.stage) {
            (Some(r), _) if buf.is_empty() => Ok(r),
            (Some(_), _) => Err(Fault::Bad),
            (None, Stage::ToEof) => {
                self.stage = Stage::Done;
                Ok(self.resp)
            }
            (None, _) => Err(Fault::Short),
        }
    }
}

/// One whole response in `buf`, read to the server's close (`herd order`'s one-shot check).
pub fn parse_closed(buf: &[u8]) -> Result<Response, Fault> {
    Reader::default().finish(&mut buf.to_vec(), &Expect::default())
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
