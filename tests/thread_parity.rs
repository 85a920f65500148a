//! Thread mode does what process mode does (tests/master.rs): a graceful reload on SIGHUP that
//! loses nothing, SIGTTIN / SIGTTOU, a worker thread that panicked restarted in its slot, and
//! the lock-holder faults of SIGUSR2 and SIGWINCH in the form a thread can take.
mod common;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn scoreboard_until(s: &Server, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let v = s.scoreboard();
        if ok(&v) || Instant::now() > end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The tids of the worker threads in the scoreboard's active slots.
fn tids(v: &serde_json::Value) -> Vec<u64> {
    v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["tid"].as_u64().unwrap())
        .filter(|&t| t != 0)
        .collect()
}

/// GETs in a loop until dropped; counts the good and the failed.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    bad: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(addr: std::net::SocketAddr) -> Load {
        let (stop, ok, bad) = Default::default();
        let (s, o, b): (Arc<AtomicBool>, Arc<AtomicU64>, Arc<AtomicU64>) =
            (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&bad));
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::Relaxed) && Instant::now() < end {
                let r = std::panic::catch_unwind(|| get(addr)).unwrap_or_default();
                if r.starts_with("HTTP/1.1 200") {
                    o.fetch_add(1, Ordering::Relaxed);
                } else {
                    b.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Load {
            stop,
            ok,
            bad,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.bad.load(Ordering::Relaxed),
        )
    }
}

#[test]
fn reloads_in_thread_mode_lose_nothing() {
    for strategy in [
        "blocking",
        "sysv-sem",
        "epoll-exclusive",
        "reuseport",
        "handoff-least",
    ] {
        let s = Server::start(&["--mode", "thread", "--workers", "2", "--strategy", strategy]);
        let first = tids(&s.scoreboard());
        let load = Load::start(s.addr);
        for n in 1..=5u64 {
            std::thread::sleep(Duration::from_millis(100));
            s.signal(libc::SIGHUP);
            // One at a time: signals of one kind pending together merge.
            let v = scoreboard_until(&s, |v| v["reloads"] == n && v["draining"] == 0);
            assert_eq!(v["reloads"], n, "{strategy}: {v}");
        }
        std::thread::sleep(Duration::from_millis(100));
        let (ok, bad) = load.finish();
        assert!(ok > 0, "{strategy}");
        assert_eq!(bad, 0, "{strategy}: {bad} requests failed across reloads");
        let v = scoreboard_until(&s, |v| tids(v).len() == 2 && v["draining"] == 0);
        let now = tids(&v);
        assert_eq!(now.len(), 2, "{strategy}: {v}");
        assert!(
            now.iter().all(|t| !first.contains(t)),
            "{strategy}: threads not replaced"
        );
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    }
}

#[test]
fn ttin_and_ttou_in_thread_mode() {
    for strategy in ["blocking", "sysv-sem"] {
        let s = Server::start(&["--mode", "thread", "--workers", "2", "--strategy", strategy]);
        s.signal(libc::SIGTTIN);
        let v = scoreboard_until(&s, |v| tids(v).len() == 3);
        assert_eq!(tids(&v).len(), 3, "{strategy}: {v}");
        s.signal(libc::SIGTTIN);
        let v = scoreboard_until(&s, |v| tids(v).len() == 4);
        assert_eq!(tids(&v).len(), 4, "{strategy}: {v}");
        s.signal(libc::SIGTTOU);
        let v = scoreboard_until(&s, |v| tids(v).len() == 3 && v["draining"] == 0);
        assert_eq!(tids(&v).len(), 3, "{strategy}: {v}");
        for _ in 0..30 {
            assert!(get(s.addr).starts_with("HTTP/1.1 200"), "{strategy}");
        }
        // The removed thread is gone from the process.
        let threads = std::fs::read_dir(format!("/proc/{}/task", s.pid()))
            .unwrap()
            .count();
        assert_eq!(threads, 4, "{strategy}: main thread + 3 workers");
    }
}

#[test]
fn a_panicking_worker_thread_is_restarted_in_its_slot() {
    let s = Server::start(&[
        "--mode",
        "thread",
        "--workers",
        "2",
        "--fault",
        "crash-after:5",
    ]);
    for i in 0..30 {
        let r = get(s.addr);
        assert!(r.starts_with("HTTP/1.1 200"), "request {i}: {r}");
    }
    let line = s
        .line_with("worker-exit ", Duration::from_secs(5))
        .expect("a worker-exit line");
    assert!(line.contains("panic: crash-after:5"), "{line}");
    let v = scoreboard_until(&s, |v| tids(v).len() == 2);
    assert_eq!(tids(&v).len(), 2, "{v}");
    let slots: Vec<u64> = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["worker"].as_u64().unwrap())
        .collect();
    assert_eq!(slots, vec![0, 1], "restarts reuse their slots");
    assert!(sum(&v, "restarts") >= 4, "30 connections / 5 each: {v}");
    s.signal(libc::SIGTERM);
    let mut s = s;
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn a_hand_off_in_thread_mode_resizes_within_its_queues_and_restarts_a_worker() {
    let s = Server::start(&[
        "--mode",
        "thread",
        "--workers",
        "3",
        "--strategy",
        "handoff-least",
    ]);
    let task_count = || {
        std::fs::read_dir(format!("/proc/{}/task", s.pid()))
            .unwrap()
            .count()
    };
    s.signal(libc::SIGTTOU);
    let v = scoreboard_until(&s, |v| tids(v).len() == 2 && v["draining"] == 0);
    assert_eq!(tids(&v).len(), 2, "{v}");
    for _ in 0..30 {
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    }
    s.signal(libc::SIGTTIN);
    let v = scoreboard_until(&s, |v| tids(v).len() == 3);
    assert_eq!(tids(&v).len(), 3, "{v}");
    // A fourth seat would need a queue the running acceptor thread does not have: ignored.
    s.signal(libc::SIGTTIN);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tids(&s.scoreboard()).len(), 3);
    for _ in 0..30 {
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    }
    assert_eq!(task_count(), 5, "main thread + 3 workers + the acceptor");
    let v = s.scoreboard();
    assert!(v["acceptor"]["accepted"].as_u64().unwrap() >= 60, "{v}");

    // A worker thread that panics is restarted in its seat, which is offered connections again.
    let s = Server::start(&[
        "--mode",
        "thread",
        "--workers",
        "2",
        "--strategy",
        "handoff-rr",
        "--fault",
        "crash-after:5",
    ]);
    for i in 0..30 {
        let r = get(s.addr);
        assert!(r.starts_with("HTTP/1.1 200"), "request {i}: {r}");
    }
    let v = scoreboard_until(&s, |v| tids(v).len() == 2);
    assert!(sum(&v, "restarts") >= 4, "30 connections / 5 each: {v}");
    assert_eq!(v["handoff_lost"], 0, "{v}");
    s.signal(libc::SIGTERM);
    let mut s = s;
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
}

/// A GET answered within `limit`, or `None`.
fn try_get(addr: std::net::SocketAddr, limit: Duration) -> Option<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).ok()?;
    c.set_read_timeout(Some(limit)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    (!out.is_empty()).then_some(out)
}

#[test]
fn sigusr2_makes_the_next_lock_holder_thread_die_holding_the_lock_and_serving_goes_on() {
    for strategy in ["sysv-sem", "pthread-mutex", "fcntl"] {
        let mut s = Server::start(&["--mode", "thread", "--workers", "2", "--strategy", strategy]);
        s.signal(libc::SIGUSR2);
        // The next thread to take the lock panics holding it: connections make locks change
        // hands.
        let mut line = None;
        for _ in 0..50 {
            let r = get(s.addr);
            assert!(r.starts_with("HTTP/1.1 200"), "{strategy}: {r}");
            line = s.line_with("worker-exit ", Duration::from_millis(100));
            if line.is_some() {
                break;
            }
        }
        let line = line.unwrap_or_else(|| panic!("{strategy}: no worker-exit line"));
        assert!(
            line.contains("panic: die-holding-lock"),
            "{strategy}: {line}"
        );
        // The lock it held was released: every connection is still served.
        for i in 0..20 {
            let r = get(s.addr);
            assert!(
                r.starts_with("HTTP/1.1 200"),
                "{strategy}: request {i}: {r}"
            );
        }
        let v = scoreboard_until(&s, |v| tids(v).len() == 2 && sum(v, "restarts") >= 1);
        assert_eq!(tids(&v).len(), 2, "{strategy}: {v}");
        assert!(sum(&v, "restarts") >= 1, "{strategy}: {v}");
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{strategy}");
    }
}

#[test]
fn sigwinch_freezes_the_next_lock_holder_thread_until_the_server_stops() {
    let mut s = Server::start(&[
        "--mode",
        "thread",
        "--workers",
        "2",
        "--strategy",
        "sysv-sem",
    ]);
    s.signal(libc::SIGWINCH);
    // Served until the lock reaches the thread that freezes holding it; from then on nobody
    // accepts. A frozen holder is never released by itself, so the wait cannot pass by chance.
    let mut stalled = false;
    for _ in 0..20 {
        if try_get(s.addr, Duration::from_secs(2)).is_none() {
            stalled = true;
            break;
        }
    }
    assert!(stalled, "no connection waited behind a frozen lock holder");
    let v = s.scoreboard();
    assert_ne!(v["lock_holder"].as_u64().unwrap_or(0), 0, "{v}");
    // A graceful stop reaches the frozen thread: it lets the lock go and the server ends.
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(15)), Some(0));
}
