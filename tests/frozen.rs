//! A frozen accept-lock holder (SIGSTOP while it holds the lock): without help nothing is
//! accepted until it thaws; with `--lock-watchdog` the master kills it, the dead-holder
//! recovery frees the lock and the worker is restarted (docs/reliability.md).
mod common;
use common::*;
use std::time::Duration;

fn chaos(extra: &[&str]) -> std::collections::HashMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["chaos", "--strategy", "sysv-sem", "--workers", "2"];
    args.extend(["--schedule", "freeze-holder:700ms", "--duration", "1500ms"]);
    args.extend([
        "--baseline",
        "300ms",
        "--timeout",
        "400ms",
        "--concurrency",
        "8",
    ]);
    args.extend(["--out", dir.path().to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = herd_output(&args, Duration::from_secs(60));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    csv_rows(&dir.path().join("chaos.csv")).remove(0)
}

#[test]
fn a_frozen_holder_stalls_the_server_until_the_watchdog_kills_it() {
    let frozen = chaos(&[]);
    assert!(num(&frozen, "faults_applied") >= 1.0, "{frozen:?}");
    // Frozen for 800 ms with a 400 ms client timeout: the connections in flight time out.
    assert!(
        num(&frozen, "err_timeout") >= 1.0,
        "nothing stalled: {frozen:?}"
    );
    assert_eq!(num(&frozen, "restarts"), 0.0);
    assert_eq!(frozen["serving_after"], "true");

    let watched = chaos(&["--lock-watchdog", "100ms"]);
    assert!(num(&watched, "faults_applied") >= 1.0, "{watched:?}");
    assert!(
        num(&watched, "restarts") >= 1.0,
        "the watchdog killed no one: {watched:?}"
    );
    assert_eq!(watched["serving_after"], "true");
    eprintln!(
        "frozen holder: {} lost without the watchdog, {} with it ({} restarts)",
        frozen["errors"], watched["errors"], watched["restarts"]
    );
}

#[test]
fn the_watchdog_leaves_an_idle_holder_alone() {
    let s = Server::start(&[
        "--strategy",
        "sysv-sem",
        "--workers",
        "2",
        "--lock-watchdog",
        "50ms",
    ]);
    // An idle server's holder waits in accept() holding the lock: nothing is queued, so it
    // is not killed.
    std::thread::sleep(Duration::from_millis(500));
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    let board = s.scoreboard();
    assert_eq!(sum(&board, "restarts"), 0, "{board}");
}
