//! `herd sweep`, `herd plot` and `herd report` end to end, on the real binary.
mod common;
use common::*;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sweep-small");

/// How many rows runs.csv has for each (strategy, workers).
fn cells(dir: &Path) -> HashMap<(String, String), usize> {
    let mut m = HashMap::new();
    let p = dir.join("runs.csv");
    if !p.exists() {
        return m;
    }
    for r in csv_rows(&p) {
        *m.entry((r["strategy"].clone(), r["workers"].clone()))
            .or_insert(0) += 1;
    }
    m
}

fn sweep_args<'a>(out: &'a str, workers: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "sweep",
        "--strategies",
        "blocking,epoll-exclusive",
        "--workers",
        workers,
        "--concurrency",
        "4",
        "--repeat",
        "1",
        "--duration",
        "300ms",
        "--warmup",
        "0s",
        "--client-threads",
        "1",
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn a_sweep_writes_one_row_per_cell_with_the_run_flags_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = herd_output(&sweep_args(out, "1,2", &[]), Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "sweep failed: {stderr}");
    let got = cells(dir.path());
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.values().all(|&n| n == 1), "{got:?}");
    let runs = csv_rows(&dir.path().join("runs.csv"));
    for r in &runs {
        assert_eq!(num(r, "client_threads"), 1.0, "--client-threads not passed");
        assert_eq!(num(r, "concurrency"), 4.0);
        assert_eq!(num(r, "errors"), 0.0);
    }
    // One worker row per worker: 1 + 2 per strategy.
    assert_eq!(csv_rows(&dir.path().join("workers.csv")).len(), 6);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("meta.json")).unwrap())
            .unwrap();
    assert!(meta["host"]["sysctls"]["net.core.somaxconn"].is_string());
    assert_eq!(meta["sweep"]["run_flags"].as_array().unwrap().len(), 3);
    // The same sweep again without --resume would mix two sweeps: refused.
    let again = herd_output(&sweep_args(out, "1,2", &[]), Duration::from_secs(30));
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn resume_after_a_killed_sweep_runs_only_the_missing_cells() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = sweep_args(out, "1,2,3", &[]);
    let child = herd()
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn sweep");
    let pid = child.id() as i32;
    let mut guard = Reaped(Some(child));
    let start = Instant::now();
    while cells(dir.path()).values().sum::<usize>() == 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "no row appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The sweep, its `herd serve` and the workers are one process group: kill them all.
    signal(-pid, libc::SIGKILL);
    let _ = guard.0.as_mut().unwrap().wait();
    let before = cells(dir.path());
    let done: usize = before.values().sum();
    assert!(
        done < 6,
        "the sweep finished before it was killed; nothing to resume"
    );

    let o = herd_output(
        &sweep_args(out, "1,2,3", &["--resume"]),
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "resume failed: {stderr}");
    assert!(
        stderr.contains(&format!("{done} already in"))
            && stderr.contains(&format!("{} to run", 6 - done)),
        "{stderr}"
    );
    let after = cells(dir.path());
    assert_eq!(after.len(), 6, "{after:?}");
    assert!(
        after.values().all(|&n| n == 1),
        "a cell ran twice: {after:?}"
    );
}

#[test]
fn bad_matrices_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for (extra, want) in [
        (&["--strategies", "nope"][..], "unknown strategy `nope`"),
        (&["--workers", ""][..], "--workers"),
        (&["--workers", "1,2000"][..], "--workers"),
        (&["--timeout", "soon"][..], "soon"),
    ] {
        let mut args = vec!["sweep", "--workers", "1", "--out", out];
        args.extend_from_slice(extra);
        let o = herd_output(&args, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(want), "{extra:?}: {stderr}");
    }
    assert!(!dir.path().join("runs.csv").exists());
}

#[test]
fn plot_draws_png_and_svg_with_their_titles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = herd_output(&["plot", FIXTURE, "--out", out], Duration::from_secs(60));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (stem, title) in [
        ("conn_per_s", "Throughput vs workers"),
        (
            "wakeups_per_accept",
            "Userspace wakeups per accepted connection vs workers",
        ),
        (
            "ctx_switches_per_accept",
            "Context switches per accepted connection",
        ),
        ("cpu_us_per_conn", "Worker CPU time per connection"),
        (
            "share-blocking-w4",
            "Per-worker share of connections: blocking, 4 workers, Jain index",
        ),
        ("latency_cdf-w4", "Latency CDF at 4 workers"),
    ] {
        let png = std::fs::read(dir.path().join(format!("{stem}.png"))).unwrap();
        assert!(
            png.len() > 10_000,
            "{stem}.png is too small to hold a chart"
        );
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains(title), "{stem}.svg lacks its title `{title}`");
        assert!(
            svg.contains("Linux "),
            "{stem}.svg lacks the run conditions"
        );
        assert!(
            svg.contains("font-family=\"DejaVu Sans, sans-serif\""),
            "{stem}.svg names no font with a fallback"
        );
    }
}

#[test]
fn report_prints_a_markdown_table_with_best_and_worst_marked() {
    let o = herd_output(
        &["report", FIXTURE, "--workers", "4"],
        Duration::from_secs(30),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("### 4 workers"), "{md}");
    let row = |s: &str| -> Vec<String> {
        md.lines()
            .find(|l| l.starts_with(&format!("| {s} | 2 |")))
            .unwrap_or_else(|| panic!("no {s} row: {md}"))
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let (blocking, shared) = (row("blocking"), row("epoll-shared"));
    // Columns: "", strategy, runs, conn/s, p50, p99, wakeups, spurious, EAGAIN, ctx, CPU, Jain.
    // The fixture's repeats (runs.csv): blocking 4 workers has 1.156 and 1.216 context
    // switches per accept, epoll-shared 1.433 and 1.485; conn/s 26204–27540 against
    // 25008–25545: apart, so marked, on the right rows.
    assert_eq!(blocking[9], "**1.186**", "{md}");
    assert_eq!(shared[9], "_1.459_", "{md}");
    assert_eq!(blocking[3], "**26872**", "{md}");
    assert_eq!(shared[3], "_25277_", "{md}");
    // p99 769 vs 785 with repeats that overlap: noise, not marked.
    assert!(
        !blocking[5].contains('*') && !shared[5].contains('_'),
        "{md}"
    );
    // Wakeups per accept and Jain have no better side: never marked.
    for r in [&blocking, &shared] {
        for c in [6, 11] {
            assert!(!r[c].contains('*') && !r[c].starts_with('_'), "{md}");
        }
    }
}

#[test]
fn a_malformed_csv_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["runs.csv", "workers.csv", "latency.csv"] {
        std::fs::copy(Path::new(FIXTURE).join(f), dir.path().join(f)).unwrap();
    }
    let p = dir.path().join("runs.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(",process,", ",process,many,", 1);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let d = dir.path().to_str().unwrap();
    for cmd in ["plot", "report"] {
        let o = herd_output(&[cmd, d], Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(stderr.contains("runs.csv:3:"), "{cmd}: {stderr}");
    }
    std::fs::remove_file(dir.path().join("latency.csv")).unwrap();
    std::fs::write(&p, text).unwrap();
    let o = herd_output(&["plot", d], Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("latency.csv: not found"), "{stderr}");
}
