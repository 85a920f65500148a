//! `herd load` as a real HTTP client, end to end: a scripted server answers keep-alive
//! requests with chunked and Content-Length bodies and statuses of every class; the client
//! sends the method, headers and body it was given, reads every response to its end, and
//! counts each status class. Also wrk's and oha's flags: `-c -d -t -n`, a positional URL and
//! SI suffixes.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers request number n (over all connections) with, in turn: 200 chunked, 201 with a
/// Content-Length, 302, 404, 503. Keeps each connection open until a request says
/// `Connection: close`. Keeps the first request it read.
struct Scripted {
    port: u16,
    stop: Arc<AtomicBool>,
    first: Arc<Mutex<Option<Vec<u8>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn response(n: u64, close: bool) -> Vec<u8> {
    let conn = if close { "close" } else { "keep-alive" };
    match n % 5 {
        0 => format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: {conn}\r\n\r\n\
             4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nX-T: 1\r\n\r\n"
        ),
        1 => {
            format!("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: {conn}\r\n\r\nhello")
        }
        2 => format!(
            "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\nConnection: {conn}\r\n\r\n"
        ),
        3 => format!("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: {conn}\r\n\r\nno"),
        _ => format!("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: {conn}\r\n\r\n"),
    }
    .into_bytes()
}

/// One connection: requests (head, then Content-Length body) until one asks to close.
fn serve(mut s: TcpStream, count: &AtomicU64, first: &Mutex<Option<Vec<u8>>>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..10_000 {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        while buf.len() < head_end + body_len {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let request: Vec<u8> = buf.drain(..head_end + body_len).collect();
        first.lock().unwrap().get_or_insert(request);
        let close = head.contains("connection: close");
        let n = count.fetch_add(1, Ordering::SeqCst);
        if s.write_all(&response(n, close)).is_err() || close {
            return;
        }
    }
}

impl Scripted {
    fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let first = Arc::new(Mutex::new(None));
        let (flag, kept) = (stop.clone(), first.clone());
        let thread = std::thread::spawn(move || {
            let count = Arc::new(AtomicU64::new(0));
            let mut conns = Vec::new();
            for s in l.incoming().take(10_000) {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(s) = s else { continue };
                let (count, kept) = (count.clone(), kept.clone());
                conns.push(std::thread::spawn(move || serve(s, &count, &kept)));
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Scripted {
            port,
            stop,
            first,
            thread: Some(thread),
        }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn json_of(args: &[&str]) -> (serde_json::Value, String) {
    let out = herd_output(args, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "herd {args:?}: {err}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    (serde_json::from_str(&stdout).expect("JSON"), err)
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[test]
fn chunked_keep_alive_responses_of_every_status_class_are_read_and_counted() {
    let server = Scripted::start();
    let url = format!("http://127.0.0.1:{}/submit", server.port);
    let (row, summary) = json_of(&[
        "load",
        &url,
        "-m",
        "POST",
        "-H",
        "X-Test: yes",
        "-H",
        "Content-Type: text/plain",
        "--body",
        "a=1&b=2",
        "-c",
        "2",
        "-t",
        "1",
        "-n",
        "0.05k",
        "-d",
        "10s",
        "--requests-per-conn",
        "5",
        "--warmup",
        "0s",
        "--json",
    ]);
    // 50 connections of 5 requests: every response read to its end, none an error.
    assert_eq!(n(&row, "errors"), 0, "{row}");
    assert_eq!(n(&row, "conns_ok"), 50, "{row}");
    assert_eq!(n(&row, "requests_ok"), 250, "{row}");
    let classes: Vec<u64> = ["status_2xx", "status_3xx", "status_4xx", "status_5xx"]
        .iter()
        .map(|k| n(&row, k))
        .collect();
    // Request n gets class [2, 2, 3, 4, 5][n % 5]; 250 requests: 100, 50, 50, 50.
    assert_eq!(classes, [100, 50, 50, 50], "{row}");
    assert!(
        summary.contains("4xx 50  5xx 50  WARNING: 100"),
        "{summary}"
    );
    let first = server.first.lock().unwrap().clone().expect("a request");
    let text = String::from_utf8_lossy(&first);
    assert!(text.starts_with("POST /submit HTTP/1.1\r\n"), "{text}");
    assert!(
        text.contains("\r\nX-Test: yes\r\nContent-Type: text/plain\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nContent-Length: 7\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\na=1&b=2"), "{text}");
}

#[test]
fn wrk_style_flags_and_the_positional_url() {
    let server = Scripted::start();
    let url = format!("http://127.0.0.1:{}/", server.port);
    // `--url` and the positional URL are the same; both at once is refused.
    let (row, _) = json_of(&[
        "load", "--url", &url, "-c", "1", "-n", "5", "-d", "5s", "--warmup", "0s", "--json",
    ]);
    assert_eq!(n(&row, "requests_ok"), 5, "{row}");
    assert_eq!(n(&row, "concurrency"), 1);
    let out = herd_output(&["load", &url, "--url", &url], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let out = herd_output(&["load"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("URL"), "{err}");
    // A header herd sets itself is refused, naming the flag.
    let out = herd_output(
        &["load", &url, "-H", "Connection: close"],
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--header"));
}
