//! The event model (`--worker-model event`, issue 13): every strategy with an event form serves
//! keep-alive and `Connection: close` loads with no error and the server's counts equal to the
//! client's, in process and thread mode; one worker holding 1,000 idle connections still answers
//! a new client; a worker at its `--worker-connections` limit stops accepting while the others
//! take the load; long-lived connections stay open and are measured where they are; reloads
//! under keep-alive load lose no request; pairs without an event form exit 2 with the reason.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The strategies this kernel supports that have an event form, by name.
fn event_strategies() -> Vec<&'static str> {
    let (ok, _) = herd::strategy::split_supported(herd::strategy::StrategyKind::ALL);
    ok.into_iter()
        .filter(|k| k.supports_model(herd::strategy::WorkerModel::Event).is_ok())
        .map(|k| k.name())
        .collect()
}

/// `herd run` in the event model with `extra` flags; the rows it wrote.
fn run_event(
    strategy: &str,
    extra: &[&str],
    dir: &std::path::Path,
) -> std::collections::HashMap<String, String> {
    let mut args = vec![
        "run",
        "--worker-model",
        "event",
        "--strategy",
        strategy,
        "--workers",
        "3",
        "--warmup",
        "100ms",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ];
    for (flag, default) in [("--concurrency", "12"), ("--duration", "400ms")] {
        if !extra.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    args.extend_from_slice(extra);
    let out = herd_output(&args, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{strategy} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = csv_rows(&dir.join("runs.csv"));
    rows.last().cloned().expect("a run row")
}

/// Zero errors; the server accepted every connection the client completed and answered every
/// request it got.
fn check_counts(row: &std::collections::HashMap<String, String>, what: &str) {
    assert_eq!(num(row, "errors"), 0.0, "{what}: errors");
    assert!(num(row, "requests_ok") > 0.0, "{what}: nothing completed");
    assert_eq!(
        num(row, "accepted"),
        num(row, "conns_ok"),
        "{what}: server accepted != client's completed connections"
    );
    assert_eq!(
        num(row, "requests_served"),
        num(row, "requests_ok"),
        "{what}: server's requests != client's"
    );
    assert_eq!(row["worker_model"], "event", "{what}");
}

#[test]
fn every_event_strategy_serves_keep_alive_and_close_loads() {
    let dir = tempfile::tempdir().unwrap();
    for s in event_strategies() {
        let close = run_event(s, &[], dir.path());
        check_counts(&close, &format!("{s} close"));
        assert_eq!(num(&close, "accepted"), num(&close, "requests_ok"), "{s}");
        let ka = run_event(s, &["--requests-per-conn", "20"], dir.path());
        check_counts(&ka, &format!("{s} keep-alive"));
        assert!(
            num(&ka, "requests_ok") > num(&ka, "conns_ok"),
            "{s}: keep-alive should serve several requests per connection"
        );
    }
    // The strategy flags in the event model.
    for (s, flags) in [
        ("reuseport", &["--incoming-cpu"][..]),
        ("epoll-shared", &["--multi-accept"]),
        (
            "accept-mutex",
            &["--accept-mutex-backoff", "--accept-mutex-delay", "20ms"],
        ),
    ] {
        let mut extra = flags.to_vec();
        extra.extend(["--requests-per-conn", "10"]);
        check_counts(&run_event(s, &extra, dir.path()), &format!("{s} {flags:?}"));
    }
    // Thread mode: the same loops, one per thread.
    for s in ["epoll-exclusive", "accept-mutex", "poll"] {
        let row = run_event(
            s,
            &["--mode", "thread", "--requests-per-conn", "10"],
            dir.path(),
        );
        check_counts(&row, &format!("{s} thread mode"));
        assert_eq!(row["mode"], "thread");
    }
    // The skew columns are there and add up: per-worker request shares sum to 1.
    let workers = csv_rows(&dir.path().join("workers.csv"));
    let runs = csv_rows(&dir.path().join("runs.csv"));
    for run in &runs {
        let mine: Vec<_> = workers
            .iter()
            .filter(|w| w["run_id"] == run["run_id"])
            .collect();
        let shares: f64 = mine.iter().map(|w| num(w, "request_share")).sum();
        assert!(
            (shares - 1.0).abs() < 1e-3,
            "{}: shares {shares}",
            run["strategy"]
        );
        let requests: f64 = mine.iter().map(|w| num(w, "requests")).sum();
        assert_eq!(requests, num(run, "requests_served"));
        assert!(num(run, "request_jain") > 0.0 && num(run, "request_jain") <= 1.0);
    }
}

/// Open `n` idle connections to `addr` (nothing sent).
fn idle_connections(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("idle connection {i}: {e}")))
        .collect()
}

/// The per-worker `open` counts of the scoreboard, once their sum is `total` (within 10 s).
fn open_counts(s: &Server, total: u64) -> Vec<u64> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let board = s.scoreboard();
        let open: Vec<u64> = board["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["open"].as_u64().unwrap())
            .collect();
        if open.iter().sum::<u64>() == total {
            return open;
        }
        assert!(
            Instant::now() < end,
            "open {open:?}, expected {total} in all"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One `Connection: close` request with a read timeout; the worker that answered.
fn worker_of_get(addr: std::net::SocketAddr, limit: Duration) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out)
        .unwrap_or_else(|e| panic!("no answer within {limit:?}: {e}"));
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("X-Herd-Worker: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("X-Herd-Worker")
}

#[test]
fn one_worker_holding_1000_idle_connections_answers_a_new_client() {
    for strategy in ["epoll-shared", "poll", "select"] {
        let mut s = Server::start(&[
            "--worker-model",
            "event",
            "--strategy",
            strategy,
            "--workers",
            "1",
            "--worker-connections",
            "2000",
            "--read-timeout",
            "120s",
        ]);
        let idle = idle_connections(s.addr, 1000);
        assert_eq!(open_counts(&s, 1000), [1000], "{strategy}");
        // A sync worker would reach this client only after the 1,000 idle ones time out
        // (120 s); the event loop answers it at once. 10 s is a bound for a loaded machine.
        for _ in 0..5 {
            assert_eq!(worker_of_get(s.addr, Duration::from_secs(10)), 0);
        }
        assert_eq!(
            open_counts(&s, 1000),
            [1000],
            "{strategy}: the idle ones stay"
        );
        drop(idle);
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{strategy}");
    }
}

#[test]
fn a_worker_at_its_limit_stops_accepting_and_the_others_take_the_load() {
    let limit = 4u64;
    for strategy in ["epoll-exclusive", "epoll-shared", "accept-mutex"] {
        let mut args = vec![
            "--worker-model",
            "event",
            "--strategy",
            strategy,
            "--workers",
            "2",
            "--worker-connections",
            "4",
            "--read-timeout",
            "60s",
        ];
        if strategy == "accept-mutex" {
            args.extend(["--accept-mutex-delay", "10ms"]);
        }
        let mut s = Server::start(&args);
        // 2 * limit - 1 idle connections: at least one worker is at its limit.
        let n = 2 * limit - 1;
        let mut idle = Vec::new();
        for _ in 0..n {
            idle.extend(idle_connections(s.addr, 1));
            std::thread::sleep(Duration::from_millis(5));
        }
        let open = open_counts(&s, n);
        let full = open
            .iter()
            .position(|&o| o == limit)
            .expect("a full worker");
        assert!(open.iter().all(|&o| o <= limit), "{strategy}: {open:?}");
        for i in 0..30 {
            let w = worker_of_get(s.addr, Duration::from_secs(10));
            assert_ne!(w, full, "{strategy}: request {i} went to the full worker");
        }
        let board = s.scoreboard();
        assert_eq!(sum(&board, "conn_errors"), 0, "{strategy}");
        drop(idle);
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{strategy}");
    }
}

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
fn pairs_without_an_event_form_exit_2_naming_the_reason() {
    let listing = herd_output(&["strategies"], Duration::from_secs(30));
    let text = String::from_utf8_lossy(&listing.stdout).to_string();
    let refused: Vec<&str> = herd::strategy::StrategyKind::ALL
        .iter()
        .filter(|k| {
            k.supports_model(herd::strategy::WorkerModel::Event)
                .is_err()
        })
        .map(|k| k.name())
        .collect();
    assert!(refused.contains(&"blocking") && refused.contains(&"sysv-sem"));
    for s in refused {
        let why = herd::strategy::StrategyKind::ALL
            .iter()
            .find(|k| k.name() == s)
            .and_then(|k| k.event_form().err())
            .unwrap();
        assert!(
            text.contains(&format!("--worker-model event: REFUSED: {why}")),
            "herd strategies does not say why {s} is refused"
        );
        for cmd in [
            &["serve", "--worker-model", "event", "--strategy", s][..],
            &["run", "--worker-model", "event", "--strategy", s],
            &["order", "--worker-model", "event", "--strategy", s],
            &["chaos", "--worker-model", "event", "--strategy", s],
        ] {
            let out = herd_output(cmd, Duration::from_secs(30));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
            assert!(err.contains(why), "{cmd:?}: no reason: {err}");
        }
    }
    let out = herd_output(
        &["serve", "--worker-connections", "8"],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--worker-connections"));
    // `all` skips them, naming each.
    let out = herd_output(
        &[
            "order",
            "--worker-model",
            "event",
            "--workers",
            "2",
            "--connections",
            "2",
            "--gap",
            "1ms",
        ],
        Duration::from_secs(120),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("skipping blocking"), "{err}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("epoll-exclusive") && !table.contains("\nsysv-sem"));
}

#[test]
fn pipelined_requests_are_answered_in_order_through_a_full_send_buffer() {
    // 60,000 pipelined requests sent from another thread, and a client that starts reading
    // late: the worker's responses fill the socket, so it must keep what the socket did not
    // take, wait for it to drain, and go on with the requests still buffered.
    for strategy in ["epoll-exclusive", "select"] {
        let mut s = Server::start(&[
            "--worker-model",
            "event",
            "--strategy",
            strategy,
            "--workers",
            "2",
            "--max-requests-per-conn",
            "1000000",
        ]);
        let n = 60_000;
        // A small receive buffer on the client and responses (about 8 MB) beyond the server's
        // largest send buffer (net.ipv4.tcp_wmem's 4 MB): the server's writes must stall.
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect(&s.addr.into()).unwrap();
        let mut conn: TcpStream = sock.into();
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut writer = conn.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let mut reqs = Vec::new();
            for i in 0..n {
                let close = if i == n - 1 { "close" } else { "keep-alive" };
                reqs.extend_from_slice(
                    format!("GET /{i} HTTP/1.1\r\nHost: x\r\nConnection: {close}\r\n\r\n")
                        .as_bytes(),
                );
            }
            writer.write_all(&reqs).unwrap();
        });
        // Let the server run into the full socket before reading anything.
        std::thread::sleep(Duration::from_millis(300));
        let mut all = Vec::new();
        conn.read_to_end(&mut all)
            .expect("every response, then the close");
        sender.join().unwrap();
        let text = String::from_utf8(all).unwrap();
        assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), n, "{strategy}");
        assert_eq!(text.matches("Connection: keep-alive").count(), n - 1);
        assert!(
            text.ends_with("ok\n"),
            "{strategy}: the last response is whole"
        );
        let board = s.scoreboard();
        assert_eq!(sum(&board, "requests"), n as u64, "{strategy}");
        assert_eq!(sum(&board, "conn_errors"), 0, "{strategy}");
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{strategy}");
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
