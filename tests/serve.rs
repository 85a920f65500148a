//! `herd serve` on its own: answers any HTTP/1.1 client, reports its scoreboard on SIGUSR1,
//! reports dead workers, and stops cleanly on SIGTERM with every worker reaped.
mod common;
use common::*;
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn serves_http_and_stops_on_sigterm() {
    let mut s = Server::start(&["--workers", "3", "--strategy", "epoll-exclusive"]);
    let resp = get(s.addr);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("X-Herd-Worker: "), "{resp}");
    assert!(resp.ends_with("\r\n\r\nok\n"), "{resp}");
    let pids = s.worker_pids();
    assert_eq!(pids.len(), 3);
    assert!(pids.iter().all(|&p| p > 0 && alive(p)));
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(all_gone(&pids, Duration::from_secs(5)));
}

#[test]
fn every_strategy_stops_gracefully() {
    for strategy in supported_strategies() {
        serves_then_stops(strategy, "4", 8, libc::SIGINT);
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let s = Server::start(&["--workers", "1"]);
    let mut c = std::net::TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
    assert!(out.contains("Connection: keep-alive") && out.contains("Connection: close"));
}

#[test]
fn garbage_gets_a_400_and_the_server_keeps_serving() {
    let s = Server::start(&["--workers", "1"]);
    let mut c = std::net::TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"\x00\x01garbage\r\n\r\n").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_silent_client_is_dropped_after_the_read_timeout() {
    let s = Server::start(&["--workers", "1", "--read-timeout", "300ms"]);
    let mut silent = std::net::TcpStream::connect(s.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let t = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = silent
        .read(&mut buf)
        .expect("the server closes the connection, not the client's read timeout");
    assert_eq!(n, 0, "expected the server to close the idle connection");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "dropped only after {:?}",
        t.elapsed()
    );
    // The only worker is free again.
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_worker_that_dies_is_reported() {
    let s = Server::start(&["--workers", "2"]);
    let pids = s.worker_pids();
    signal(pids[0], libc::SIGKILL);
    let line = s
        .line_with("worker-exit ", Duration::from_secs(10))
        .expect("no worker-exit line");
    assert!(line.contains(&format!("\"pid\":{}", pids[0])), "{line}");
    assert!(line.contains("signal 9"), "{line}");
    // The other worker still serves.
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
}

/// The context switches of one worker thread, read by the test itself from /proc.
fn proc_switches(pid: u64, tid: u64) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap();
    status
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// (pid, tid, voluntary + involuntary switches) of each worker in a scoreboard.
fn board_switches(v: &serde_json::Value) -> Vec<(u64, u64, u64)> {
    v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let n = |k: &str| w[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {w}"));
            (
                n("pid"),
                n("tid"),
                n("vol_ctx_switches") + n("invol_ctx_switches"),
            )
        })
        .collect()
}

#[test]
fn scoreboard_counts_accepted_connections_and_the_kernel_counts_match_proc() {
    for mode in ["process", "thread"] {
        let s = Server::start(&["--workers", "2", "--strategy", "sysv-sem", "--mode", mode]);
        let a = s.scoreboard();
        let ids: Vec<(u64, u64)> = board_switches(&a).iter().map(|w| (w.0, w.1)).collect();
        // The test's own count, read before the first snapshot and after the second: the
        // scoreboard's window lies inside the test's.
        let before: Vec<u64> = ids.iter().map(|&(p, t)| proc_switches(p, t)).collect();
        let a = s.scoreboard();
        for _ in 0..10 {
            get(s.addr);
        }
        let b = s.scoreboard();
        let after: Vec<u64> = ids.iter().map(|&(p, t)| proc_switches(p, t)).collect();
        assert_eq!(sum(&b, "accepted") - sum(&a, "accepted"), 10, "{mode}");
        let (ba, bb) = (board_switches(&a), board_switches(&b));
        let mut board_total = 0;
        for i in 0..ids.len() {
            let board = bb[i].2 - ba[i].2;
            let test = after[i] - before[i];
            board_total += board;
            eprintln!("{mode} worker {i}: board {board} proc {test}");
            // Within the test's window, and missing at most what idle workers did between
            // the reads (they block on the lock or in accept: nothing, or a wakeup or two).
            assert!(
                board <= test && test - board <= 4,
                "{mode} worker {i}: scoreboard {board} context switches, /proc {test}"
            );
        }
        // A lock handoff per connection puts a worker to sleep and wakes another.
        assert!(
            board_total >= 10,
            "{mode}: {board_total} switches for 10 connections"
        );
    }
}

#[test]
fn a_host_name_in_addr_is_resolved_like_a_url() {
    let s = Server::start(&["--workers", "1", "--addr", "localhost:0"]);
    assert!(s.addr.ip().is_loopback(), "{}", s.addr);
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
}

#[test]
fn head_gets_the_head_of_a_get_and_no_body_in_both_models() {
    for model in ["sync", "event"] {
        let s = Server::start(&[
            "--workers",
            "1",
            "--strategy",
            "epoll-exclusive",
            "--worker-model",
            model,
        ]);
        // A HEAD, then a GET on the same connection: a body after the HEAD's head would be
        // read as the start of the GET's response.
        let mut c = std::net::TcpStream::connect(s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(
            b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut got = String::new();
        c.read_to_string(&mut got).unwrap();
        let parts: Vec<&str> = got.split("HTTP/1.1 200 OK\r\n").collect();
        assert_eq!(parts.len(), 3, "{model}: two responses: {got:?}");
        assert!(parts[0].is_empty(), "{model}: {got:?}");
        assert!(
            parts[1].contains("Content-Length: 3\r\n") && parts[1].ends_with("\r\n\r\n"),
            "{model}: the HEAD's response is a head only: {got:?}"
        );
        assert!(parts[2].ends_with("\r\n\r\nok\n"), "{model}: {got:?}");

        // herd load -m HEAD reads every response whole: no bad responses.
        let url = format!("http://{}/", s.addr);
        let out = herd_output(
            &[
                "load", &url, "-m", "HEAD", "-c", "2", "-n", "200", "-d", "5s", "--json",
            ],
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "{model}: {out:?}");
        let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(row["errors"], 0, "{model}: {row}");
        assert_eq!(row["requests_ok"], 200, "{model}: {row}");
        assert_eq!(row["status_2xx"], 200, "{model}: {row}");
    }
}
