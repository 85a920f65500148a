//! `--accepts-per-wakeup` and `--busy-delay` (issue 14): how many connections one wakeup
//! takes, counted exactly on a single busy worker; Puma's busy delay sending the next
//! connection to the idle worker; and the combinations that make no sense exit 2 naming the
//! flag.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One worker that sleeps 40 ms per request, nine connections queued behind the first: the
/// wakeups it counts for the nine.
fn wakeups_for_nine(strategy: &str, flags: &[&str]) -> u64 {
    let mut args = vec![
        "--strategy",
        strategy,
        "--workers",
        "1",
        "--sleep-us",
        "40000",
    ];
    args.extend_from_slice(flags);
    let s = Server::start(&args);
    let before = sum(&s.scoreboard(), "wakeups");
    let clients: Vec<TcpStream> = (0..9)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    for mut c in clients {
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    }
    let v = s.scoreboard();
    assert_eq!(sum(&v, "accepted"), 9, "{v}");
    sum(&v, "wakeups") - before
}

#[test]
fn one_wakeup_takes_as_many_connections_as_allowed() {
    for strategy in ["epoll-exclusive", "poll", "accept-mutex"] {
        // The first connection wakes the worker; the other eight queue behind it.
        assert_eq!(wakeups_for_nine(strategy, &[]), 9, "{strategy} default (1)");
        assert_eq!(
            wakeups_for_nine(strategy, &["--accepts-per-wakeup", "3"]),
            3,
            "{strategy} 3"
        );
        assert_eq!(
            wakeups_for_nine(strategy, &["--accepts-per-wakeup", "unlimited"]),
            1,
            "{strategy} unlimited"
        );
        assert_eq!(
            wakeups_for_nine(strategy, &["--multi-accept"]),
            1,
            "{strategy} --multi-accept"
        );
    }
}

/// A keep-alive request on a new connection, left open: the connection and its worker.
fn hold(addr: std::net::SocketAddr) -> (TcpStream, usize) {
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
    let w = String::from_utf8_lossy(&buf)
        .lines()
        .find_map(|l| l.strip_prefix("X-Herd-Worker: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("X-Herd-Worker");
    (s, w)
}

#[test]
fn a_busy_worker_leaves_the_next_connection_to_an_idle_one() {
    // epoll-shared wakes both loops for every connection; the one holding a connection waits
    // 300 ms before it accepts, so the idle one takes it.
    let s = Server::start(&[
        "--strategy",
        "epoll-shared",
        "--workers",
        "2",
        "--worker-model",
        "event",
        "--busy-delay",
        "300ms",
    ]);
    for round in 0..5 {
        let (a, wa) = hold(s.addr);
        let (b, wb) = hold(s.addr);
        assert_ne!(
            wa, wb,
            "round {round}: both connections went to worker {wa}"
        );
        drop((a, b));
        // Both closes seen before the next round.
        let end = Instant::now() + Duration::from_secs(5);
        while sum(&s.scoreboard(), "open") > 0 {
            assert!(Instant::now() < end, "connections still open");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn option_combinations_that_make_no_sense_exit_2_naming_the_flag() {
    for (args, flag) in [
        (
            &["--strategy", "blocking", "--accepts-per-wakeup", "4"][..],
            "--accepts-per-wakeup",
        ),
        (
            &["--strategy", "epoll-et", "--accepts-per-wakeup", "4"],
            "--accepts-per-wakeup 4",
        ),
        (
            &["--strategy", "poll", "--accepts-per-wakeup", "0"],
            "--accepts-per-wakeup",
        ),
        (
            &[
                "--strategy",
                "poll",
                "--multi-accept",
                "--accepts-per-wakeup",
                "2",
            ],
            "--multi-accept",
        ),
        (
            &["--strategy", "epoll-shared", "--busy-delay", "5ms"],
            "--busy-delay",
        ),
        (
            &[
                "--strategy",
                "reuseport",
                "--worker-model",
                "event",
                "--busy-delay",
                "5ms",
            ],
            "--busy-delay",
        ),
        (
            &[
                "--strategy",
                "poll",
                "--worker-model",
                "event",
                "--busy-delay",
                "2s",
            ],
            "--busy-delay",
        ),
        (
            &["--strategy", "handoff-rr", "--multi-accept"],
            "--multi-accept",
        ),
        (
            &["--strategy", "reuseport", "--ebpf-policy", "least"],
            "--ebpf-policy",
        ),
        (
            &["--strategy", "reuseport", "--reuseport-reload", "migrate"],
            "--reuseport-reload migrate",
        ),
        (
            &["--strategy", "reuseport-ebpf", "--workers", "300"],
            "--workers 300",
        ),
    ] {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let out = herd_output(&all, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: does not name {flag}: {err}");
    }
}
