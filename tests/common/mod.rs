//! Helpers for integration tests that drive the real `herd` binary. Every process a test
//! starts is held by a guard that kills and reaps it on drop, also when the test fails.
#![allow(dead_code)]
pub mod event;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn herd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_herd"))
}

/// Run herd to completion, bounded in time: a hang is killed and fails the test.
pub fn herd_output(args: &[&str], limit: Duration) -> Output {
    let child = herd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herd");
    let mut guard = Reaped(Some(child));
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
            "herd {args:?} did not finish within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills (SIGKILL) and reaps the child on drop.
pub struct Reaped(pub Option<Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A running `herd serve`.
pub struct Server {
    pub child: Reaped,
    pub addr: SocketAddr,
    pub lines: mpsc::Receiver<String>,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// [`Server::start`] with environment variables set for the server.
    pub fn start_with_env(args: &[&str], env: &[(&str, &Path)]) -> Server {
        let mut child = herd()
            .arg("serve")
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn herd serve");
        let out: ChildStdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let child = Reaped(Some(child));
        let first = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a `listening` line");
        let Some(herd::protocol::Line::Listening(addr)) = herd::protocol::Line::parse(&first)
        else {
            panic!("not a `listening` line: {first}")
        };
        Server { child, addr, lines }
    }

    pub fn pid(&self) -> i32 {
        self.child.0.as_ref().expect("child").id() as i32
    }

    /// The next stdout line starting with `prefix`, within `limit`.
    pub fn line_with(&self, prefix: &str, limit: Duration) -> Option<String> {
        let end = Instant::now() + limit;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Some(l),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    pub fn signal(&self, sig: i32) {
        signal(self.pid(), sig);
    }

    /// Wait for the server to exit; returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        let c = self.child.0.as_mut().expect("child");
        while Instant::now() < end {
            if let Some(s) = c.try_wait().expect("try_wait") {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// The worker pids from a scoreboard snapshot.
    pub fn worker_pids(&self) -> Vec<i32> {
        self.scoreboard()["workers"]
            .as_array()
            .expect("workers")
            .iter()
            .map(|w| w["pid"].as_i64().unwrap() as i32)
            .collect()
    }

    /// Ask for the scoreboard (SIGUSR1) and parse its JSON line.
    pub fn scoreboard(&self) -> serde_json::Value {
        self.signal(libc::SIGUSR1);
        let line = self
            .line_with("scoreboard ", Duration::from_secs(10))
            .expect("scoreboard line");
        assert!(
            matches!(
                herd::protocol::Line::parse(&line),
                Some(herd::protocol::Line::Scoreboard(_))
            ),
            "not a protocol scoreboard line: {line}"
        );
        serde_json::from_str(line.strip_prefix("scoreboard ").unwrap()).expect("json")
    }
}

/// The sum over the scoreboard's workers of a counter.
pub fn sum(v: &serde_json::Value, field: &str) -> u64 {
    v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w[field].as_u64().unwrap())
        .sum()
}

/// Names the strategies a test may skip when this kernel lacks them: a comma-separated list
/// (`HERD_ALLOW_UNSUPPORTED=io-uring,reuseport-cbpf`) or `all`. Unset, a strategy the kernel
/// lacks fails the test: a machine that blocks io_uring does not stay green by accident.
pub const ALLOW_UNSUPPORTED: &str = "HERD_ALLOW_UNSUPPORTED";

/// Where every skip is recorded, one line each; `.ci/run` prints the file after the tests
/// (the test harness hides the stderr of passing tests).
pub const SKIP_LOG: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-strategies.txt");

/// Whether the allow-list `list` (the variable's value) names `strategy`.
pub fn allowed(list: &str, strategy: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|s| s == strategy || s == "all")
}

/// Whether to skip `strategy`: false when this kernel supports it; true when it does not and
/// HERD_ALLOW_UNSUPPORTED names it (the skip is printed and logged to [`SKIP_LOG`]); a panic,
/// failing the test, when it does not and the variable does not name it.
pub fn skip_unsupported(strategy: &str) -> bool {
    let kind = herd::strategy::StrategyKind::ALL
        .iter()
        .find(|k| k.name() == strategy)
        .unwrap_or_else(|| panic!("no strategy {strategy}"));
    let Err(why) = kind.supported() else {
        return false;
    };
    let list = std::env::var(ALLOW_UNSUPPORTED).unwrap_or_default();
    assert!(
        allowed(&list, strategy),
        "{strategy}: this kernel does not support it ({why}); set {ALLOW_UNSUPPORTED}={strategy} \
         (a comma-separated list, or `all`) to let the tests skip it"
    );
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let line = format!("SKIPPED {strategy} in {test}: {why}");
    eprintln!("{line}");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SKIP_LOG);
    if let Ok(mut f) = log {
        let _ = writeln!(f, "{line}");
    }
    true
}

/// Every strategy, less those this kernel lacks and HERD_ALLOW_UNSUPPORTED lets the tests
/// skip (one it lacks and the variable does not name fails the test).
pub fn supported_strategies() -> Vec<&'static str> {
    herd::strategy::StrategyKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|s| !skip_unsupported(s))
        .collect()
}

/// Start `strategy` with `workers` workers, serve `requests` requests, stop it with `sig` and
/// check that it exits 0 with every worker gone.
pub fn serves_then_stops(strategy: &str, workers: &str, requests: usize, sig: i32) {
    let mut s = Server::start(&["--workers", workers, "--strategy", strategy]);
    for _ in 0..requests {
        assert!(get(s.addr).starts_with("HTTP/1.1 200"), "{strategy}");
    }
    let pids = s.worker_pids();
    s.signal(sig);
    assert_eq!(
        s.wait_exit(Duration::from_secs(10)),
        Some(0),
        "{strategy}: no clean exit"
    );
    assert!(
        all_gone(&pids, Duration::from_secs(5)),
        "{strategy}: workers left behind"
    );
}

pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill() has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

pub fn alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Wait until none of `pids` is alive.
pub fn all_gone(pids: &[i32], limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if pids.iter().all(|&p| !alive(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// One HTTP/1.1 request with `Connection: close`; the whole response.
pub fn get(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// Rows of a CSV file as maps from column to value.
pub fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("open csv");
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

pub fn num(row: &std::collections::HashMap<String, String>, col: &str) -> f64 {
    row.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .parse()
        .unwrap_or_else(|_| panic!("{col} not a number"))
}
