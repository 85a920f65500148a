//! Helpers for the event-model tests (tests/event.rs, tests/event_load.rs).
#![allow(dead_code)]
use super::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The strategies this kernel supports that have an event form, by name.
pub fn event_strategies() -> Vec<&'static str> {
    let (ok, _) = herd::strategy::split_supported(herd::strategy::StrategyKind::ALL);
    ok.into_iter()
        .filter(|k| k.supports_model(herd::strategy::WorkerModel::Event).is_ok())
        .map(|k| k.name())
        .collect()
}

/// `herd run` in the event model with `extra` flags; the rows it wrote.
pub fn run_event(
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
    let out = super::herd_output(&args, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{strategy} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = super::csv_rows(&dir.join("runs.csv"));
    rows.last().cloned().expect("a run row")
}

/// Zero errors; the server accepted every connection the client completed and answered every
/// request it got.
pub fn check_counts(row: &std::collections::HashMap<String, String>, what: &str) {
    assert_eq!(super::num(row, "errors"), 0.0, "{what}: errors");
    assert!(
        super::num(row, "requests_ok") > 0.0,
        "{what}: nothing completed"
    );
    assert_eq!(
        super::num(row, "accepted"),
        super::num(row, "conns_ok"),
        "{what}: server accepted != client's completed connections"
    );
    assert_eq!(
        super::num(row, "requests_served"),
        super::num(row, "requests_ok"),
        "{what}: server's requests != client's"
    );
    assert_eq!(row["worker_model"], "event", "{what}");
}

/// Open `n` idle connections to `addr` (nothing sent).
pub fn idle_connections(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("idle connection {i}: {e}")))
        .collect()
}

/// The per-worker `open` counts of the scoreboard, once their sum is `total` (within 10 s).
pub fn open_counts(s: &Server, total: u64) -> Vec<u64> {
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
pub fn worker_of_get(addr: std::net::SocketAddr, limit: Duration) -> usize {
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
