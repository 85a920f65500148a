//! An `--out` that fills up or turns read-only in the middle of a sweep: a clear error naming
//! the file, the rows written before intact, every run in runs.csv whole. Needs root (a small
//! tmpfs, a read-only bind mount); skipped, saying so, without it. Every mount is undone on
//! drop, also when the test fails.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

fn mount(args: &[&str]) -> bool {
    Command::new("mount")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn sweep(out: &Path) -> Vec<String> {
    [
        "sweep",
        "--strategies",
        "blocking,epoll-exclusive",
        "--workers",
        "1,2",
        "--concurrency",
        "2",
        "--repeat",
        "4",
        "--duration",
        "150ms",
        "--warmup",
        "0s",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// runs.csv parses whole, and every run in it has its worker rows.
fn whole(out: &Path) -> usize {
    let runs = csv_rows(&out.join("runs.csv"));
    let workers = csv_rows(&out.join("workers.csv"));
    for r in &runs {
        let n = workers
            .iter()
            .filter(|w| w["run_id"] == r["run_id"])
            .count();
        assert_eq!(
            n as f64,
            num(r, "workers"),
            "run {} lacks worker rows",
            r["run_id"]
        );
    }
    runs.len()
}

#[test]
fn a_full_out_stops_the_sweep_with_its_rows_intact() {
    if !root() {
        eprintln!("skipped: needs root to mount a tmpfs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small");
    std::fs::create_dir(&out).unwrap();
    assert!(mount(&[
        "-t",
        "tmpfs",
        "-o",
        "size=64k",
        "tmpfs",
        out.to_str().unwrap()
    ]));
    let _m = Mount(out.clone());
    let args = sweep(&out);
    let o = herd_output(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        Duration::from_secs(120),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains(out.to_str().unwrap()),
        "the error names no file: {err}"
    );
    assert!(err.contains("intact"), "{err}");
    let n = whole(&out);
    eprintln!("{n} runs fitted before the disk filled up");
    assert!(n < 16, "the disk never filled up");
}

#[test]
fn an_out_turned_read_only_stops_the_sweep_with_its_rows_intact() {
    if !root() {
        eprintln!("skipped: needs root for a bind mount");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ro");
    std::fs::create_dir(&out).unwrap();
    let o = out.to_str().unwrap();
    assert!(mount(&["--bind", o, o]));
    let _m = Mount(out.clone());
    let args = sweep(&out);
    let child = herd()
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Reaped(Some(child));
    // After the first run is written, turn the directory read-only.
    let end = Instant::now() + Duration::from_secs(60);
    while csv_len(&out.join("runs.csv")) < 1 {
        assert!(Instant::now() < end, "no run was written");
        std::thread::sleep(Duration::from_millis(5));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // The sweep holds no file open between writes, so the remount is allowed.
    while !mount(&["-o", "remount,ro,bind", o]) {
        assert!(Instant::now() < deadline, "could not remount read-only");
        std::thread::sleep(Duration::from_millis(1));
    }
    let c = child.0.take().unwrap();
    let o2 = c.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o2.stderr);
    assert_eq!(o2.status.code(), Some(1), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let n = whole(&out);
    assert!((1..16).contains(&n), "{n} runs");
}

fn csv_len(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}
