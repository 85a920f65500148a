//! `herd run --repeat N`: N runs, N rows, and the median and min–max of each headline figure.
mod common;
use common::*;
use std::time::Duration;

#[test]
fn repeats_write_a_row_each_and_summarise_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = herd_output(
        &[
            "run",
            "--repeat",
            "3",
            "--workers",
            "2",
            "--concurrency",
            "4",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
            "--out",
            out,
        ],
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&dir.path().join("runs.csv"));
    assert_eq!(rows.len(), 3);
    for i in 1..=3 {
        assert!(stdout.contains(&format!("run {i}/3 ")), "{stdout}");
    }
    assert!(
        stdout.contains("3 runs") && stdout.contains("median"),
        "{stdout}"
    );
    // The throughput line: the median of the three rows' figures, and their range.
    let mut rates: Vec<f64> = rows.iter().map(|r| num(r, "conn_per_s")).collect();
    rates.sort_by(f64::total_cmp);
    let line = stdout
        .lines()
        .find(|l| l.contains("throughput (conn/s)"))
        .expect("a throughput line");
    let f: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(f.len(), 3, "{line}");
    // (The rows are rounded to 4 significant digits, the summary is not.)
    let near = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-3;
    assert!(near(f[0], rates[1]), "median: {line} vs {rates:?}");
    assert!(
        near(f[1], rates[0]) && near(f[2], rates[2]),
        "{line} vs {rates:?}"
    );
    // A sweep keeps its own --repeat.
    assert!(herd_output(&["sweep", "--help"], Duration::from_secs(10))
        .status
        .success());
}
