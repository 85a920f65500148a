//! The master under faults: reloads, scaling, crashed workers, dead lock holders, fd
//! exhaustion, slow clients. Every process is reaped by the guards in `common`.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Poll the scoreboard until `ok` holds (bounded), returning the last one.
fn scoreboard_until(s: &Server, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let v = s.scoreboard();
        if ok(&v) || Instant::now() > end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serving(v: &serde_json::Value) -> Vec<i32> {
    v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["pid"].as_i64().unwrap() as i32)
        .filter(|&p| p != 0 && alive(p))
        .collect()
}

fn chaos(strategy: &str, schedule: &str, duration: &str, dir: &std::path::Path) -> Vec<Row> {
    let out = herd_output(
        &[
            "chaos",
            "--strategy",
            strategy,
            "--workers",
            "3",
            "--concurrency",
            "8",
            "--schedule",
            schedule,
            "--duration",
            duration,
            "--baseline",
            "300ms",
            "--out",
            dir.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{strategy}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    csv_rows(&dir.join("chaos.csv"))
        .into_iter()
        .filter(|r| r["strategy"] == strategy)
        .collect()
}

type Row = std::collections::HashMap<String, String>;

#[test]
fn twenty_reloads_under_load_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for s in [
        "blocking",
        "sysv-sem",
        "pthread-mutex",
        "epoll-shared",
        "epoll-exclusive",
        "reuseport",
    ] {
        // Faults at 100 ms, 200 ms, ... before 2.05 s: 20 reloads.
        let rows = chaos(s, "reload:100ms", "2050ms", dir.path());
        let r = &rows[0];
        assert_eq!(num(r, "faults_applied"), 20.0, "{s}");
        assert_eq!(num(r, "reloads"), 20.0, "{s}: the master saw every SIGHUP");
        assert!(num(r, "requests_ok") > 0.0, "{s}");
        assert_eq!(num(r, "errors"), 0.0, "{s}: connections lost: {r:?}");
        assert_eq!(r["serving_after"], "true", "{s}: {r:?}");
    }
}

#[test]
fn a_lock_holder_killed_holding_the_lock_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    for s in ["sysv-sem", "pthread-mutex"] {
        let rows = chaos(s, "kill-holder:300ms", "1300ms", dir.path());
        let r = &rows[0];
        assert_eq!(num(r, "faults_applied"), 4.0, "{s}");
        assert_eq!(
            num(r, "worker_deaths"),
            4.0,
            "{s}: each fault kills a holder"
        );
        assert_eq!(num(r, "unrecovered"), 0.0, "{s}: {r:?}");
        assert!(num(r, "recovery_max_ms") < 1000.0, "{s}: {r:?}");
        assert_eq!(num(r, "restarts"), 4.0, "{s}: {r:?}");
        assert_eq!(r["serving_after"], "true", "{s}: {r:?}");
    }
    // Without a lock there is no holder to kill: reported, not faked.
    let rows = chaos("blocking", "kill-holder:300ms", "700ms", dir.path());
    assert_eq!(num(&rows[0], "faults_applied"), 0.0);
}

#[test]
fn die_holding_lock_fault_loses_no_connection() {
    for s in ["sysv-sem", "pthread-mutex"] {
        let srv = Server::start(&[
            "--workers",
            "2",
            "--strategy",
            s,
            "--fault",
            "die-holding-lock:0.1",
        ]);
        for i in 0..60 {
            let r = get(srv.addr);
            assert!(r.starts_with("HTTP/1.1 200"), "{s}: request {i}: {r}");
        }
        assert!(
            srv.line_with("worker-exit ", Duration::from_secs(5))
                .is_some_and(|l| l.contains("signal 9")),
            "{s}: no holder died"
        );
        let v = scoreboard_until(&srv, |v| serving(v).len() == 2);
        assert_eq!(serving(&v).len(), 2, "{s}: {v}");
        assert!(sum(&v, "restarts") >= 1, "{s}: {v}");
    }
}

#[test]
fn a_crashing_worker_is_restarted_in_its_slot() {
    let srv = Server::start(&["--workers", "2", "--fault", "crash-after:5"]);
    for i in 0..30 {
        let r = get(srv.addr);
        assert!(r.starts_with("HTTP/1.1 200"), "request {i}: {r}");
    }
    let line = srv
        .line_with("worker-exit ", Duration::from_secs(5))
        .expect("a worker-exit line");
    assert!(line.contains("exit 86"), "{line}");
    let v = scoreboard_until(&srv, |v| serving(v).len() == 2);
    assert_eq!(serving(&v).len(), 2, "{v}");
    let slots: Vec<u64> = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["worker"].as_u64().unwrap())
        .collect();
    assert_eq!(slots, vec![0, 1], "restarts reuse their slots");
    assert!(sum(&v, "restarts") >= 4, "30 connections / 5 each: {v}");
    assert!(sum(&v, "generation") >= 6, "{v}");
}

#[test]
fn ttin_and_ttou_change_the_worker_count() {
    for strategy in ["blocking", "reuseport", "reuseport-ebpf"] {
        if skip_unsupported(strategy) {
            continue;
        }
        let srv = Server::start(&["--workers", "2", "--strategy", strategy]);
        // One at a time: a second SIGTTIN sent while the first is pending would merge with it.
        srv.signal(libc::SIGTTIN);
        let v = scoreboard_until(&srv, |v| serving(v).len() == 3);
        assert_eq!(serving(&v).len(), 3, "{strategy}: {v}");
        srv.signal(libc::SIGTTIN);
        let v = scoreboard_until(&srv, |v| serving(v).len() == 4);
        assert_eq!(serving(&v).len(), 4, "{strategy}: {v}");
        let before = serving(&v);
        srv.signal(libc::SIGTTOU);
        let v = scoreboard_until(&srv, |v| {
            v["workers"].as_array().unwrap().len() == 3 && v["draining"] == 0
        });
        assert_eq!(v["workers"].as_array().unwrap().len(), 3, "{strategy}: {v}");
        let after = serving(&v);
        let removed: Vec<i32> = before.into_iter().filter(|p| !after.contains(p)).collect();
        assert_eq!(removed.len(), 1, "{strategy}");
        assert!(all_gone(&removed, Duration::from_secs(5)), "{strategy}");
        // Every remaining socket has a worker: nothing hangs on a removed one.
        for _ in 0..30 {
            assert!(get(srv.addr).starts_with("HTTP/1.1 200"), "{strategy}");
        }
    }
}

/// Raise the soft RLIMIT_NOFILE of another process (prlimit(2)).
fn raise_nofile(pid: i32, n: u64) {
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both pointers are to valid rlimit structs for the duration of the call.
    let r = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(r, 0);
    let lim = libc::rlimit {
        rlim_max: old.rlim_max,
        rlim_cur: lim.rlim_cur.min(old.rlim_max),
    };
    // SAFETY: as above.
    let r = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

fn cpu_ns(v: &serde_json::Value) -> f64 {
    sum(v, "cpu_ns") as f64
}

#[test]
fn an_emfile_storm_burns_no_cpu_and_recovers() {
    for strategy in ["blocking", "epoll-shared", "sysv-sem"] {
        let srv = Server::start(&[
            "--workers",
            "2",
            "--strategy",
            strategy,
            "--worker-nofile",
            "1",
        ]);
        let window = Duration::from_millis(500);
        let a = srv.scoreboard();
        std::thread::sleep(window);
        let b = srv.scoreboard();
        let idle = (cpu_ns(&b) - cpu_ns(&a)) / window.as_secs_f64();
        // The storm: connections queue, every accept() fails with EMFILE.
        let mut clients: Vec<TcpStream> = (0..20)
            .map(|_| {
                let mut c = TcpStream::connect(srv.addr).unwrap();
                c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                c
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let c = srv.scoreboard();
        std::thread::sleep(window);
        let d = srv.scoreboard();
        let storm = (cpu_ns(&d) - cpu_ns(&c)) / window.as_secs_f64();
        assert!(
            sum(&d, "accept_err_no_fds") > 0,
            "{strategy}: no EMFILE: {d}"
        );
        assert_eq!(sum(&d, "accepted"), 0, "{strategy}");
        eprintln!("{strategy}: worker CPU idle {idle:.0} ns/s, EMFILE storm {storm:.0} ns/s");
        // A busy loop would take a whole core (1e9 ns/s); the backoff keeps it near idle.
        assert!(
            storm < idle + 0.2e9,
            "{strategy}: storm {storm:.0} ns/s vs idle {idle:.0} ns/s"
        );
        // Descriptors free up: every queued client is served.
        for p in serving(&d) {
            raise_nofile(p, 1024);
        }
        for c in &mut clients {
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).unwrap();
            assert!(out.starts_with("HTTP/1.1 200"), "{strategy}: {out}");
        }
    }
}

#[test]
fn a_half_request_is_dropped_after_the_read_timeout() {
    let srv = Server::start(&["--workers", "1", "--read-timeout", "300ms"]);
    let mut c = TcpStream::connect(srv.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    let mut buf = [0u8; 64];
    // The server closes (a read of 0 bytes) well before the client's 10 s timeout, which
    // would be an error here, not a pass.
    let n = c
        .read(&mut buf)
        .expect("the server closes the connection, not the client's read timeout");
    assert_eq!(n, 0, "not dropped");
    // The only worker is free again, and garbage still gets a 400.
    assert!(get(srv.addr).starts_with("HTTP/1.1 200"));
    let mut g = TcpStream::connect(srv.addr).unwrap();
    g.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    g.write_all(b"BREW /pot HTCPCP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    g.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(get(srv.addr).starts_with("HTTP/1.1 200"));
}
