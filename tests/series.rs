//! `herd series`: every collection method computes e^x to 1e-12 for negative, zero, positive
//! and large x, one process per term and as a pool; a worker that dies, writes garbage, a
//! short or misnumbered frame, exits non-zero or hangs gives a clear error naming its term;
//! no run leaves a descriptor open or a child behind; bad input exits 2.
mod common;
use common::*;
use std::process::Output;
use std::time::Duration;

const METHODS: [&str; 4] = ["sequential", "select", "poll", "epoll"];

fn series(args: &[&str]) -> Output {
    let mut all = vec!["series"];
    all.extend_from_slice(args);
    herd_output(&all, Duration::from_secs(120))
}

fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key:?} line in {stdout}"))
        .trim()
}

/// The `cleanup` line: descriptors before and after equal, no child left.
fn assert_clean(text: &str) {
    let line = text
        .lines()
        .find(|l| l.starts_with("cleanup"))
        .unwrap_or_else(|| panic!("no cleanup line in {text}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    assert!(nums.len() >= 3, "{line}");
    assert_eq!(nums[0], nums[1], "descriptors leaked: {line}");
    assert_eq!(nums[2], 0, "children left behind: {line}");
}

fn ok_run(args: &[&str]) -> String {
    let out = series(args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{args:?}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_clean(&stdout);
    stdout
}

fn rel_error(stdout: &str) -> f64 {
    field(stdout, "rel_error").parse().expect("rel_error")
}

// N per x: at least the terms f64 needs for that x (printed as `converged yes`); x = 50
// needs 121 terms, x = -20 needs 69.
const CASES: [(&str, &str); 6] = [
    ("-20", "80"),
    ("-1.5", "32"),
    ("0", "16"),
    ("1", "24"),
    ("10", "64"),
    ("50", "200"),
];

#[test]
fn every_method_agrees_with_exp_one_process_per_term() {
    for m in METHODS {
        for (x, n) in CASES {
            let out = ok_run(&["--collect", m, "--x", x, "--terms", n]);
            let err = rel_error(&out);
            assert!(
                err < 1e-12,
                "{m} x={x} N={n}: relative error {err:e}\n{out}"
            );
            assert!(field(&out, "converged").starts_with("yes"), "{out}");
        }
    }
}

#[test]
fn every_method_agrees_with_exp_as_a_pool() {
    for m in METHODS {
        for (x, n) in [("-20", "80"), ("50", "200"), ("1", "24")] {
            let out = ok_run(&["--collect", m, "--x", x, "--terms", n, "--workers", "5"]);
            assert!(out.contains("mode=pool"), "{out}");
            let err = rel_error(&out);
            assert!(err < 1e-12, "{m} pool x={x}: relative error {err:e}\n{out}");
        }
    }
}

#[test]
fn too_few_terms_are_reported_not_hidden() {
    let out = ok_run(&["--x", "50", "--terms", "64"]);
    assert!(field(&out, "converged").starts_with("NO"), "{out}");
    assert!(rel_error(&out) > 1e-12, "{out}");
}

#[test]
fn select_goes_past_fd_setsize() {
    // 1040 result pipes and 520 task pipes: the master's descriptors go well past 1023.
    let out = ok_run(&[
        "--collect",
        "select",
        "--x",
        "2",
        "--terms",
        "1040",
        "--workers",
        "520",
    ]);
    assert!(rel_error(&out) < 1e-12, "{out}");
    let line = field(&out, "master");
    assert!(line.contains("reads 1040"), "{line}");
}

fn expect_failure(args: &[&str], needles: &[&str]) {
    let out = series(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in: {err}");
    }
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("result"),
        "{args:?}"
    );
    assert_clean(&err);
}

#[test]
fn a_killed_worker_is_named() {
    for m in METHODS {
        expect_failure(
            &["--collect", m, "--terms", "12", "--fault", "kill:5"],
            &["term 5", "killed by signal 9"],
        );
        expect_failure(
            &[
                "--collect",
                m,
                "--terms",
                "12",
                "--workers",
                "3",
                "--fault",
                "kill:7",
            ],
            &["term 7", "killed by signal 9"],
        );
    }
}

#[test]
fn garbage_short_and_misnumbered_frames_are_refused() {
    for m in ["sequential", "epoll"] {
        expect_failure(
            &["--collect", m, "--terms", "8", "--fault", "garbage:3"],
            &["term 3", "garbage"],
        );
        expect_failure(
            &["--collect", m, "--terms", "8", "--fault", "short:2"],
            &["term 2", "after 10 of 24 bytes"],
        );
        expect_failure(
            &[
                "--collect",
                m,
                "--terms",
                "8",
                "--workers",
                "2",
                "--fault",
                "wrong-index:4",
            ],
            &["term 4", "frame for term 5"],
        );
    }
}

#[test]
fn a_failing_exit_status_is_an_error() {
    expect_failure(
        &["--collect", "poll", "--terms", "8", "--fault", "exit:6"],
        &["term 6", "exit status 3"],
    );
}

#[test]
fn a_hung_worker_times_out() {
    for m in METHODS {
        expect_failure(
            &[
                "--collect",
                m,
                "--terms",
                "6",
                "--timeout",
                "300ms",
                "--fault",
                "hang:4",
            ],
            &["timed out", "4 (pid"],
        );
    }
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    for (args, flag) in [
        (vec!["--terms", "0"], "--terms"),
        (vec!["--x", "abc"], "--x"),
        (vec!["--x", "nan"], "--x"),
        (vec!["--x", "1e6"], "--x"),
        (vec!["--terms", "4", "--workers", "5"], "--workers"),
        (vec!["--terms", "5000"], "--terms"),
        (vec!["--collect", "kqueue"], "--collect"),
    ] {
        let out = series(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn out_appends_rows_with_counters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for m in METHODS {
        ok_run(&["--collect", m, "--terms", "16", "--out", d]);
    }
    let rows = csv_rows(&dir.path().join("series.csv"));
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(num(r, "reads"), 16.0, "{r:?}");
        assert!(num(r, "rel_error") < 1e-12);
    }
    let by = |m: &str| rows.iter().find(|r| r["collect"] == m).unwrap();
    assert_eq!(num(by("sequential"), "waits"), 0.0);
    assert_eq!(num(by("epoll"), "epoll_ctls"), 32.0);
    assert!(num(by("poll"), "waits") >= 1.0);
}
