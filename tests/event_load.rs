//! The event model under load shapes of its own (issue 13): long-lived connections stay open
//! and are measured where they are, 20 reloads under keep-alive load lose no request, and a
//! delayed response (`--sleep-us`) does not hold up the worker's other connections.
mod common;
use common::event::*;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn long_lived_connections_stay_open_and_their_spread_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let row = run_event(
        "reuseport",
        &[
            "--long-lived",
            "50ms",
            "--concurrency",
            "40",
            "--duration",
            "1s",
        ],
        dir.path(),
    );
    assert_eq!(row["arrivals"], "long-lived");
    assert_eq!(num(&row, "errors"), 0.0);
    // Each of the 40 connections opened once and stayed for the whole phase, sending a
    // request every 50 ms: about 20 each.
    assert_eq!(num(&row, "accepted"), 40.0);
    assert_eq!(num(&row, "conns_ok"), 40.0);
    let requests = num(&row, "requests_ok");
    assert!((700.0..=880.0).contains(&requests), "{requests} requests");
    // Time-averaged, the workers held nearly all 40 for the whole phase.
    let workers = csv_rows(&dir.path().join("workers.csv"));
    let held: f64 = workers.iter().map(|w| num(w, "open_mean")).sum();
    assert!((34.0..=40.5).contains(&held), "open_mean summed to {held}");
    assert!((num(&row, "open_mean") * 3.0 - held).abs() < held * 1e-3);
    let max: f64 = workers.iter().map(|w| num(w, "open_max")).sum();
    assert!(
        max >= 40.0,
        "the high-water marks hold every connection: {max}"
    );
}

#[test]
fn twenty_reloads_under_keep_alive_load_lose_no_request() {
    let dir = tempfile::tempdir().unwrap();
    for strategy in ["epoll-exclusive", "reuseport", "accept-mutex"] {
        let out = herd_output(
            &[
                "chaos",
                "--worker-model",
                "event",
                "--strategy",
                strategy,
                "--workers",
                "2",
                "--schedule",
                "reload:100ms",
                "--duration",
                "2.4s",
                "--baseline",
                "200ms",
                "--requests-per-conn",
                "50",
                "--concurrency",
                "16",
                "--out",
                dir.path().to_str().unwrap(),
            ],
            Duration::from_secs(120),
        );
        assert!(
            out.status.success(),
            "{strategy}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for row in csv_rows(&dir.path().join("chaos.csv")) {
        let s = &row["strategy"];
        assert!(num(&row, "faults_applied") >= 20.0, "{s}: too few reloads");
        assert_eq!(num(&row, "errors"), 0.0, "{s}: requests lost");
        assert!(num(&row, "requests_ok") > 0.0);
        assert_eq!(row["serving_after"], "true", "{s}");
        assert_eq!(row["worker_model"], "event");
    }
}

#[test]
fn a_delayed_response_does_not_hold_up_the_others() {
    // --sleep-us in the event model is a timer: one worker answers 8 requests that each wait
    // 1 s together, where a sync worker would take 8 s. 6 s bounds a loaded machine.
    let mut s = Server::start(&[
        "--worker-model",
        "event",
        "--strategy",
        "epoll-exclusive",
        "--workers",
        "1",
        "--sleep-us",
        "1000000",
    ]);
    let start = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let addr = s.addr;
            std::thread::spawn(move || worker_of_get(addr, Duration::from_secs(20)))
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 0);
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(6),
        "8 delayed responses took {took:?}"
    );
    let board = s.scoreboard();
    assert_eq!(sum(&board, "requests"), 8);
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
}
