//! `herd load --server-pid`: any server measured from the kernel's side, and the accept queue
//! and listen counters of every run. The foreign server is tests/fixtures/prefork.py, a small
//! prefork server in Python that names its worker by PID in `X-Worker`.
mod common;

use common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

type Row = HashMap<String, String>;

/// A running prefork.py, killed and reaped on drop.
struct Prefork {
    child: Reaped,
    addr: String,
}

impl Prefork {
    fn start(args: &[&str]) -> Prefork {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prefork.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (the test server is a Python script)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("a listening line");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("not a listening line: {line:?}"))
            .to_string();
        Prefork {
            child: Reaped(Some(child)),
            addr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.0.as_ref().expect("child").id()
    }
}

impl Drop for Prefork {
    fn drop(&mut self) {
        // SIGTERM first, so that the master stops its workers too.
        signal(self.pid() as i32, libc::SIGTERM);
        if let Some(c) = self.child.0.as_mut() {
            for _ in 0..200 {
                if c.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// `herd load ARGS --out DIR`: its output, the run row, the worker rows, the listener rows.
fn load(args: &[&str]) -> (std::process::Output, Row, Vec<Row>, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut all = vec!["load", "--quiet", "--out", out];
    all.extend_from_slice(args);
    let o = herd_output(&all, Duration::from_secs(60));
    assert!(
        o.status.success(),
        "herd {all:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let runs = csv_rows(&dir.path().join("runs.csv"));
    assert_eq!(runs.len(), 1);
    let workers = csv_rows(&dir.path().join("workers.csv"));
    let listeners = csv_rows(&dir.path().join("listeners.csv"));
    (o, runs[0].clone(), workers, listeners)
}

fn role<'a>(rows: &'a [Row], r: &str) -> Vec<&'a Row> {
    rows.iter().filter(|w| w["role"] == r).collect()
}

fn ctx(v: &serde_json::Value) -> u64 {
    v["vol_ctx_switches"].as_u64().unwrap() + v["invol_ctx_switches"].as_u64().unwrap()
}

#[test]
fn on_herd_serve_it_agrees_with_the_scoreboard_over_the_same_phase() {
    let s = Server::start(&["--workers", "4", "--strategy", "blocking"]);
    let before = s.scoreboard();
    let url = format!("http://{}/", s.addr);
    let pid = s.pid().to_string();
    let (_, row, workers, listeners) = load(&[
        "--url",
        &url,
        "--server-pid",
        &pid,
        "--warmup",
        "0s",
        "--requests",
        "3000",
        "--concurrency",
        "8",
    ]);
    let after = s.scoreboard();
    assert_eq!(row["server_source"], "procfs+header");
    assert_eq!(num(&row, "errors"), 0.0);
    let b = before["workers"].as_array().unwrap();
    let a = after["workers"].as_array().unwrap();
    // Connections per worker: the header's count is the scoreboard's, worker by worker, but
    // for the one connection herd load opens (and closes unused) to check the URL.
    let mut accepted = Vec::new();
    let mut off = 0;
    for (wa, wb) in a.iter().zip(b) {
        let i = wa["worker"].as_u64().unwrap();
        let n = wa["accepted"].as_u64().unwrap() - wb["accepted"].as_u64().unwrap();
        let h = role(&workers, "header")
            .into_iter()
            .find(|w| num(w, "worker") as u64 == i)
            .map(|w| num(w, "client_conns") as u64)
            .unwrap_or(0);
        assert!(
            h == n || h + 1 == n,
            "worker {i}: {h} by header, {n} accepted"
        );
        off += n - h;
        accepted.push(n as f64);
    }
    assert_eq!(
        off, 1,
        "only the URL check's connection is not in the header counts"
    );
    assert_eq!(accepted.iter().sum::<f64>(), num(&row, "conns_ok") + 1.0);
    let sum: f64 = accepted.iter().sum();
    let sq: f64 = accepted.iter().map(|x| x * x).sum();
    let jain = sum * sum / (accepted.len() as f64 * sq);
    assert!((num(&row, "jain_fairness") - jain).abs() < 1e-3);
    // Context switches per worker process: the same /proc counters as the scoreboard's.
    let procs = role(&workers, "worker");
    assert_eq!(procs.len(), 4);
    let mut total_sb = 0;
    for (wa, wb) in a.iter().zip(b) {
        let p = wa["pid"].as_u64().unwrap();
        let sb = ctx(wa) - ctx(wb);
        total_sb += sb;
        let w = procs
            .iter()
            .find(|w| num(w, "pid") as u64 == p)
            .expect("every worker process");
        let mine = (num(w, "vol_ctx_switches") + num(w, "invol_ctx_switches")) as u64;
        assert!(
            mine <= sb && sb - mine <= sb / 50 + 10,
            "worker {p}: {mine} ctx switches from outside, {sb} in the scoreboard"
        );
    }
    // The row adds the master's few switches to the workers'.
    let total = num(&row, "vol_ctx_switches") + num(&row, "invol_ctx_switches");
    assert!(total >= total_sb as f64 * 0.98 && total <= total_sb as f64 * 1.02 + 50.0);
    let shares: f64 = procs.iter().map(|w| num(w, "cpu_share")).sum();
    assert!((shares - 1.0).abs() < 1e-6);
    // The one listener, held by the master and every worker.
    assert_eq!(listeners.len(), 1);
    let holders: Vec<&str> = listeners[0]["holders"].split(' ').collect();
    assert_eq!(holders.len(), 5, "{holders:?}");
    assert!(num(&row, "accept_queue_samples") > 0.0);
    assert!(num(&row, "listen_backlog") > 0.0);
}

#[test]
fn a_server_that_holds_off_accepting_shows_its_queue() {
    let p = Prefork::start(&["--workers", "1", "--hold-first-ms", "300"]);
    let url = format!("http://{}/", p.addr);
    let pid = p.pid().to_string();
    let (_, row, workers, listeners) = load(&[
        "--url",
        &url,
        "--server-pid",
        &pid,
        "--worker-header",
        "X-Worker",
        "--warmup",
        "0s",
        "--burst",
        "50",
        "--burst-interval",
        "5s",
        "--concurrency",
        "50",
        "--duration",
        "1s",
        "--accept-queue-interval",
        "2ms",
    ]);
    assert!(num(&row, "accept_queue_max") >= 40.0, "{row:?}");
    assert!(num(&listeners[0], "queue_max") >= 40.0);
    assert_eq!(num(&row, "conns_ok"), 50.0);
    // One worker took every connection, and its row says so.
    let w = role(&workers, "worker");
    assert_eq!(w.len(), 1);
    assert_eq!(num(w[0], "client_conns"), 50.0);
    assert_eq!(num(&row, "jain_fairness"), 1.0);
}

#[test]
fn a_tiny_backlog_under_a_burst_overflows() {
    let p = Prefork::start(&["--workers", "1", "--backlog", "1", "--hold-first-ms", "300"]);
    let url = format!("http://{}/", p.addr);
    let (_, row, _, listeners) = load(&[
        "--url",
        &url,
        "--warmup",
        "0s",
        "--burst",
        "50",
        "--burst-interval",
        "5s",
        "--concurrency",
        "50",
        "--duration",
        "1s",
        "--timeout",
        "2s",
    ]);
    // With room for 2 in its queue, at least 48 of the 50 SYNs found it full: the counter is
    // the network namespace's, so anything else can only add to it.
    assert!(num(&row, "listen_overflows") >= 40.0, "{row:?}");
    assert!(num(&row, "listen_drops") >= num(&row, "listen_overflows"));
    assert_eq!(num(&listeners[0], "backlog"), 1.0);
    // Without --server-pid nobody is named as holder, and the server columns stay empty.
    assert_eq!(listeners[0]["holders"], "");
    assert_eq!(row["server_source"], "");
}

#[test]
fn a_prefork_server_whose_workers_respawn_is_measured_from_outside() {
    let p = Prefork::start(&["--workers", "3", "--max-requests", "150"]);
    let url = format!("http://{}/", p.addr);
    let pid = p.pid().to_string();
    let (o, row, workers, _) = load(&[
        "--url",
        &url,
        "--server-pid",
        &pid,
        "--worker-header",
        "X-Worker",
        "--warmup",
        "0s",
        "--requests",
        "2000",
        "--concurrency",
        "4",
        "--duration",
        "20s",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(num(&row, "conns_ok"), 2000.0, "{stderr}");
    assert_eq!(row["server_source"], "procfs+header");
    // Every connection is counted against some worker, by PID.
    let counted: f64 = workers.iter().map(|w| num(w, "client_conns")).sum();
    assert_eq!(counted, 2000.0);
    // 2000 connections over workers that each serve 150: at least 10 were respawned in the
    // phase, and some of them exited in it too (the WARNING says what was lost).
    let born = role(&workers, "worker")
        .into_iter()
        .filter(|w| w["started_in_phase"] == "true")
        .count();
    assert!(born >= 1, "{workers:?}");
    assert!(num(&row, "server_threads_exited") >= 1.0);
    assert!(stderr.contains("exited during the measurement"), "{stderr}");
    assert_eq!(role(&workers, "master").len(), 1);
    let jain = num(&row, "jain_fairness");
    assert!(jain > 0.0 && jain <= 1.0);
    // A worker alive at the end: what herd load counted for it is at most what the kernel
    // counted over its whole life, read here independently.
    let live: Vec<_> = role(&workers, "worker")
        .into_iter()
        .filter(|w| w["exited_in_phase"] == "false")
        .collect();
    assert!(!live.is_empty());
    for w in live {
        let pid = num(w, "pid") as u64;
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue; // it served its 150 after the phase
        };
        let field = |k: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().parse().unwrap())
                .unwrap()
        };
        let life = field("voluntary_ctxt_switches:") + field("nonvoluntary_ctxt_switches:");
        let mine = num(w, "vol_ctx_switches") + num(w, "invol_ctx_switches");
        assert!(mine > 0.0 && mine <= life, "pid {pid}: {mine} > {life}");
    }
    assert!(num(&row, "ctx_switches_per_accept") > 0.0);
}

#[test]
fn a_server_that_exits_mid_run_is_a_warning() {
    let p = Prefork::start(&["--workers", "2"]);
    let url = format!("http://{}/", p.addr);
    let pid = p.pid().to_string();
    let master = p.pid() as i32;
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        signal(master, libc::SIGTERM);
    });
    let o = herd_output(
        &[
            "load",
            "--quiet",
            "--url",
            &url,
            "--server-pid",
            &pid,
            "--warmup",
            "0s",
            "--duration",
            "1500ms",
            "--concurrency",
            "2",
        ],
        Duration::from_secs(60),
    );
    killer.join().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("server PID {pid} exited during the measurement")),
        "{stderr}"
    );
}

#[test]
fn bad_server_pids_are_refused_before_any_load() {
    let url = "http://127.0.0.1:9/";
    let p = Prefork::start(&["--workers", "1"]);
    let good = format!("http://{}/", p.addr);
    let mut sleeper = Reaped(Some(Command::new("sleep").arg("30").spawn().unwrap()));
    let sleeper_pid = sleeper.0.as_ref().unwrap().id().to_string();
    let me = std::process::id().to_string();
    for (args, says) in [
        (
            vec!["--url", url, "--server-pid", "999999999"],
            "no such process",
        ),
        (
            vec!["--url", &good, "--server-pid", &sleeper_pid],
            "no process from it down holds a listening socket",
        ),
        (
            vec!["--url", &good, "--server-pid", &me],
            "is itself in its tree",
        ),
        (
            vec!["--url", &good, "--worker-header", "X Worker"],
            "not an HTTP header name",
        ),
    ] {
        let mut all = vec!["load", "--duration", "1s"];
        all.extend(args);
        let o = herd_output(&all, Duration::from_secs(30));
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {e}");
        assert!(e.contains(says), "{all:?}: {e}");
    }
    let _ = sleeper.0.as_mut().unwrap().kill();
}

#[test]
fn herd_run_rows_carry_the_accept_queue_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = herd_output(
        &[
            "run",
            "--strategy",
            "reuseport",
            "--workers",
            "3",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
            "--concurrency",
            "4",
            "--quiet",
            "--out",
            out,
        ],
        Duration::from_secs(60),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let row = &csv_rows(&dir.path().join("runs.csv"))[0];
    assert_eq!(row["server_source"], "scoreboard");
    assert!(num(row, "accept_queue_samples") > 0.0);
    // reuseport: one listener per worker. The master makes them all before fork, so every
    // worker holds every socket (and waits on its own): each listener names all four.
    assert_eq!(num(row, "listeners"), 3.0);
    let listeners = csv_rows(&dir.path().join("listeners.csv"));
    assert_eq!(listeners.len(), 3);
    let workers = csv_rows(&dir.path().join("workers.csv"));
    for l in &listeners {
        let holders: Vec<&str> = l["holders"].split(' ').collect();
        assert_eq!(holders.len(), 4, "{l:?}");
        assert!(workers.iter().all(|w| holders.contains(&w["pid"].as_str())));
        assert!(num(l, "samples") > 0.0);
    }
    let cpu: f64 = workers.iter().map(|w| num(w, "cpu_share")).sum();
    assert!((cpu - 1.0).abs() < 1e-6);
    assert!(row["listen_overflows"].parse::<u64>().is_ok());
}
