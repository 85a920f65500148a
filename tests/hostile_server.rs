//! `herd load` against hostile servers: an endless head, an endless body, a Content-Length
//! larger than what is sent (then silence, or a close), a 1 GB body, garbage, resets, and a
//! server that never answers. Each time `herd load` ends on time (duration + timeout + slack),
//! counts every connection as an error of a kind, exits 0 (it measured; errors are figures),
//! and peaks below 64 MB of resident memory (wait4's ru_maxrss). The client reads bodies of
//! any size, dropping the bytes as they come (src/load/http.rs): an endless body is a response
//! still arriving at the deadline (a timeout), and a whole 1 GB body is a complete response,
//! or a timeout where it does not arrive in time; never held in memory. docs/reliability.md.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
enum Hostile {
    EndlessHead,
    EndlessBody,
    LongerThanSentThenSilence,
    LongerThanSentThenClose,
    GigabyteBody,
    Garbage,
    Reset,
    NeverAnswers,
}

/// Read the request head (or give up after a while).
fn read_head(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Write `first`, then `more` again and again until the client goes away (or `stop`).
fn stream(s: &mut TcpStream, first: &[u8], more: &[u8], stop: &AtomicBool, limit: u64) {
    if s.write_all(first).is_err() {
        return;
    }
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) && sent < limit {
        match s.write(more) {
            Ok(n) => sent += n as u64,
            Err(_) => return,
        }
    }
}

fn behave(kind: Hostile, mut s: TcpStream, stop: &AtomicBool) {
    read_head(&mut s);
    s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let hold = |stop: &AtomicBool| {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let chunk = vec![b'a'; 64 * 1024];
    match kind {
        Hostile::EndlessHead => stream(
            &mut s,
            b"HTTP/1.1 200 OK\r\nX-Endless: ",
            &chunk,
            stop,
            u64::MAX,
        ),
        Hostile::EndlessBody => stream(&mut s, b"HTTP/1.1 200 OK\r\n\r\n", &chunk, stop, u64::MAX),
        Hostile::LongerThanSentThenSilence => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
            hold(stop);
        }
        Hostile::LongerThanSentThenClose => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
        }
        Hostile::GigabyteBody => stream(
            &mut s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n",
            &chunk,
            stop,
            1 << 30,
        ),
        Hostile::Garbage => {
            let junk: Vec<u8> = (0..4096).map(|_| fastrand::u8(..)).collect();
            let _ = s.write_all(&junk);
        }
        Hostile::Reset => {
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
        }
        Hostile::NeverAnswers => hold(stop),
    }
}

/// A hostile server on 127.0.0.1:0 until dropped.
struct HostileServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    fn start(kind: Hostile) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let st = st.clone();
                        conns.push(std::thread::spawn(move || behave(kind, s, &st)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
                conns.retain(|h: &std::thread::JoinHandle<()>| !h.is_finished());
            }
            for h in conns {
                let _ = h.join();
            }
        });
        HostileServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const DURATION: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(1);

#[test]
fn herd_load_survives_hostile_servers() {
    let cases = [
        (Hostile::EndlessHead, "bad"),
        (Hostile::EndlessBody, "timeout"),
        (Hostile::LongerThanSentThenSilence, "timeout"),
        (Hostile::LongerThanSentThenClose, "short"),
        (Hostile::GigabyteBody, "ok or timeout"),
        (Hostile::Garbage, "bad"),
        (Hostile::Reset, "reset"),
        (Hostile::NeverAnswers, "timeout"),
    ];
    for (kind, expected) in cases {
        let server = HostileServer::start(kind);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("http://127.0.0.1:{}/", server.port);
        let t0 = Instant::now();
        let child = herd()
            .args([
                "load",
                "--url",
                &url,
                "--warmup",
                "0s",
                "--concurrency",
                "4",
            ])
            .args(["--duration", "1s", "--timeout", "1s", "--quiet"])
            .args(["--out", dir.path().to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut guard = Reaped(Some(child));
        let (status, maxrss_kb) = herd::sys::process::wait_with_maxrss(pid).unwrap();
        let took = t0.elapsed();
        let mut err = String::new();
        let mut c = guard.0.take().unwrap();
        c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        std::mem::forget(c); // reaped by wait4 above
        drop(server);
        assert!(libc::WIFEXITED(status), "{kind:?}: killed by a signal");
        assert_eq!(libc::WEXITSTATUS(status), 0, "{kind:?}: {err}");
        assert!(
            took < DURATION + TIMEOUT + Duration::from_secs(3),
            "{kind:?}: took {took:?}"
        );
        assert!(maxrss_kb < 64 * 1024, "{kind:?}: peak RSS {maxrss_kb} KiB");
        let row = &csv_rows(&dir.path().join("runs.csv"))[0];
        let errors = num(row, "errors");
        if expected == "ok or timeout" {
            // Every connection either read its whole body (a 2xx) or ran out of time.
            let ok = num(row, "requests_ok");
            assert_eq!(num(row, "status_2xx"), ok, "{kind:?}: {row:?}");
            assert_eq!(errors, num(row, "err_timeout"), "{kind:?}: {row:?}");
            assert!(ok + errors >= 1.0, "{kind:?}: nothing counted: {row:?}");
            eprintln!(
                "{kind:?}: {ok} whole bodies, {errors} timeouts, {:.2} s, peak RSS {maxrss_kb} KiB",
                took.as_secs_f64()
            );
            continue;
        }
        assert!(errors >= 1.0, "{kind:?}: no error counted");
        assert_eq!(
            num(row, "requests_ok"),
            0.0,
            "{kind:?}: a hostile answer counted as good"
        );
        let col = match expected {
            "timeout" => "err_timeout",
            "reset" => "err_reset",
            "short" => "err_short",
            _ => "err_other",
        };
        assert!(num(row, col) >= 1.0, "{kind:?}: expected {col}: {row:?}");
        eprintln!(
            "{kind:?}: {errors} errors ({col} {}), {:.2} s, peak RSS {} KiB",
            num(row, col),
            took.as_secs_f64(),
            maxrss_kb
        );
    }
}
