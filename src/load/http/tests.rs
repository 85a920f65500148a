use super::*;

/// Feed `bytes` split at every `step` bytes, as reads would deliver them; then the close if
/// `eof`.
fn read(bytes: &[u8], step: usize, x: &Expect<'_>, eof: bool) -> Result<Option<Response>, Fault> {
    let mut r = Reader::default();
    let mut buf = Vec::new();
    let mut out = None;
    for piece in bytes.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        if let Some(resp) = r.feed(&mut buf, x)? {
            out = Some(resp);
        }
    }
    if out.is_some() && !buf.is_empty() {
        return Err(Fault::Bad);
    }
    if eof {
        return r.finish(&mut buf, x).map(Some);
    }
    Ok(out)
}

/// The same bytes read whole and split at every size from 1 to 9 agree.
fn every_split(bytes: &[u8], x: &Expect<'_>, eof: bool) -> Result<Option<Response>, Fault> {
    let whole = read(bytes, bytes.len(), x, eof);
    for step in 1..10 {
        assert_eq!(read(bytes, step, x, eof), whole, "split every {step}");
    }
    whole
}

const X: Expect<'static> = Expect {
    worker_header: None,
    head_request: false,
};

#[test]
fn parses_herd_headers() {
    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Herd-Worker: 7\r\nX-Herd-Accept-Ns: 42\r\n\r\nok\n";
    let resp = every_split(r, &X, false).unwrap().unwrap();
    assert_eq!(
        resp,
        Response {
            status: 200,
            worker: Some(7),
            accept_ns: Some(42),
            worker_id: None,
            close: false,
        }
    );
    let named = Expect {
        worker_header: Some("x-herd-worker"),
        ..X
    };
    assert_eq!(
        read(r, r.len(), &named, false).unwrap().unwrap().worker_id,
        Some(7)
    );
    let pid = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pid: 4242\r\n\r\n";
    let p = Expect {
        worker_header: Some("X-Pid"),
        ..X
    };
    let p = read(pid, pid.len(), &p, false).unwrap().unwrap();
    assert_eq!((p.worker, p.worker_id), (None, Some(4242)));
    assert_eq!(read(&r[..r.len() - 1], 4, &X, false), Ok(None));
    let c = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert!(read(c, 100, &X, false).unwrap().unwrap().close);
}

#[test]
fn chunked_bodies_end_at_the_last_chunk() {
    let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n1;ext=1\r\n!\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
    let resp = every_split(r, &X, false).unwrap().unwrap();
    assert_eq!((resp.status, resp.close), (200, false));
    // Trailers after the last chunk are skipped.
    let t = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
              2\r\nok\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
    assert!(every_split(t, &X, false).unwrap().is_some());
    // Not yet: the last chunk has not come.
    assert_eq!(read(&r[..r.len() - 5], 3, &X, false), Ok(None));
    // A chunk without its CRLF, or a size that is not hex, is bad.
    let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n";
    assert_eq!(read(bad, 100, &X, false), Err(Fault::Bad));
    let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n";
    assert_eq!(read(bad, 100, &X, false), Err(Fault::Bad));
    // The server closes in the middle of the body: short.
    assert_eq!(read(&r[..60], 7, &X, true), Err(Fault::Short));
}

#[test]
fn status_classes_and_bodiless_responses() {
    for (code, text) in [
        (201, "Created"),
        (301, "Moved"),
        (404, "Not Found"),
        (503, "Busy"),
    ] {
        let r = format!("HTTP/1.1 {code} {text}\r\nContent-Length: 4\r\n\r\nbody");
        let resp = every_split(r.as_bytes(), &X, false).unwrap().unwrap();
        assert_eq!(resp.status, code);
    }
    // 204 and 304 carry no body; neither does the answer to HEAD, whatever its length says.
    let r = b"HTTP/1.1 204 No Content\r\n\r\n";
    assert_eq!(read(r, 100, &X, false).unwrap().unwrap().status, 204);
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    let hx = Expect {
        head_request: true,
        ..X
    };
    assert!(read(head, 100, &hx, false).unwrap().is_some());
    assert_eq!(read(head, 100, &X, false), Ok(None));
    // An interim 100 Continue is skipped.
    let cont = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert_eq!(every_split(cont, &X, false).unwrap().unwrap().status, 200);
    // Not HTTP, no status, an upgrade, or a body longer than announced: bad.
    assert_eq!(read(b"SSH-2.0\r\n\r\n", 100, &X, true), Err(Fault::Bad));
    // Not HTTP: bad as soon as it shows, without waiting for a head's end or the close.
    assert_eq!(read(b"\x16\x03", 100, &X, false), Err(Fault::Bad));
    assert_eq!(read(b"HTT", 100, &X, false), Ok(None));
    assert_eq!(
        read(b"HTTP/1.1 101 Switching\r\n\r\n", 100, &X, false),
        Err(Fault::Bad)
    );
    let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    assert_eq!(read(extra, 100, &X, false), Err(Fault::Bad));
    let twice = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok";
    assert_eq!(read(twice, 100, &X, false), Err(Fault::Bad));
}

#[test]
fn close_delimited_body_ends_at_eof() {
    let r = b"HTTP/1.0 200 OK\r\n\r\nhello";
    assert_eq!(every_split(r, &X, false), Ok(None));
    let resp = every_split(r, &X, true).unwrap().unwrap();
    assert!(resp.close);
    assert_eq!(parse_closed(r).map(|r| r.status), Ok(200));
    // HTTP/1.0 closes unless it says keep-alive.
    let ka = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
    assert!(!read(ka, 100, &X, false).unwrap().unwrap().close);
    let c = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert!(read(c, 100, &X, false).unwrap().unwrap().close);
    // A Content-Length body cut short by the close.
    let short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    assert_eq!(read(short, 100, &X, true), Err(Fault::Short));
    assert_eq!(parse_closed(b""), Err(Fault::Short));
}

#[test]
fn a_large_body_is_read_without_keeping_it() {
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n".to_vec();
    r.resize(r.len() + 1_000_000, b'x');
    let mut reader = Reader::default();
    let mut buf = Vec::new();
    let mut done = None;
    let mut most = 0;
    for piece in r.chunks(4096) {
        buf.extend_from_slice(piece);
        most = most.max(buf.len());
        done = reader.feed(&mut buf, &X).unwrap();
    }
    assert_eq!(done.map(|r| r.status), Some(200));
    assert!(most <= 4096, "the buffer held {most} bytes");
    // An endless head is refused once it passes the limit.
    let mut head = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    head.resize(MAX_HEAD + 10, b'a');
    assert_eq!(read(&head, 4096, &X, false), Err(Fault::Bad));
}
