//! One run, several clients: `herd load --run-id ID --start-at TIME` clients write their own
//! results directories, `herd merge DIR...` combines their rows; the merged row's connections
//! equal the server's accepted count, and its percentiles those of all the clients' values put
//! together. The namespace fleet (`scripts/fleet.sh`, root) does the same with 3 clients, each
//! in its own network namespace.
mod common;
use base64::Engine as _;
use common::*;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every value of the `latency` histograms of the clients' logs, recorded one by one into a
/// fresh histogram: the distribution of all values together.
fn all_values(logs: &[std::path::PathBuf]) -> Histogram<u64> {
    let mut all = Histogram::<u64>::new(3).unwrap();
    all.auto(true);
    for p in logs {
        let text = std::fs::read(p).unwrap();
        for e in IntervalLogIterator::new(&text) {
            let LogEntry::Interval(i) = e.unwrap() else {
                continue;
            };
            if i.tag().map(|t| t.as_str()) != Some("latency") {
                continue;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram())
                .unwrap();
            let h: Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .unwrap();
            for v in h.iter_recorded() {
                all.record_n(v.value_iterated_to(), v.count_at_value())
                    .unwrap();
            }
        }
    }
    all
}

/// The merged row's latency percentiles equal those of all values together.
fn check_percentiles(merged: &Path, logs: &[std::path::PathBuf]) {
    let all = all_values(logs);
    let r = &csv_rows(&merged.join("runs.csv"))[0];
    assert_eq!(num(r, "conns_ok") as u64, all.len(), "{r:?}");
    for (col, q) in [
        ("latency_p50_us", 0.5),
        ("latency_p90_us", 0.9),
        ("latency_p99_us", 0.99),
        ("latency_p999_us", 0.999),
        ("latency_max_us", 1.0),
    ] {
        let want = all.value_at_quantile(q) as f64 / 1000.0;
        assert!(
            (num(r, col) - want).abs() < 1e-6,
            "{col}: {} vs {want}",
            num(r, col)
        );
    }
}

fn unix_in(secs: f64) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + secs;
    format!("{t:.3}")
}

#[test]
fn clients_of_one_run_merge_into_the_row_the_server_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--workers", "2"]);
    let url = format!("http://{}/", server.addr);
    let start_at = unix_in(3.0);
    let clients: Vec<Reaped> = (1..=2)
        .map(|k| {
            let out = dir.path().join(format!("c{k}"));
            Reaped(Some(
                herd()
                    .args([
                        "load",
                        "--url",
                        &url,
                        "--run-id",
                        "two-1",
                        "--start-at",
                        &start_at,
                    ])
                    .args([
                        "--warmup",
                        "0s",
                        "--duration",
                        "500ms",
                        "--concurrency",
                        "4",
                    ])
                    .args(["--quiet", "--out", out.to_str().unwrap()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            ))
        })
        .collect();
    // Each client has checked the URL (one connection) long before the common start.
    std::thread::sleep(Duration::from_secs(2));
    let before = sum(&server.scoreboard(), "accepted");
    for mut c in clients {
        let end = Instant::now() + Duration::from_secs(60);
        let child = c.0.as_mut().unwrap();
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < end, "a client hangs");
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = c.0.take().unwrap().wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let accepted = sum(&server.scoreboard(), "accepted") - before;
    let merged = dir.path().join("merged");
    let (c1, c2) = (dir.path().join("c1"), dir.path().join("c2"));
    let o = herd_output(
        &[
            "merge",
            "--out",
            merged.to_str().unwrap(),
            c1.to_str().unwrap(),
            c2.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("over 2 clients (merged)"), "{stdout}");
    let rows = |d: &Path| csv_rows(&d.join("runs.csv"));
    let (r1, r2, m) = (&rows(&c1)[0], &rows(&c2)[0], &rows(&merged)[0]);
    assert_eq!(
        (r1["run_id"].as_str(), m["run_id"].as_str()),
        ("two-1", "two-1")
    );
    assert_eq!(num(m, "errors"), 0.0, "{m:?}");
    assert_eq!(
        num(m, "conns_ok"),
        num(r1, "conns_ok") + num(r2, "conns_ok")
    );
    assert_eq!(
        num(m, "conns_ok") as u64,
        accepted,
        "merged row vs the server's count"
    );
    assert_eq!(num(m, "concurrency"), 8.0);
    assert_eq!(num(m, "clients"), 2.0);
    let rate = num(r1, "conn_per_s") + num(r2, "conn_per_s");
    assert!((num(m, "conn_per_s") / rate - 1.0).abs() < 1e-3, "{m:?}");
    let logs = [c1.join("hist/two-1.hlog"), c2.join("hist/two-1.hlog")];
    check_percentiles(&merged, &logs);
    assert!(merged.join("hist/two-1.hlog").is_file());
    // A run no directory has is refused, naming the file.
    let o = herd_output(
        &[
            "merge",
            "--run-id",
            "nope",
            c1.to_str().unwrap(),
            c2.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no row of run nope"));
}

#[test]
fn a_start_time_already_past_is_a_usage_error() {
    let o = herd_output(
        &[
            "load",
            "--url",
            "http://127.0.0.1:9/",
            "--start-at",
            "1700000000",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--start-at"));
}

#[test]
fn the_namespace_fleet_of_three_clients_matches_the_servers_count() {
    // Uid: real, effective, ...: the effective one is the second.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        == Some("0");
    let ip = std::process::Command::new("ip").arg("-V").output().is_ok();
    if !root || !ip {
        eprintln!("skipped: the namespace fleet needs root and iproute2 (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fleet");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/fleet.sh");
    let child = std::process::Command::new("bash")
        .args([script, "--clients", "3", "--duration", "1s", "--out"])
        .arg(&out)
        .args(["--", "--concurrency", "6"])
        .env("HERD", env!("CARGO_BIN_EXE_herd"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prefix = format!("hf{}-", child.id());
    let mut guard = Reaped(Some(child));
    let end = Instant::now() + Duration::from_secs(120);
    while guard.0.as_mut().unwrap().try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "the fleet script hangs");
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = guard.0.take().unwrap().wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let accepted: u64 = std::fs::read_to_string(out.join("server-accepted.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let m = &csv_rows(&out.join("merged/runs.csv"))[0];
    assert_eq!(num(m, "clients"), 3.0);
    assert_eq!(num(m, "errors"), 0.0, "{m:?}");
    assert_eq!(num(m, "conns_ok") as u64, accepted, "{stderr}");
    let id = &m["run_id"];
    let logs: Vec<_> = (1..=3)
        .map(|k| out.join(format!("client-{k}/hist/{id}.hlog")))
        .collect();
    check_percentiles(&out.join("merged"), &logs);
    // Each client ran in its own namespace, with its own address: the target was the server's.
    for k in 1..=3 {
        let r = &csv_rows(&out.join(format!("client-{k}/runs.csv")))[0];
        assert_eq!(r["target"], "http://10.77.0.1:8080/");
        assert!(num(r, "conns_ok") > 0.0, "client {k}: {r:?}");
    }
    // Every namespace the script made is gone.
    let left = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let left = String::from_utf8_lossy(&left.stdout);
    assert!(!left.contains(&prefix), "left behind: {left}");
}
