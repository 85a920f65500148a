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
    let n = silent.read(&mut buf).unwrap_or(0);
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

#[test]
fn scoreboard_counts_accepted_connections() {
    let s = Server::start(&["--workers", "2", "--strategy", "sysv-sem"]);
    for _ in 0..10 {
        get(s.addr);
    }
    let v = s.scoreboard();
    assert_eq!(sum(&v, "accepted"), 10);
    let vol: u64 = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["vol_ctx_switches"].as_u64().unwrap())
        .sum();
    assert!(vol > 0, "kernel context switches not read");
}

#[test]
fn a_host_name_in_addr_is_resolved_like_a_url() {
    let s = Server::start(&["--workers", "1", "--addr", "localhost:0"]);
    assert!(s.addr.ip().is_loopback(), "{}", s.addr);
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
}
