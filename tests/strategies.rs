//! The strategies of issue 5 beyond the counts of tests/run.rs: a killed holder of a lock the
//! kernel does not recover (posix-sem, accept-mutex) is released by the master, every new
//! strategy stops gracefully, and a strategy flag given to a strategy it does not apply to is
//! refused.
mod common;
use common::*;
use std::time::{Duration, Instant};

/// The system call a process is blocked in and its arguments, from /proc/PID/syscall
/// (`NR arg0 .. arg5 sp pc`); `None` while it runs or when the file cannot be read.
fn blocked_in(pid: i32) -> Option<(u64, Vec<u64>)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut f = s.split_whitespace();
    let nr = f.next()?.parse().ok()?;
    let args = f
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(0))
        .collect();
    Some((nr, args))
}

/// Wait until exactly one of `pids` satisfies `is_holder`, and return it.
fn find_holder(pids: &[i32], is_holder: impl Fn(u64, &[u64]) -> bool) -> i32 {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let holders: Vec<i32> = pids
            .iter()
            .copied()
            .filter(|&p| blocked_in(p).is_some_and(|(nr, a)| is_holder(nr, &a)))
            .collect();
        if holders.len() == 1 {
            return holders[0];
        }
        assert!(
            Instant::now() < end,
            "no single lock holder among {pids:?}: {:?}",
            pids.iter().map(|&p| blocked_in(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILL the holder, then the server must still answer: the master released the lock.
/// `get` fails the test after its 10 s read timeout if nobody ever accepts again.
fn kill_holder_and_expect_service(s: &Server, holder: i32) {
    signal(holder, libc::SIGKILL);
    let line = s
        .line_with("worker-exit ", Duration::from_secs(10))
        .expect("no worker-exit line for the killed holder");
    assert!(line.contains(&format!("\"pid\":{holder}")), "{line}");
    for _ in 0..3 {
        let resp = get(s.addr);
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
}

const ACCEPT4: u64 = libc::SYS_accept4 as u64;
const EPOLL_WAITS: [u64; 2] = [libc::SYS_epoll_wait as u64, libc::SYS_epoll_pwait as u64];

#[test]
fn a_killed_posix_sem_holder_is_recovered() {
    let s = Server::start(&["--workers", "2", "--strategy", "posix-sem"]);
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    let pids = s.worker_pids();
    // The holder waits in accept4() on the socket; the other sleeps on the semaphore's futex.
    let holder = find_holder(&pids, |nr, _| nr == ACCEPT4);
    kill_holder_and_expect_service(&s, holder);
}

#[test]
fn a_killed_accept_mutex_holder_is_recovered() {
    // The holder waits in epoll_wait() with no timeout (-1); the others with the delay.
    let s = Server::start(&[
        "--workers",
        "2",
        "--strategy",
        "accept-mutex",
        "--accept-mutex-delay",
        "1s",
    ]);
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    let pids = s.worker_pids();
    let holder = find_holder(&pids, |nr, a| {
        // The timeout is an int: -1 reads as 0xffffffff (or sign-extended).
        EPOLL_WAITS.contains(&nr) && matches!(a.get(3), Some(&t) if t as u32 == u32::MAX)
    });
    kill_holder_and_expect_service(&s, holder);
}

#[test]
fn the_lock_file_is_removed_on_exit() {
    let tmp = tempfile::tempdir().unwrap();
    for strategy in ["fcntl", "flock"] {
        let mut child = herd()
            .args(["serve", "--workers", "2", "--strategy", strategy])
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let guard = Reaped(Some(child));
        assert!(line.starts_with("listening "), "{line}");
        let files = || std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(files(), 1, "{strategy}: one lock file while serving");
        let pid = guard.0.as_ref().unwrap().id() as i32;
        signal(pid, libc::SIGTERM);
        let mut guard = guard;
        let status = guard.0.as_mut().unwrap().wait().unwrap();
        assert!(status.success(), "{strategy}: {status}");
        assert_eq!(files(), 0, "{strategy}: lock file left behind");
    }
}

#[test]
fn a_strategy_flag_for_another_strategy_is_a_usage_error() {
    for (args, flag) in [
        (
            &["--strategy", "blocking", "--multi-accept"][..],
            "--multi-accept",
        ),
        (
            &["--strategy", "epoll-shared", "--incoming-cpu"][..],
            "--incoming-cpu",
        ),
        (
            &["--strategy", "poll", "--accept-mutex-backoff"][..],
            "--accept-mutex-backoff",
        ),
        (
            &["--strategy", "accept-mutex", "--accept-mutex-delay", "0s"][..],
            "--accept-mutex-delay",
        ),
    ] {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let out = herd_output(&all, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(flag),
            "{args:?}: message does not name {flag}: {err}"
        );
    }
}

#[test]
fn a_skip_must_be_allowed_by_name() {
    assert!(allowed("io-uring,reuseport-cbpf", "io-uring"));
    assert!(allowed("io-uring, reuseport-cbpf", "reuseport-cbpf"));
    assert!(allowed("all", "epoll-exclusive"));
    assert!(!allowed("", "io-uring"));
    assert!(!allowed("io-uring", "reuseport"));
    // A strategy every Linux kernel has is never skipped, whatever the variable says.
    assert!(!skip_unsupported("blocking"));
}
