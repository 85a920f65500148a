//! The hand-off strategies (issue 14): every one serves with no error and the server's counts
//! equal to the client's in both worker models and both modes, with every connection handed
//! over by the acceptor and none lost; a killed acceptor is replaced and the server serves
//! again; long-lived connections made one after another spread as each policy says; SIGTTIN and
//! SIGTTOU reach the new seat; reloads lose nothing.
mod common;
use common::event::open_counts;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const HANDOFF: [&str; 3] = ["handoff-rr", "handoff-least", "handoff-p2c"];

type Row = std::collections::HashMap<String, String>;

/// `herd run` with `extra` flags: the row it wrote.
fn run(strategy: &str, extra: &[&str], dir: &std::path::Path) -> Row {
    let mut args = vec![
        "run",
        "--strategy",
        strategy,
        "--workers",
        "3",
        "--concurrency",
        "8",
        "--duration",
        "300ms",
        "--warmup",
        "100ms",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = herd_output(&args, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{strategy} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    csv_rows(&dir.join("runs.csv")).pop().expect("a run row")
}

#[test]
fn every_handoff_strategy_serves_in_both_models_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    for s in HANDOFF {
        for model in ["sync", "event"] {
            for mode in ["process", "thread"] {
                let r = run(s, &["--worker-model", model, "--mode", mode], dir.path());
                let what = format!("{s} {model} {mode}");
                assert_eq!(num(&r, "errors"), 0.0, "{what}: errors");
                assert!(num(&r, "requests_ok") > 0.0, "{what}: nothing completed");
                assert_eq!(num(&r, "accepted"), num(&r, "conns_ok"), "{what}");
                // Every connection a worker took, the acceptor handed over.
                assert_eq!(num(&r, "handoffs"), num(&r, "accepted"), "{what}");
                assert_eq!(num(&r, "handoff_lost"), 0.0, "{what}");
                assert_eq!(num(&r, "acceptor_restarts"), 0.0, "{what}");
                assert!(num(&r, "acceptor_wakeups") > 0.0, "{what}");
                // A sync worker process returns from one recvmsg per connection, besides the
                // acceptor's wakeups; an event worker takes every connection waiting in its
                // channel per wakeup, a worker thread every one its eventfd read counted.
                let floor = if (model, mode) == ("sync", "process") {
                    1.0
                } else {
                    0.0
                };
                assert!(num(&r, "wakeups_per_accept") > floor, "{what}: {r:?}");
                assert!(num(&r, "acceptor_cpu_us_per_conn") > 0.0, "{what}");
            }
        }
    }
}

#[test]
fn a_killed_acceptor_is_replaced_and_the_server_serves_again() {
    for model in ["sync", "event"] {
        let s = Server::start(&[
            "--strategy",
            "handoff-rr",
            "--workers",
            "2",
            "--worker-model",
            model,
        ]);
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
        let pid = s.scoreboard()["acceptor"]["pid"]
            .as_i64()
            .expect("acceptor pid") as i32;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
        assert_eq!(comm.trim(), herd::protocol::ACCEPTOR_NAME);
        signal(pid, libc::SIGKILL);
        let line = s
            .line_with("worker-exit ", Duration::from_secs(10))
            .expect("a worker-exit line for the acceptor");
        assert!(
            line.contains("\"role\":\"acceptor\"") && line.contains(&format!("\"pid\":{pid}")),
            "{line}"
        );
        for _ in 0..10 {
            assert!(get(s.addr).starts_with("HTTP/1.1 200"), "{model}");
        }
        let v = s.scoreboard();
        let a = &v["acceptor"];
        assert_eq!(a["restarts"], 1, "{model}: {v}");
        let new = a["pid"].as_i64().unwrap() as i32;
        assert!(new != 0 && new != pid && alive(new), "{model}: {v}");
        assert_eq!(v["workers"].as_array().unwrap().len(), 2);
    }
}

/// A keep-alive request on a new connection, left open: the connection and the worker that
/// answered.
fn hold(addr: SocketAddr) -> (TcpStream, usize) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while !buf.ends_with(b"\r\n\r\nok\n") {
        let n = s.read(&mut chunk).expect("response");
        assert!(n > 0, "closed before the response");
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let w = text
        .lines()
        .find_map(|l| l.strip_prefix("X-Herd-Worker: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("X-Herd-Worker");
    (s, w)
}

/// 40 connections made one after another and kept open, over 4 event workers: the open
/// counts per worker.
fn spread(args: &[&str]) -> Vec<u64> {
    let mut all = vec!["--workers", "4", "--worker-model", "event"];
    all.extend_from_slice(args);
    let s = Server::start(&all);
    let held: Vec<_> = (0..40).map(|_| hold(s.addr)).collect();
    let open = open_counts(&s, 40);
    drop(held);
    open
}

#[test]
fn long_lived_connections_spread_as_each_policy_says() {
    for (strategy, gap) in [("handoff-rr", 1), ("handoff-least", 1), ("handoff-p2c", 3)] {
        let open = spread(&["--strategy", strategy]);
        let (lo, hi) = (open.iter().min().unwrap(), open.iter().max().unwrap());
        assert!(hi - lo <= gap, "{strategy}: open per worker {open:?}");
    }
}

#[test]
fn ttin_and_ttou_reach_the_acceptor() {
    let srv = Server::start(&["--workers", "2", "--strategy", "handoff-rr"]);
    srv.signal(libc::SIGTTIN);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while srv.scoreboard()["workers"].as_array().unwrap().len() < 3 {
        assert!(std::time::Instant::now() < end, "no third worker");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The replaced acceptor holds the new seat's channel: the rotation reaches worker 2.
    let mut seen = [0u32; 8];
    for _ in 0..30 {
        seen[common::event::worker_of_get(srv.addr, Duration::from_secs(10))] += 1;
    }
    assert!(seen[..3].iter().all(|&n| n > 0), "{seen:?}");
    let v = srv.scoreboard();
    assert_eq!(v["acceptor"]["restarts"], 0, "a planned replacement: {v}");
    srv.signal(libc::SIGTTOU);
    while srv.scoreboard()["workers"].as_array().unwrap().len() > 2 {
        assert!(std::time::Instant::now() < end, "still 3 workers");
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..20 {
        assert!(get(srv.addr).starts_with("HTTP/1.1 200"));
    }
}

#[test]
fn reloads_lose_nothing_and_killed_acceptors_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = herd_output(
        &[
            "chaos",
            "--strategy",
            "handoff-least",
            "--workers",
            "3",
            "--concurrency",
            "8",
            "--schedule",
            "reload:100ms,kill-acceptor:200ms",
            "--duration",
            "1050ms",
            "--baseline",
            "300ms",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = csv_rows(&dir.path().join("chaos.csv"));
    let reload = rows.iter().find(|r| r["fault"] == "reload").unwrap();
    assert_eq!(num(reload, "faults_applied"), 10.0, "{reload:?}");
    assert_eq!(num(reload, "errors"), 0.0, "{reload:?}");
    assert_eq!(reload["serving_after"], "true", "{reload:?}");
    let kill = rows.iter().find(|r| r["fault"] == "kill-acceptor").unwrap();
    assert!(num(kill, "faults_applied") >= 4.0, "{kill:?}");
    assert_eq!(
        num(kill, "acceptor_restarts"),
        num(kill, "faults_applied"),
        "{kill:?}"
    );
    assert_eq!(kill["serving_after"], "true", "{kill:?}");
    // What a kill can lose is what the acceptor held: the client saw at most that, plus what
    // was in flight on the connection the kill interrupted.
    assert!(
        num(kill, "handoff_lost") <= num(kill, "faults_applied"),
        "{kill:?}"
    );
}
