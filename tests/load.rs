//! The load generator end to end: `herd load --url` against a stalling server (coordinated
//! omission corrected), against `herd serve` with keep-alive, 60,000 short connections through
//! source rotation, histogram logs merged by `herd merge`, and bad input.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A one-thread HTTP server that answers every request with `200 ok` and closes, except that
/// before answering connection number `stall_at` it sleeps `stall` once.
struct StallServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl StallServer {
    fn start(stall_at: u64, stall: Duration) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut served = 0u64;
            for s in l.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut s) = s else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                served += 1;
                if served == stall_at {
                    std::thread::sleep(stall);
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                );
            }
            served
        });
        StallServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StallServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn ok_output(args: &[&str], limit: Duration) -> String {
    let out = herd_output(args, limit);
    assert!(
        out.status.success(),
        "herd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_stall_shows_in_the_corrected_latency_not_only_in_the_few_raw_ones() {
    let server = StallServer::start(200, Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let out = dir.path().to_str().unwrap();
    // 400 conn/s for 2 s: 800 scheduled, at most 2 in flight. The stall holds the one or two
    // in flight; the ~80 starts due during it wait, and their latency counts from their
    // intended start.
    let summary = ok_output(
        &[
            "load",
            "--url",
            &url,
            "--rate",
            "400",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--concurrency",
            "2",
            "--client-threads",
            "1",
            "--out",
            out,
        ],
        Duration::from_secs(60),
    );
    assert!(summary.contains("open loop"), "{summary}");
    assert!(summary.contains("not measured"), "{summary}");
    let runs = csv_rows(&dir.path().join("runs.csv"));
    let r = &runs[0];
    assert_eq!(num(r, "errors"), 0.0);
    assert_eq!(r["server_metrics"], "false");
    assert_eq!(r["arrivals"], "uniform");
    assert!(num(r, "latency_max_us") >= 200_000.0, "corrected max {r:?}");
    // Only the connections in flight during the stall (at most 2 of ~800) saw it from their
    // actual start: raw p99 stays below it, while the corrected p99 shows the queue behind it.
    assert!(num(r, "raw_latency_p99_us") < 200_000.0, "raw p99 {r:?}");
    assert!(num(r, "latency_p99_us") >= 100_000.0, "corrected p99 {r:?}");
    assert!(
        num(r, "late_conns") >= 10.0,
        "the stall made starts late: {r:?}"
    );
    assert!(num(r, "lateness_max_us") >= 100_000.0, "{r:?}");
    let hist: Vec<_> = std::fs::read_dir(dir.path().join("hist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(hist.len(), 1);
}

#[test]
fn keep_alive_against_herd_serve_records_every_request_and_per_worker_accept_delay() {
    let server = Server::start(&["--workers", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{}/", server.addr);
    let out = dir.path().to_str().unwrap();
    for extra in [
        &["--requests-per-conn", "5", "--requests", "100"][..],
        &[
            "--burst",
            "8",
            "--burst-interval",
            "50ms",
            "--concurrency",
            "8",
        ][..],
    ] {
        let mut args = vec![
            "load",
            "--url",
            &url,
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        ok_output(&args, Duration::from_secs(60));
    }
    let runs = csv_rows(&dir.path().join("runs.csv"));
    assert_eq!(runs.len(), 2);
    let (ka, burst) = (&runs[0], &runs[1]);
    assert_eq!(num(ka, "errors"), 0.0);
    assert_eq!(num(ka, "conns_ok"), 100.0);
    assert_eq!(num(ka, "requests_ok"), 500.0);
    assert_eq!(num(ka, "requests_per_conn"), 5.0);
    assert_eq!(burst["arrivals"], "burst");
    assert_eq!(num(burst, "errors"), 0.0);
    // 1 s of bursts every 50 ms: 20 bursts of 8.
    assert_eq!(
        num(burst, "conns_ok") + num(burst, "unstarted_conns"),
        160.0
    );
    let workers = csv_rows(&dir.path().join("workers.csv"));
    let mine: Vec<_> = workers
        .iter()
        .filter(|w| w["run_id"] == ka["run_id"])
        .collect();
    assert_eq!(mine.len(), 2, "one row per worker seen in X-Herd-Worker");
    let conns: f64 = mine.iter().map(|w| num(w, "client_conns")).sum();
    assert_eq!(conns, 100.0);
    // Every connection's first response carried its accept time: one accept delay per
    // connection, no more, no fewer.
    let latency = csv_rows(&dir.path().join("latency.csv"));
    let delays = latency
        .iter()
        .find(|l| l["run_id"] == ka["run_id"] && l["metric"] == "accept_delay")
        .expect("accept_delay rows");
    assert_eq!(num(delays, "count"), 100.0, "{delays:?}");
    // A connection is accepted before its first response completes: no accept delay exceeds
    // the longest latency (per-worker histograms keep 2 significant digits: 1% slack).
    let latency_max = num(ka, "latency_max_us");
    assert!(num(ka, "accept_delay_max_us") <= latency_max, "{ka:?}");
    for w in mine {
        if num(w, "client_conns") > 0.0 {
            assert!(
                num(w, "accept_delay_max_us") <= latency_max * 1.01,
                "{w:?} vs latency max {latency_max}"
            );
        } else {
            assert_eq!(
                w["accept_delay_max_us"], "",
                "no connection, no delay: {w:?}"
            );
        }
    }
    // herd report and herd plot keep the two loads apart and show no server figure: none
    // was measured.
    let md = ok_output(&["report", out], Duration::from_secs(30));
    assert_eq!(md.matches("\n### ").count(), 2, "one table per load: {md}");
    assert!(
        md.contains("5 requests/conn") && md.contains("bursts of 8"),
        "{md}"
    );
    assert!(md.contains("server not measured"), "{md}");
    let tables: String = md
        .lines()
        .filter(|l| l.starts_with('|') || l.starts_with('#'))
        .collect();
    for never in [
        "0 worker",
        "Jain",
        "ctx switches",
        "wakeups",
        "CPU µs",
        "| |",
    ] {
        assert!(!tables.contains(never), "{never:?} in {md}");
    }
    let charts = dir.path().join("charts");
    ok_output(
        &["plot", out, "--out", charts.to_str().unwrap()],
        Duration::from_secs(60),
    );
    let mut names: Vec<String> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        2,
        "one latency CDF per load, nothing else: {names:?}"
    );
    assert!(
        names.iter().all(|n| n.starts_with("latency_cdf-")),
        "{names:?}"
    );
    // The two runs are different loads (keep-alive, bursts): herd merge refuses to add their
    // logs up, naming what differs, unless --force says so; then counts add up.
    let logs: Vec<String> = std::fs::read_dir(dir.path().join("hist"))
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    assert_eq!(logs.len(), 2);
    let mut args = vec!["merge"];
    args.extend(logs.iter().map(String::as_str));
    let refused = herd_output(&args, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("different loads") && err.contains("arrivals") && err.contains("--force"),
        "{err}"
    );
    args.push("--force");
    let merged = ok_output(&args, Duration::from_secs(30));
    let latency = merged
        .lines()
        .find(|l| l.starts_with("latency "))
        .expect("latency line");
    let count: f64 = latency.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(count, num(ka, "requests_ok") + num(burst, "requests_ok"));
}

#[test]
fn source_rotation_lets_60000_short_connections_finish_without_errors() {
    let summary = ok_output(
        &[
            "run",
            "--workers",
            "2",
            "--concurrency",
            "64",
            "--requests",
            "60000",
            "--duration",
            "300s",
            "--warmup",
            "0s",
            "--quiet",
        ],
        Duration::from_secs(300),
    );
    assert!(summary.contains("60000 ok, 0 errors"), "{summary}");
    assert!(
        summary.contains("accepted (server)          60000"),
        "{summary}"
    );
}

fn expect_usage_error(args: &[&str], needle: &str) {
    let out = herd_output(args, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn bad_load_input_is_a_usage_error() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    expect_usage_error(
        &["load", "--url", &dead, "--duration", "1s"],
        "cannot connect",
    );
    expect_usage_error(&["load", "--url", &dead, "--rate", "0"], "--rate");
    expect_usage_error(&["run", "--rate", "0"], "--rate");
    expect_usage_error(&["run", "--rate=-5"], "--rate");
    expect_usage_error(&["run", "--rate", "1e12"], "--rate");
    expect_usage_error(&["load", "--url", "https://127.0.0.1/"], "--url");
    expect_usage_error(
        &["load", "--url", &dead, "--concurrency", "100000"],
        "--connections",
    );
    expect_usage_error(
        &["run", "--rate", "100", "--concurrency", "100000"],
        "--connections",
    );
    expect_usage_error(
        &["run", "--burst", "64", "--burst-interval", "1s"],
        "--burst",
    );
    expect_usage_error(&["run", "--burst", "4"], "--burst-interval");
    expect_usage_error(&["run", "--pacing-quantum", "1ms"], "--pacing-quantum");
    expect_usage_error(
        &["run", "--rate", "100", "--pacing-quantum", "11ms"],
        "--pacing-quantum",
    );
    expect_usage_error(
        &["run", "--requests-per-conn", "101"],
        "--max-requests-per-conn",
    );
}
