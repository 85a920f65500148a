//! `herd run` end to end: every strategy serves a short run with 0 errors, and the server's
//! accepted count equals the client's completed connections.
mod common;
use common::*;
use std::time::Duration;

/// The measured core's strategies.
const STRATEGIES: &[(&str, &[&str])] = &[
    ("blocking", &[]),
    ("sysv-sem", &[]),
    ("pthread-mutex", &[]),
    ("epoll-shared", &[]),
    ("epoll-exclusive", &[]),
    ("reuseport", &[]),
];

/// The strategies of issue 5, and the flags that change a strategy.
const MORE_STRATEGIES: &[(&str, &[&str])] = &[
    ("fcntl", &[]),
    ("flock", &[]),
    ("posix-sem", &[]),
    ("accept-mutex", &[]),
    (
        "accept-mutex",
        &["--accept-mutex-backoff", "--accept-mutex-delay", "20ms"],
    ),
    ("epoll-exclusive-rotate", &[]),
    ("epoll-et", &[]),
    ("epoll-shared", &["--multi-accept"]),
    ("reuseport", &["--incoming-cpu"]),
    ("reuseport-cbpf", &[]),
    ("io-uring", &[]),
    ("poll", &[]),
    ("select", &["--multi-accept"]),
    ("epoll-exclusive", &["--accepts-per-wakeup", "4"]),
];

/// The strategies of issue 14.
const BALANCERS: &[(&str, &[&str])] = &[
    ("handoff-rr", &[]),
    ("handoff-least", &[]),
    ("handoff-p2c", &[]),
    ("reuseport-ebpf", &[]),
    ("reuseport-ebpf", &["--ebpf-policy", "least"]),
];

/// Strategies that accept until EAGAIN (or take connections the kernel already accepted), so
/// one wakeup can bring several connections.
fn drains(strategy: &str, flags: &[&str]) -> bool {
    matches!(strategy, "epoll-et" | "io-uring")
        || flags.contains(&"--multi-accept")
        || flags.contains(&"--accepts-per-wakeup")
}

fn run_once(strategy: &str, flags: &[&str], dir: &std::path::Path) {
    let mut args = vec![
        "run",
        "--strategy",
        strategy,
        "--workers",
        "4",
        "--concurrency",
        "8",
        "--duration",
        "500ms",
        "--warmup",
        "100ms",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let out = herd_output(&args, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{strategy} {flags:?}: herd run failed: {stderr}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("conn/s"),
        "{strategy}: no summary: {summary}"
    );
}

/// Run every case and check its rows. A case the kernel cannot run fails the test, unless
/// HERD_ALLOW_UNSUPPORTED names its strategy (then it is skipped, and the skip logged).
/// Returns the runs.csv rows.
fn check_cases(cases: &[(&str, &[&str])]) -> Vec<std::collections::HashMap<String, String>> {
    let cases: Vec<_> = cases.iter().filter(|(s, _)| !skip_unsupported(s)).collect();
    let dir = tempfile::tempdir().unwrap();
    for (s, flags) in &cases {
        run_once(s, flags, dir.path());
    }
    let runs = csv_rows(&dir.path().join("runs.csv"));
    let workers = csv_rows(&dir.path().join("workers.csv"));
    let latency = csv_rows(&dir.path().join("latency.csv"));
    assert_eq!(runs.len(), cases.len());
    for (row, (s, flags)) in runs.iter().zip(&cases) {
        assert_eq!(row["strategy"], *s);
        assert_eq!(num(row, "errors"), 0.0, "{s} {flags:?}: errors");
        assert!(num(row, "requests_ok") > 0.0, "{s}: nothing completed");
        assert_eq!(
            num(row, "accepted"),
            num(row, "requests_ok"),
            "{s} {flags:?}: server accepted != client completed"
        );
        let id = &row["run_id"];
        let mine: Vec<_> = workers.iter().filter(|w| &w["run_id"] == id).collect();
        assert_eq!(mine.len(), 4, "{s}: one worker row per worker");
        let sum: f64 = mine.iter().map(|w| num(w, "accepted")).sum();
        assert_eq!(
            sum,
            num(row, "requests_ok"),
            "{s} {flags:?}: workers' accepted != client completed"
        );
        assert!(
            num(row, "ctx_switches_per_accept") > 0.0,
            "{s}: kernel counts missing"
        );
        if drains(s, flags) {
            assert!(
                num(row, "wakeups") > 0.0,
                "{s} {flags:?}: no wakeups counted"
            );
        } else {
            assert!(
                num(row, "wakeups_per_accept") >= 1.0,
                "{s}: a connection needs at least one wakeup"
            );
        }
        assert!(latency
            .iter()
            .any(|l| &l["run_id"] == id && l["metric"] == "latency"));
    }
    runs
}

/// A lock strategy takes its lock once per connection: the server's acquisitions match the
/// client's completed connections (an independent count), give or take the one acquisition
/// in progress at each end of the measured window.
fn one_lock_per_connection(r: &std::collections::HashMap<String, String>) {
    let (locks, conns) = (num(r, "lock_acquires"), num(r, "requests_ok"));
    assert!(
        (locks - conns).abs() <= 1.0,
        "{}: {locks} lock acquisitions for {conns} connections",
        r["strategy"]
    );
}

#[test]
fn every_strategy_serves_every_connection_and_counts_match() {
    let runs = check_cases(STRATEGIES);
    for r in runs
        .iter()
        .filter(|r| r["strategy"] == "sysv-sem" || r["strategy"] == "pthread-mutex")
    {
        one_lock_per_connection(r);
    }
}

#[test]
fn every_new_strategy_serves_every_connection_and_counts_match() {
    let runs = check_cases(MORE_STRATEGIES);
    for r in runs
        .iter()
        .filter(|r| ["fcntl", "flock", "posix-sem"].contains(&r["strategy"].as_str()))
    {
        one_lock_per_connection(r);
    }
    for r in runs.iter().filter(|r| r["strategy"] == "accept-mutex") {
        assert!(
            num(r, "lock_acquires") > 0.0,
            "accept-mutex never took its lock"
        );
    }
}

#[test]
fn every_balancer_serves_every_connection_and_counts_match() {
    let runs = check_cases(BALANCERS);
    for r in runs
        .iter()
        .filter(|r| r["strategy"].starts_with("handoff-"))
    {
        let s = &r["strategy"];
        assert_eq!(num(r, "handoffs"), num(r, "accepted"), "{s}: {r:?}");
        assert_eq!(num(r, "handoff_lost"), 0.0, "{s}");
    }
    let least = runs.iter().find(|r| r["strategy_options"] == "least");
    assert!(least.is_some(), "the least run names its policy");
}

#[test]
fn requests_bound_stops_the_run() {
    let out = herd_output(
        &[
            "run",
            "--workers",
            "2",
            "--concurrency",
            "4",
            "--requests",
            "300",
            "--duration",
            "20s",
            "--warmup",
            "0s",
        ],
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("300 ok, 0 errors"), "{s}");
}

#[test]
fn a_server_killed_mid_run_ends_the_run_with_an_error() {
    let child = herd()
        .args([
            "run",
            "--workers",
            "2",
            "--concurrency",
            "4",
            "--duration",
            "30s",
            "--warmup",
            "0s",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut guard = Reaped(Some(child));
    let run_pid = guard.0.as_ref().unwrap().id() as i32;
    // Find the `herd serve` child of `herd run`.
    let serve = (0..500)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            children_of(run_pid).into_iter().next()
        })
        .expect("herd run started no server");
    std::thread::sleep(Duration::from_millis(700));
    // Both workers, or "all gone" below would hold of an empty list.
    let workers = (0..250)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            children_of(serve)
        })
        .find(|w| w.len() == 2)
        .expect("herd serve has its 2 workers");
    signal(serve, libc::SIGKILL);
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = guard.0.as_mut().unwrap().try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "herd run hangs after its server died"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(guard.0.as_mut().unwrap().stderr.as_mut().unwrap(), &mut err)
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("Error:") && err.contains("server"),
        "unclear error: {err}"
    );
    assert!(
        all_gone(&workers, Duration::from_secs(5)),
        "workers outlived their master"
    );
}

fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    out
}
