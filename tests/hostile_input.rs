//! Hostile clients against `herd serve`, in both worker models: oversized heads, NUL bytes,
//! invalid UTF-8, garbage pipelined after a good request, one byte per write, a client that
//! trickles (slowloris), one that never reads its responses, and arbitrary bytes (a bounded
//! property test). Every input is answered with responses and at most one 400, or closed; the
//! server keeps serving (docs/reliability.md).
mod common;
use common::*;
use proptest::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const MODELS: [&str; 2] = ["sync", "event"];

fn server(model: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--workers", "1", "--worker-model", model, "--strategy"];
    args.push(if model == "sync" {
        "blocking"
    } else {
        "epoll-exclusive"
    });
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Send `data` (in writes of `chunk` bytes), close the sending side, read to the end.
fn exchange(addr: SocketAddr, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for c in data.chunks(chunk.max(1)) {
        if s.write_all(c).is_err() {
            break; // the server closed early (a 400); what it said is read below
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// The status codes of the responses in `bytes`; panics on anything that is not a whole
/// HTTP/1.1 response.
fn statuses(bytes: &[u8]) -> Vec<u16> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let text = String::from_utf8_lossy(rest);
        let end = text.find("\r\n\r\n").expect("a whole response head") + 4;
        let head = &text[..end];
        assert!(head.starts_with("HTTP/1.1 "), "not a response: {head}");
        out.push(head[9..12].parse().unwrap());
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .expect("Content-Length")
            .trim()
            .parse()
            .unwrap();
        rest = &rest[end + len..];
    }
    out
}

const GOOD: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn bad_heads_get_a_400_and_the_server_goes_on() {
    let mut long = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    long.resize(64 * 1024, b'a');
    long.extend_from_slice(b"\r\n\r\n");
    let cases: [(&str, &[u8]); 5] = [
        ("an oversized header", &long),
        ("a NUL byte", b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"),
        ("a NUL in the request line", b"GET /\0 HTTP/1.1\r\n\r\n"),
        ("invalid UTF-8", b"GET / HTTP/1.1\r\nX: \xc3\x28\r\n\r\n"),
        (
            "no HTTP at all",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        ),
    ];
    for model in MODELS {
        let s = server(model, &[]);
        for (what, data) in cases {
            let got = statuses(&exchange(s.addr, data, 4096));
            assert_eq!(got, vec![400], "{model}, {what}");
        }
        // Garbage pipelined after a good request: the good one is answered, then a 400.
        let mut piped = GOOD.to_vec();
        piped.extend_from_slice(b"\x00\x01garbage\r\n\r\n");
        assert_eq!(
            statuses(&exchange(s.addr, &piped, 4096)),
            vec![200, 400],
            "{model}"
        );
        // One byte per write.
        let mut two = GOOD.to_vec();
        two.extend_from_slice(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_eq!(
            statuses(&exchange(s.addr, &two, 1)),
            vec![200, 200],
            "{model}"
        );
        assert!(
            get(s.addr).starts_with("HTTP/1.1 200"),
            "{model}: stopped serving"
        );
        let board = s.scoreboard();
        assert!(sum(&board, "bad_requests") >= 6, "{model}: {board}");
    }
}

#[test]
fn a_trickling_client_is_dropped_at_the_read_timeout() {
    for model in MODELS {
        let s = server(model, &["--read-timeout", "500ms"]);
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.set_nodelay(true).unwrap();
        let start = Instant::now();
        // A byte every 100 ms: each read is in time, the request never is.
        let mut closed = false;
        for b in GOOD.iter().cycle().take(200) {
            if c.write_all(&[*b]).is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            let mut probe = [0u8; 1];
            c.set_nonblocking(true).unwrap();
            let r = c.read(&mut probe);
            c.set_nonblocking(false).unwrap();
            if matches!(r, Ok(0))
                || matches!(&r, Err(e) if e.kind() != std::io::ErrorKind::WouldBlock)
            {
                closed = true;
                break;
            }
            assert!(r.is_err(), "{model}: the trickled request was answered");
        }
        assert!(closed, "{model}: a 20 s trickle was never dropped");
        eprintln!("{model}: trickle dropped after {:?}", start.elapsed());
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    }
}

#[test]
fn a_client_that_never_reads_does_not_hold_the_worker() {
    for model in MODELS {
        let s = server(
            model,
            &[
                "--read-timeout",
                "1s",
                "--max-requests-per-conn",
                "10000000",
            ],
        );
        // Pipeline requests and never read: the responses fill both socket buffers.
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let burst = GOOD.repeat(4096);
        let start = Instant::now();
        let (mut sent, mut off) = (0usize, 0usize);
        while start.elapsed() < Duration::from_secs(20) {
            // Resume where a short write stopped: the stream stays whole requests.
            match c.write(&burst[off..]) {
                Ok(n) => {
                    sent += n;
                    off = (off + n) % burst.len();
                }
                Err(_) => break, // the server stopped reading: it is stuck on its writes
            }
        }
        assert!(sent > 0);
        // One worker: it is answered only once the stuck connection has been given up.
        let t = Instant::now();
        assert!(get(s.addr).starts_with("HTTP/1.1 200"), "{model}");
        eprintln!(
            "{model}: {sent} bytes pipelined unread; a new client answered after {:?}",
            t.elapsed()
        );
        // Still not reading past the read timeout: the stuck connection is closed, not kept.
        std::thread::sleep(Duration::from_millis(1500));
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut sink = vec![0u8; 1 << 20];
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            match c.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => assert!(Instant::now() < end, "{model}: never closed"),
            }
        }
        let board = s.scoreboard();
        assert!(sum(&board, "conn_errors") >= 1, "{model}: {board}");
    }
}

fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(GOOD.to_vec()),
        Just(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec()),
        Just(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..48),
        prop::collection::vec(prop::sample::select(b"GET /HTP1.\r\n: \0".to_vec()), 0..48),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary bytes in arbitrary writes: answered by whole responses, at most one 400 and
    /// last, then closed; the server still serves.
    #[test]
    fn arbitrary_bytes_get_responses_then_a_close(
        pieces in prop::collection::vec(piece(), 0..6),
        chunk in 1usize..64,
    ) {
        thread_local! {
            static SERVERS: Vec<Server> = MODELS.iter().map(|m| server(m, &["--read-timeout", "2s"])).collect();
        }
        let data = pieces.concat();
        SERVERS.with(|servers| -> Result<(), TestCaseError> {
            for s in servers {
                let got = statuses(&exchange(s.addr, &data, chunk));
                prop_assert!(got.iter().all(|&c| c == 200 || c == 400), "{:?}", got);
                prop_assert!(!got[..got.len().saturating_sub(1)].contains(&400), "{:?}", got);
                let asked = data.windows(6).filter(|w| w.starts_with(b"HTTP/1")).count();
                prop_assert!(got.iter().filter(|&&c| c == 200).count() <= asked);
            }
            Ok(())
        })?;
    }
}
