//! Bad input gets a one-line message naming the flag and exit status 2, before any work.
mod common;
use common::*;
use std::time::Duration;

fn expect_usage_error(args: &[&str], needle: &str) {
    let out = herd_output(args, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: expected exit 2, got {:?}: {err}",
        out.status
    );
    assert!(
        err.contains(needle),
        "{args:?}: message does not name {needle:?}: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "{args:?}: printed results despite bad input"
    );
}

#[test]
fn workers_out_of_range() {
    expect_usage_error(&["run", "--workers", "0"], "--workers");
    expect_usage_error(&["run", "--workers", "1025"], "--workers");
    expect_usage_error(&["serve", "--workers", "0"], "--workers");
}

#[test]
fn unknown_strategy() {
    expect_usage_error(&["run", "--strategy", "telepathy"], "--strategy");
}

#[test]
fn address_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    expect_usage_error(&["serve", "--addr", &addr], "--addr");
    expect_usage_error(&["run", "--addr", &addr, "--duration", "1s"], "--addr");
    expect_usage_error(
        &["run", "--strategy", "sysv-sem", "--addr", &addr],
        "--addr",
    );
}

#[test]
fn unwritable_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let out = file.join("results");
    expect_usage_error(&["run", "--out", out.to_str().unwrap()], "--out");
}

#[test]
fn concurrency_beyond_the_fd_limit() {
    expect_usage_error(&["run", "--concurrency", "100000"], "--connections");
    expect_usage_error(&["run", "-c", "100k"], "--connections");
}

#[test]
fn bad_duration() {
    expect_usage_error(&["run", "--duration", "soon"], "--duration");
}
