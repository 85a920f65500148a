//! `herd reproduce`: the list, usage errors, and one quick experiment end to end. Never a
//! timing: the verdicts depend on the machine, so only their form is checked.
mod common;
use common::*;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const VERDICTS: [&str; 3] = ["reproduced", "not reproduced", "cannot run here"];

/// herd with `env` set, bounded in time; the child is reaped on every path.
fn herd_env(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = herd();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut guard = Reaped(Some(cmd.spawn().expect("spawn herd")));
    let start = Instant::now();
    loop {
        let c = guard.0.as_mut().expect("child");
        if c.try_wait().expect("try_wait").is_some() {
            return guard
                .0
                .take()
                .expect("child")
                .wait_with_output()
                .expect("output");
        }
        assert!(
            start.elapsed() < limit,
            "herd {args:?} did not finish in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn reproduce_rows(dir: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let rows = csv_rows(&dir.join("reproduce.csv"));
    for r in &rows {
        for col in [
            "experiment",
            "quantity",
            "expected",
            "observed",
            "verdict",
            "note",
        ] {
            assert!(r.contains_key(col), "reproduce.csv lacks {col}: {r:?}");
        }
        assert!(VERDICTS.contains(&r["verdict"].as_str()), "{r:?}");
    }
    rows
}

#[test]
fn list_names_every_experiment_with_its_source() {
    let out = herd_output(&["reproduce", "--list"], Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    for name in [
        "wake-order",
        "one-worker",
        "shared-queue-latency",
        "reuseport-motivation",
        "node-cluster",
        "uwsgi-serialize",
        "herd-headline",
        "nginx-sharding",
    ] {
        assert!(
            s.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{s}"
        );
    }
    assert!(s.contains("source: "), "{s}");
}

#[test]
fn an_unknown_name_is_a_usage_error_listing_the_valid_ones() {
    let out = herd_output(&["reproduce", "no-such-thing"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-thing") && err.contains("wake-order"),
        "{err}"
    );
    let out = herd_output(&["reproduce"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn wake_order_runs_end_to_end_and_writes_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = herd_output(
        &["reproduce", "wake-order", "--quick", "--out", d],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", text(&out));
    let rows = reproduce_rows(dir.path());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["experiment"] == "wake-order"));
    // Observed: the worker of each of the 8 connections.
    for r in &rows {
        let seq: Vec<&str> = r["observed"].split_whitespace().take(8).collect();
        assert!(
            seq.iter().all(|w| w.parse::<u32>().is_ok_and(|w| w < 4)),
            "{r:?}"
        );
    }
    let md = std::fs::read_to_string(dir.path().join("reproduce.md")).unwrap();
    assert!(
        md.contains("| quantity | expected | observed | verdict |"),
        "{md}"
    );
    assert!(dir.path().join("wake-order.svg").exists());
    assert!(text(&out).contains("wake-order"));
}

/// nginx-sharding needs nginx: with a PATH that holds none it cannot run here. Asked for
/// alone that is a usage error saying why; in a list (as in `all`) the others run, its row
/// says why, and herd exits 0.
#[test]
fn an_experiment_that_cannot_run_here_says_why() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let alone = herd_env(
        &["reproduce", "nginx-sharding", "--quick", "--out", d],
        &[("PATH", path)],
        Duration::from_secs(30),
    );
    assert_eq!(alone.status.code(), Some(2), "{}", text(&alone));
    let err = String::from_utf8_lossy(&alone.stderr);
    assert!(
        err.contains("cannot run here") && err.contains("nginx"),
        "{err}"
    );
    assert!(!dir.path().join("reproduce.csv").exists());

    let listed = herd_env(
        &[
            "reproduce",
            "wake-order",
            "nginx-sharding",
            "--quick",
            "--out",
            d,
        ],
        &[("PATH", path)],
        Duration::from_secs(120),
    );
    assert!(listed.status.success(), "{}", text(&listed));
    let rows = reproduce_rows(dir.path());
    let nginx: Vec<_> = rows
        .iter()
        .filter(|r| r["experiment"] == "nginx-sharding")
        .collect();
    assert_eq!(nginx.len(), 1, "{rows:?}");
    assert_eq!(nginx[0]["verdict"], "cannot run here");
    assert!(nginx[0]["note"].contains("nginx"), "{:?}", nginx[0]);
    assert!(rows.iter().any(|r| r["experiment"] == "wake-order"));
}
