//! Interrupted drivers leave nothing behind: `herd run` and `herd sweep` killed with SIGINT,
//! SIGTERM or SIGKILL leave no `herd serve` running, no empty file, no torn CSV row, and lose
//! no finished run (docs/reliability.md).
mod common;
use common::*;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The children of `pid` (any thread's).
fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .flat_map(|t| {
            std::fs::read_to_string(t.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// Wait until the driver `pid` has a `herd serve` child that is serving; its pid.
fn server_of(pid: i32, limit: Duration) -> i32 {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        for c in children(pid) {
            let cmd = std::fs::read(format!("/proc/{c}/cmdline")).unwrap_or_default();
            if cmd.split(|&b| b == 0).any(|a| a == b"serve") && !children(c).is_empty() {
                return c;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("driver {pid} started no herd serve within {limit:?}");
}

/// Wait for `child` to exit; its status, stdout and stderr.
fn finish(mut child: Reaped, limit: Duration) -> (Option<i32>, Option<i32>, String, String) {
    let c = child.0.as_mut().unwrap();
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "the driver did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    use std::os::unix::process::ExitStatusExt;
    (status.code(), status.signal(), out, err)
}

fn spawn(args: &[&str]) -> Reaped {
    let child: Child = herd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herd");
    Reaped(Some(child))
}

/// Every file under `dir`, with its size.
fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.filter_map(|e| e.ok()) {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                out.extend(files(&e.path()));
            } else {
                out.push((e.path().display().to_string(), m.len()));
            }
        }
    }
    out
}

const SIGNALS: [(i32, &str); 3] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGKILL, "SIGKILL"),
];

#[test]
fn a_killed_run_leaves_no_server_and_no_empty_file() {
    for (sig, name) in SIGNALS {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = [
            "run",
            "--duration",
            "30s",
            "--warmup",
            "0s",
            "--workers",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        let child = spawn(&args);
        let driver = child.0.as_ref().unwrap().id() as i32;
        let server = server_of(driver, Duration::from_secs(30));
        // Into the measurement.
        std::thread::sleep(Duration::from_millis(1200));
        signal(driver, sig);
        let (code, by, stdout, stderr) = finish(child, Duration::from_secs(20));
        assert!(
            all_gone(&[server], Duration::from_secs(10)),
            "{name}: herd serve {server} outlived its driver"
        );
        if sig == libc::SIGKILL {
            assert_eq!(by, Some(libc::SIGKILL));
        } else {
            assert_eq!(code, Some(128 + sig), "{name}: {stderr}");
            assert!(
                stderr.contains(&format!("interrupted by {name}")),
                "{stderr}"
            );
            // What was measured so far is printed.
            assert!(
                stdout.contains("conn/s"),
                "{name}: no partial summary: {stdout}"
            );
        }
        let empty: Vec<_> = files(&out).into_iter().filter(|(_, n)| *n == 0).collect();
        assert!(empty.is_empty(), "{name}: empty files left: {empty:?}");
        assert!(
            files(&out).is_empty(),
            "{name}: an interrupted run wrote rows: {:?}",
            files(&out)
        );
    }
}

fn sweep_args(out: &str, extra: &[&'static str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "sweep",
        "--strategies",
        "blocking,sysv-sem",
        "--workers",
        "1,2",
        "--concurrency",
        "4",
        "--repeat",
        "3",
        "--duration",
        "250ms",
        "--warmup",
        "0s",
        "--seed",
        "7",
        "--out",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn a_killed_sweep_leaves_no_server() {
    for (sig, name) in SIGNALS {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_str().unwrap().to_string();
        let mut args = sweep_args(&out, &[]);
        args[10] = "30s".into(); // --duration
        let child = spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let driver = child.0.as_ref().unwrap().id() as i32;
        let server = server_of(driver, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(800));
        signal(driver, sig);
        let (code, _, _, stderr) = finish(child, Duration::from_secs(20));
        assert!(
            all_gone(&[server], Duration::from_secs(10)),
            "{name}: herd serve {server} outlived its sweep"
        );
        if sig != libc::SIGKILL {
            assert_eq!(code, Some(128 + sig), "{name}: {stderr}");
            assert!(stderr.contains("--resume"), "{name}: {stderr}");
        }
        let empty: Vec<_> = files(dir.path())
            .into_iter()
            .filter(|(_, n)| *n == 0)
            .collect();
        assert!(empty.is_empty(), "{name}: empty files: {empty:?}");
    }
}

/// The whole lines of a CSV file, and whether a last line was cut short.
fn lines(path: &Path) -> (Vec<String>, bool) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let torn = !text.is_empty() && !text.ends_with('\n');
    let mut l: Vec<String> = text.lines().map(str::to_string).collect();
    if torn {
        l.pop();
    }
    (l, torn)
}

#[test]
fn kills_at_random_moments_lose_no_finished_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap().to_string();
    let mut rng = fastrand::Rng::with_seed(19);
    let mut kept: Vec<String> = Vec::new();
    let mut kills = 0;
    for round in 0..8 {
        let extra: &[&str] = if round == 0 { &[] } else { &["--resume"] };
        let child = spawn(
            &sweep_args(&out, extra)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        let driver = child.0.as_ref().unwrap().id() as i32;
        std::thread::sleep(Duration::from_millis(rng.u64(150..1200)));
        let sig = if rng.bool() {
            libc::SIGKILL
        } else {
            libc::SIGINT
        };
        let exited_already = !alive(driver);
        let servers = children(driver);
        signal(driver, sig);
        let (code, _, _, stderr) = finish(child, Duration::from_secs(30));
        if !exited_already && code != Some(0) {
            kills += 1;
        }
        assert!(
            all_gone(&servers, Duration::from_secs(10)),
            "round {round}: a server outlived the sweep"
        );
        if code == Some(0) {
            break; // it finished before the kill
        }
        assert!(
            code.is_none() || code == Some(128 + libc::SIGINT) || stderr.contains("already"),
            "round {round}: {code:?} {stderr}"
        );
        // Every whole row has the header's fields; no finished run was lost.
        let (runs, _) = lines(&dir.path().join("runs.csv"));
        if let Some(h) = runs.first() {
            let n = h.split(',').count();
            for r in &runs[1..] {
                let row: Vec<&str> = r.split(',').collect();
                assert!(row.len() >= n, "round {round}: a torn row: {r}");
            }
        }
        let ids: Vec<String> = runs
            .iter()
            .skip(1)
            .map(|r| r.split(',').next().unwrap().to_string())
            .collect();
        for id in &kept {
            assert!(ids.contains(id), "round {round}: finished run {id} lost");
        }
        kept = ids;
    }
    let o = herd_output(
        &sweep_args(&out, &["--resume"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        Duration::from_secs(120),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let runs = csv_rows(&dir.path().join("runs.csv"));
    assert_eq!(runs.len(), 12, "2 strategies x 2 worker counts x 3 repeats");
    for id in &kept {
        assert!(
            runs.iter().any(|r| &r["run_id"] == id),
            "finished run {id} lost"
        );
    }
    // Each run in runs.csv has its worker rows (written before it).
    let workers = csv_rows(&dir.path().join("workers.csv"));
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
    eprintln!("kills survived: {kills}");
    assert!(
        kills >= 3,
        "too few kills landed ({kills}) to mean anything"
    );
}
