//! What the numbers mean, held to what the documentation says: in a closed loop `latency` and
//! `raw_latency` are one distribution (docs/csv-schema.md says so); a CPU hog beside a run shows
//! as foreign CPU with a WARNING.
mod common;
use common::*;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

/// latency.csv's rows of `metric`: percentile → (value, count).
fn dist(dir: &std::path::Path, metric: &str) -> HashMap<String, (String, String)> {
    csv_rows(&dir.join("latency.csv"))
        .into_iter()
        .filter(|r| r["metric"] == metric)
        .map(|r| {
            (
                r["percentile"].clone(),
                (r["value_us"].clone(), r["count"].clone()),
            )
        })
        .collect()
}

#[test]
fn in_a_closed_loop_latency_and_raw_latency_are_one_distribution_as_documented() {
    let schema =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/csv-schema.md"))
            .unwrap();
    let line = schema
        .lines()
        .find(|l| l.starts_with("| `raw_latency_p50_us`"))
        .expect("raw_latency in docs/csv-schema.md");
    assert!(
        line.contains("identical to `latency_*` in a closed loop"),
        "{line}"
    );
    for per_conn in ["1", "3"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_str().unwrap();
        let o = herd_output(
            &[
                "run",
                "--workers",
                "2",
                "--concurrency",
                "16",
                "--duration",
                "500ms",
                "--warmup",
                "0s",
                "--requests-per-conn",
                per_conn,
                "--out",
                out,
            ],
            Duration::from_secs(60),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (lat, raw) = (dist(dir.path(), "latency"), dist(dir.path(), "raw_latency"));
        assert!(lat.len() > 10, "{lat:?}");
        assert_eq!(lat, raw, "--requests-per-conn {per_conn}");
        let r = &csv_rows(&dir.path().join("runs.csv"))[0];
        assert_eq!(r["latency_p50_us"], r["raw_latency_p50_us"]);
        assert_eq!(r["latency_p99_us"], r["raw_latency_p99_us"]);
    }
}

/// A process that burns a CPU until dropped (killed and reaped).
struct Hog(std::process::Child);

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_cpu_hog_beside_a_run_is_foreign_cpu_with_a_warning() {
    let hog = Hog(Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .stdin(Stdio::null())
        .spawn()
        .expect("sh"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // A light open loop: herd itself leaves most of the host idle, the hog takes one CPU.
    let o = herd_output(
        &[
            "run",
            "--workers",
            "2",
            "--rate",
            "500",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--out",
            out,
        ],
        Duration::from_secs(60),
    );
    drop(hog);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("WARNING                    other processes used"),
        "{stdout}"
    );
    let r = &csv_rows(&dir.path().join("runs.csv"))[0];
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    // One CPU of the host's, less what the scheduler gave herd instead: well over 5%.
    assert!(num(r, "foreign_cpu_pct") > (100.0 / cpus) / 4.0, "{r:?}");
    assert!(
        num(r, "server_cpu_pct") > 0.0 && num(r, "client_cpu_pct") > 0.0,
        "{r:?}"
    );
}
