//! The event model (`--worker-model event`, issue 13): every strategy with an event form serves
//! keep-alive and `Connection: close` loads with no error and the server's counts equal to the
//! client's, in process and thread mode; one worker holding 1,000 idle connections still answers
//! a new client; a worker at its `--worker-connections` limit stops accepting while the others
//! take the load; pipelined requests get through a full send buffer; pairs without an event
//! form exit 2 with the reason. Long-lived loads, reloads and delays: tests/event_load.rs.
mod common;
use common::event::*;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

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
