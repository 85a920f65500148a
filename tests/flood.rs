//! 10,000 idle connections against a 4-worker `herd serve`, in each worker model: a new
//! client is still answered (sync: once a worker's read timeout frees it; event: at once, the
//! loop holds the idle connections), and the server's memory stays bounded (its resident set,
//! summed over master and workers, is printed). The flood and the server are separate
//! processes, so each has the 20,000 descriptors of `ulimit -n` to itself. A sync server gets
//! through a flood of 10,000 with `--defer-accept` and a SYN queue that holds them: that case
//! runs in a network namespace of its own, whose somaxconn it raises (root).
mod common;
use common::*;
use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const IDLE: usize = 10_000;

/// One flood at a time: two would need more descriptors than `ulimit -n` gives this process.
static ONE_FLOOD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_flood() -> std::sync::MutexGuard<'static, ()> {
    ONE_FLOOD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Open `n` connections that send nothing, from source addresses 127.0.0.2.., without waiting
/// for each handshake.
fn flood(addr: SocketAddr, n: usize) -> Vec<Socket> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = Socket::new(Domain::IPV4, Type::STREAM.nonblocking(), None).unwrap();
        let src: SocketAddr = format!("127.0.0.{}:0", 2 + i % 250).parse().unwrap();
        s.bind(&src.into()).unwrap();
        match s.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => panic!("connect {i}: {e}"),
        }
        out.push(s);
    }
    out
}

/// Resident memory of `pid` and its children, in KiB.
fn rss_kb(pid: i32) -> u64 {
    let read = |p: i32| -> u64 {
        std::fs::read_to_string(format!("/proc/{p}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let kids: Vec<i32> = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    read(pid) + kids.iter().map(|&k| read(k)).sum::<u64>()
}

/// A GET from 127.0.0.1; how long until its whole response.
fn timed_get(addr: SocketAddr, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, limit).ok()?;
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then(|| t.elapsed())
}

/// Each case: idle connections, model, strategy, extra flags, whether a new client must be
/// answered while the flood holds.
const CASES: [(usize, &str, &str, &[&str], bool); 5] = [
    (
        IDLE,
        "event",
        "epoll-exclusive",
        &["--worker-connections", "4096"],
        true,
    ),
    // Sync workers take idle connections one by one and wait out each one's read timeout; the
    // new client queues behind thousands of them. TCP_DEFER_ACCEPT keeps idle connections out
    // of the accept queue only while they fit in the SYN queue (the backlog, capped by
    // somaxconn): past that, SYN cookies complete them straight into the accept queue. With
    // room for the flood in the queue it holds (the last test), the sync server gets through.
    (IDLE, "sync", "blocking", &["--defer-accept", "5s"], false),
    (IDLE, "sync", "blocking", &[], false),
    (800, "sync", "blocking", &["--defer-accept", "5s"], true),
    (800, "sync", "blocking", &[], false),
];

#[test]
fn idle_floods_do_not_shut_out_a_new_client() {
    let _one = one_flood();
    for (idle_n, model, strategy, extra, must) in CASES {
        let mut args = vec![
            "--workers",
            "4",
            "--worker-model",
            model,
            "--strategy",
            strategy,
        ];
        args.extend(["--read-timeout", "1s", "--backlog", "1024"]);
        args.extend_from_slice(extra);
        let s = Server::start(&args);
        let before = rss_kb(s.pid());
        let idle = flood(s.addr, idle_n);
        std::thread::sleep(Duration::from_millis(1500));
        let answered = timed_get(s.addr, Duration::from_secs(if must { 10 } else { 4 }));
        let during = rss_kb(s.pid());
        eprintln!(
            "{model} {extra:?}: {idle_n} idle connections; a new client answered after \
             {answered:?}; server RSS {before} KiB before, {during} KiB during",
        );
        assert!(!must || answered.is_some(), "{model} {extra:?}: shut out");
        assert!(during < 256 * 1024, "{model}: RSS {during} KiB");
        // Once the flood goes, the server serves again.
        drop(idle);
        assert!(
            timed_get(s.addr, Duration::from_secs(30)).is_some(),
            "{model} {extra:?}: no recovery after the flood"
        );
    }
}

/// The sync model's answer to an idle flood: TCP_DEFER_ACCEPT keeps connections that have sent
/// nothing in the SYN queue, out of the workers' way, as long as the queue holds them: a backlog
/// (and somaxconn) above the flood. Run in a private network namespace, where raising
/// net.core.somaxconn touches nothing else on the host; skipped without root.
#[test]
fn a_sync_server_with_defer_accept_and_room_in_its_syn_queue_outlasts_the_flood() {
    let _one = one_flood();
    let t = std::thread::spawn(|| {
        // The namespace is this thread's: the sockets it opens, the processes it starts and
        // the /proc/sys/net it writes are all inside it.
        if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
            eprintln!("skipped: a private network namespace needs root ({e})");
            return;
        }
        let up = std::process::Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        if !up.is_ok_and(|s| s.success()) {
            eprintln!("skipped: `ip link set lo up` failed (iproute2 missing?)");
            return;
        }
        std::fs::write("/proc/sys/net/core/somaxconn", "16384").unwrap();
        let s = Server::start(&[
            "--workers",
            "4",
            "--strategy",
            "blocking",
            "--read-timeout",
            "1s",
            "--backlog",
            "16384",
            "--defer-accept",
            "30s",
        ]);
        let before = rss_kb(s.pid());
        let idle = flood(s.addr, IDLE);
        std::thread::sleep(Duration::from_millis(1500));
        let answered = timed_get(s.addr, Duration::from_secs(10));
        let during = rss_kb(s.pid());
        eprintln!(
            "sync --defer-accept, backlog 16384: {IDLE} idle connections; a new client \
             answered after {answered:?}; server RSS {before} KiB before, {during} KiB during"
        );
        assert!(
            answered.is_some(),
            "shut out despite the room in the SYN queue"
        );
        assert!(during < 256 * 1024, "RSS {during} KiB");
        drop(idle);
    });
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}
