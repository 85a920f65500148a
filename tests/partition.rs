//! CPU partitions end to end: `--server-cpus` pins every worker of `herd serve` (processes or
//! threads, either worker model), `--client-cpus` the load generator's threads; the sets are
//! recorded in the rows and meta.json; overlapping sets or a CPU the host lacks are usage
//! errors naming the flag.
mod common;
use common::*;
use std::time::{Duration, Instant};

/// `Cpus_allowed_list` of thread `tid` of process `pid`.
fn allowed(pid: i32, tid: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_string())
}

/// Every (pid, tid) of `root` and the processes under it, with its allowed CPUs.
fn tree_threads(root: i32) -> Vec<(i32, String, String)> {
    let mut procs = vec![root];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<i32>().ok());
        if ppid == Some(root) {
            procs.push(pid);
        }
    }
    let mut out = Vec::new();
    for p in procs {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tid = t.file_name().to_string_lossy().into_owned();
            if let Some(a) = allowed(p, &tid) {
                out.push((p, tid, a));
            }
        }
    }
    out
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn every_worker_of_every_mode_and_model_runs_on_the_server_cpus() {
    for mode in ["process", "thread"] {
        for model in ["sync", "event"] {
            let server = Server::start(&[
                "--strategy",
                "epoll-exclusive",
                "--workers",
                "3",
                "--mode",
                mode,
                "--worker-model",
                model,
                "--server-cpus",
                "0",
            ]);
            assert!(get(server.addr).contains("200"), "{mode} {model}: serves");
            let threads = tree_threads(server.pid());
            // The master and three workers at least.
            assert!(threads.len() >= 4, "{mode} {model}: {threads:?}");
            for (p, t, a) in &threads {
                assert_eq!(a, "0", "{mode} {model}: thread {t} of {p} runs on {a}");
            }
        }
    }
}

#[test]
fn overlapping_sets_and_missing_cpus_are_usage_errors_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--server-cpus", "0", "--client-cpus", "0"],
            "overlap in CPU 0",
        ),
        (
            &["run", "--server-cpus", "1000"],
            "--server-cpus 1000: no CPU 1000",
        ),
        (
            &["run", "--client-cpus", "0-999"],
            "--client-cpus 0-999: no CPU",
        ),
        (&["run", "--client-cpus", "2-1"], "--client-cpus"),
        (
            &["serve", "--server-cpus", "999"],
            "--server-cpus 999: no CPU 999",
        ),
        (
            &[
                "chaos",
                "--strategy",
                "blocking",
                "--server-cpus",
                "0",
                "--client-cpus",
                "0",
            ],
            "overlap in CPU 0",
        ),
        (
            &[
                "sweep",
                "--workers",
                "1",
                "--out",
                out,
                "--server-cpus",
                "0",
                "--client-cpus",
                "0",
            ],
            "overlap in CPU 0",
        ),
        (
            &["load", "--url", "http://127.0.0.1:9/", "--server-cpus", "0"],
            "--server-cpus needs --server-pid",
        ),
    ];
    for (args, says) in cases {
        let o = herd_output(args, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "herd {args:?}: {err}");
        assert!(err.contains(says), "herd {args:?}: {err}");
    }
}

#[test]
fn a_partitioned_run_records_its_sets_in_rows_and_meta_json() {
    if cpus() < 2 {
        eprintln!("skipped: needs 2 CPUs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = herd_output(
        &[
            "run",
            "--workers",
            "2",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
            "--concurrency",
            "4",
            "--server-cpus",
            "0",
            "--client-cpus",
            "1",
            "--out",
            out,
        ],
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("server on 0, client on 1"), "{stdout}");
    let r = &csv_rows(&dir.path().join("runs.csv"))[0];
    assert_eq!(r["server_cpus"], "0");
    assert_eq!(r["client_cpus"], "1");
    // One client thread per CPU of its set.
    assert_eq!(num(r, "client_threads"), 1.0);
    assert_eq!(num(r, "errors"), 0.0);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("meta.json")).unwrap())
            .unwrap();
    let p = &meta["invocations"][0]["partition"];
    assert_eq!(
        (p["server_cpus"].as_str(), p["client_cpus"].as_str()),
        (Some("0"), Some("1"))
    );
    assert!(meta["host"]["irqbalance_running"].is_boolean(), "{meta}");
}

#[test]
fn herd_load_pins_its_threads_and_the_server_it_is_given() {
    if cpus() < 2 {
        eprintln!("skipped: needs 2 CPUs");
        return;
    }
    let server = Server::start(&["--workers", "2"]);
    let url = format!("http://{}/", server.addr);
    let pid = server.pid().to_string();
    let child = herd()
        .args([
            "load",
            "--url",
            &url,
            "--duration",
            "3s",
            "--warmup",
            "0s",
            "--concurrency",
            "4",
            "--quiet",
            "--server-pid",
            &pid,
            "--server-cpus",
            "0",
            "--client-cpus",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut load = Reaped(Some(child));
    let load_pid = load.0.as_ref().unwrap().id() as i32;
    // Once the phase runs: the client thread and the sampling thread run on CPU 1, and every
    // thread of the server on CPU 0.
    let end = Instant::now() + Duration::from_secs(2);
    let mut on_1 = 0;
    while Instant::now() < end && on_1 < 2 {
        std::thread::sleep(Duration::from_millis(100));
        on_1 = tree_threads(load_pid)
            .iter()
            .filter(|(_, _, a)| a == "1")
            .count();
    }
    assert!(
        on_1 >= 2,
        "client threads on CPU 1: {:?}",
        tree_threads(load_pid)
    );
    for (p, t, a) in tree_threads(server.pid()) {
        assert_eq!(a, "0", "server thread {t} of {p} runs on {a}");
    }
    let status = load.0.as_mut().unwrap().wait().unwrap();
    assert!(status.success());
}

#[test]
fn chaos_segments_run_on_their_sets_and_say_so() {
    if cpus() < 2 {
        eprintln!("skipped: needs 2 CPUs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = herd_output(
        &[
            "chaos",
            "--strategy",
            "blocking",
            "--workers",
            "2",
            "--concurrency",
            "4",
            "--schedule",
            "reload:200ms",
            "--duration",
            "400ms",
            "--baseline",
            "200ms",
            "--server-cpus",
            "0",
            "--client-cpus",
            "1",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = &csv_rows(&dir.path().join("chaos.csv"))[0];
    assert_eq!(
        (r["server_cpus"].as_str(), r["client_cpus"].as_str()),
        ("0", "1")
    );
    assert_eq!(r["serving_after"], "true", "{r:?}");
}
