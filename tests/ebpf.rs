//! `reuseport-ebpf` (issue 14): the selector on real SO_REUSEPORT groups on 127.0.0.1 (each
//! listener's accept queue read with TCP_INFO, then drained with accept(2)), the verifier log
//! of a refused program, and the strategy in `herd serve`: exact spreads, a migrating reload,
//! and a user without the privileges skipped with the reason.
mod common;
use common::event::open_counts;
use common::*;
use herd::sys::bpf::{self, map_create, prog_load};
use herd::sys::bpf_error::BpfError;
use herd::sys::bpf_insn::{alu64_imm, exit, Alu, R1};
use herd::sys::bpf_prog::{build, Maps, Ticket, MAX_SOCKETS};
use herd::sys::bpf_selector::{Policy, Selector};
use herd::sys::net::accept_queue_len;
use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The selector needs root (or CAP_BPF + CAP_NET_ADMIN): elsewhere these tests skip, through
/// the same allow-list as every strategy test.
fn no_bpf() -> bool {
    skip_unsupported("reuseport-ebpf")
}

/// `n` listeners on one port of 127.0.0.1, SO_REUSEPORT, non-blocking, in group order.
fn group(n: usize) -> (Vec<TcpListener>, SocketAddr) {
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut out = Vec::new();
    for _ in 0..n {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.set_reuse_port(true).unwrap();
        s.bind(&addr.into()).unwrap();
        s.listen(1024).unwrap();
        s.set_nonblocking(true).unwrap();
        let l: TcpListener = s.into();
        addr = l.local_addr().unwrap();
        out.push(l);
    }
    (out, addr)
}

fn attach(sel: Selector, ls: &[TcpListener]) -> Selector {
    for (i, l) in ls.iter().enumerate() {
        sel.set_socket(i as u32, l).unwrap();
    }
    sel.attach(&ls[0]).unwrap();
    sel
}

fn connect(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect()
}

/// Each listener's accept-queue length once `total` connections are queued (2 s at most),
/// then what accept(2) takes from each: the two must agree.
fn queued_and_accepted(ls: &[TcpListener], total: usize) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut queued;
    loop {
        queued = ls
            .iter()
            .map(|l| accept_queue_len(l).unwrap() as usize)
            .collect::<Vec<_>>();
        if queued.iter().sum::<usize>() >= total || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let accepted: Vec<usize> = ls
        .iter()
        .map(|l| std::iter::from_fn(|| l.accept().ok()).count())
        .collect();
    assert_eq!(queued, accepted, "queue lengths vs accepted");
    accepted
}

#[test]
fn rr_gives_each_of_4_listeners_exactly_a_quarter() {
    if no_bpf() {
        return;
    }
    // Connections one after another: the 4.19 add-then-load ticket is exact too.
    for ticket in [Ticket::FetchAdd, Ticket::AddThenLoad] {
        let (ls, addr) = group(4);
        let sel = attach(
            Selector::with_ticket(Policy::RoundRobin, 4, false, ticket).unwrap(),
            &ls,
        );
        let _clients = connect(addr, 200);
        assert_eq!(
            queued_and_accepted(&ls, 200),
            [50, 50, 50, 50],
            "{ticket:?}"
        );
        assert_eq!(sel.tickets().unwrap(), 200);
    }
}

#[test]
fn least_follows_the_counts_and_rotates_ties() {
    if no_bpf() {
        return;
    }
    let (ls, addr) = group(4);
    let sel = attach(Selector::new(Policy::Least, 4, false).unwrap(), &ls);
    let counts = sel.counts().unwrap();
    let read = || -> Vec<u32> {
        (0..4)
            .map(|i| counts.slot(i).unwrap().load(Ordering::Relaxed))
            .collect()
    };
    // The program counts what it places: the least loaded fills up to the next, and so on.
    for (v, n, want, after) in [
        ([5, 0, 3, 9], 3, [0, 3, 0, 0], [5, 3, 3, 9]),
        ([2, 7, 1, 4], 4, [1, 0, 3, 0], [3, 7, 4, 4]),
        ([3, 3, 3, 3], 40, [10, 10, 10, 10], [13, 13, 13, 13]),
    ] {
        for (i, c) in v.iter().enumerate() {
            counts.slot(i as u32).unwrap().store(*c, Ordering::Relaxed);
        }
        let clients = connect(addr, n);
        assert_eq!(queued_and_accepted(&ls, n), want, "counts {v:?}");
        assert_eq!(read(), after, "counts {v:?}");
        drop(clients);
    }
}

/// Close a listener with 8 connections queued: with SELECT_OR_MIGRATE they move to the other
/// socket (the program runs with ctx->migrating_sk set); with plain SELECT they are reset.
#[test]
fn migrate_moves_queued_connections_off_a_closing_listener() {
    if no_bpf() {
        return;
    }
    let sysctl = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_migrate_req")
        .ok()
        .and_then(|v| v.trim().parse::<u8>().ok());
    for migrate in [false, true] {
        let (mut ls, addr) = group(2);
        let sel = attach(Selector::new(Policy::Least, 2, migrate).unwrap(), &ls);
        let counts = sel.counts().unwrap();
        counts.slot(1).unwrap().store(9, Ordering::Relaxed); // everything to socket 0
        let _clients = connect(addr, 8);
        let deadline = Instant::now() + Duration::from_secs(2);
        while accept_queue_len(&ls[0]).unwrap() < 8 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(accept_queue_len(&ls[0]).unwrap(), 8);
        counts.retire(0);
        drop(ls.remove(0));
        let moved = queued_and_accepted(&ls, if migrate { 8 } else { 0 })[0];
        let seen = sel.migrations().unwrap();
        if migrate {
            assert_eq!((moved, seen), (8, 8));
        } else if sysctl == Some(0) {
            assert_eq!((moved, seen), (0, 0));
        }
    }
}

/// Capacity 4, then 3 selected (SIGTTOU), then 4 again (SIGTTIN): a new program each time,
/// the same maps.
#[test]
fn resize_changes_the_sockets_selected_from() {
    if no_bpf() {
        return;
    }
    let (ls, addr) = group(4);
    let mut sel = attach(Selector::new(Policy::RoundRobin, 4, false).unwrap(), &ls);
    for (active, want) in [(3, [10, 10, 10, 0]), (4, [10, 10, 10, 10])] {
        sel.resize(active, &ls[1]).unwrap();
        let _clients = connect(addr, active as usize * 10);
        assert_eq!(queued_and_accepted(&ls, active as usize * 10), want);
    }
    let e = sel.resize(5, &ls[0]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn the_largest_group_loads_and_a_refused_program_brings_its_verifier_log() {
    if no_bpf() {
        return;
    }
    for migrate in [false, true] {
        Selector::new(Policy::Least, MAX_SOCKETS, migrate).unwrap();
    }
    let e = Selector::new(Policy::Least, MAX_SOCKETS + 1, false)
        .err()
        .unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    for policy in [Policy::RoundRobin, Policy::Least] {
        Selector::with_ticket(policy, 4, false, Ticket::AddThenLoad).unwrap();
    }
    // A scan of 4 slots over a counts value sized for 1: the verifier refuses it.
    let mk = |t, v, n, name| map_create("test map", t, v, n, 0, name).unwrap();
    let socks = mk(bpf::MAP_TYPE_REUSEPORT_SOCKARRAY, 8, 4, "t_socks");
    let counter = mk(bpf::MAP_TYPE_ARRAY, 8, 2, "t_counter");
    let small = mk(bpf::MAP_TYPE_ARRAY, 64, 1, "t_counts");
    let maps = Maps {
        socks: socks.as_raw_fd(),
        counter: counter.as_raw_fd(),
        counts: Some(small.as_raw_fd()),
    };
    let insns = build(4, &maps, Ticket::FetchAdd, false);
    let e = prog_load(bpf::PROG_TYPE_SK_REUSEPORT, 0, &insns, "oversized", "t_bad")
        .err()
        .unwrap();
    let b = BpfError::of(&e).expect("a BpfError");
    assert_eq!(b.errno, libc::EACCES);
    assert!(
        b.log
            .as_deref()
            .unwrap_or("")
            .contains("invalid access to map value"),
        "{e}"
    );
    assert!(e
        .to_string()
        .contains("EACCES (Permission denied)\nverifier log:\n"));
    let e = prog_load(
        bpf::PROG_TYPE_SK_REUSEPORT,
        0,
        &[alu64_imm(Alu::Mov, R1, 0), exit()],
        "no r0",
        "t_r0",
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("R0 !read_ok"), "{e}");
}

/// A keep-alive request on a new connection, left open.
fn hold(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while !buf.ends_with(b"\r\n\r\nok\n") {
        let n = s.read(&mut chunk).expect("response");
        assert!(n > 0, "closed before the response");
        buf.extend_from_slice(&chunk[..n]);
    }
    s
}

#[test]
fn both_policies_spread_long_lived_connections_exactly() {
    if no_bpf() {
        return;
    }
    for policy in ["rr", "least"] {
        let s = Server::start(&[
            "--strategy",
            "reuseport-ebpf",
            "--ebpf-policy",
            policy,
            "--workers",
            "4",
            "--worker-model",
            "event",
        ]);
        let held: Vec<_> = (0..40).map(|_| hold(s.addr)).collect();
        assert_eq!(open_counts(&s, 40), [10, 10, 10, 10], "{policy}");
        drop(held);
    }
}

/// Ten connections queued behind two busy sync workers, then a reload that replaces the
/// sockets; the responses that came back. `migrate` moves what is queued to the new sockets;
/// `recreate` resets it (unless net.ipv4.tcp_migrate_req=1).
fn reload_with_ten_queued(mode: &str) -> usize {
    let s = Server::start(&[
        "--strategy",
        "reuseport-ebpf",
        "--workers",
        "2",
        "--sleep-us",
        "150000",
        "--reuseport-reload",
        mode,
    ]);
    let clients: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    s.signal(libc::SIGHUP);
    clients
        .into_iter()
        .filter(|mut c| {
            let mut out = String::new();
            c.read_to_string(&mut out).is_ok() && out.starts_with("HTTP/1.1 200")
        })
        .count()
}

#[test]
fn a_migrating_reload_keeps_what_is_queued() {
    if no_bpf() {
        return;
    }
    assert_eq!(reload_with_ten_queued("migrate"), 10);
    let sysctl = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_migrate_req").unwrap_or_default();
    if sysctl.trim() == "0" {
        assert!(
            reload_with_ten_queued("recreate") < 10,
            "recreate lost nothing"
        );
    }
}

#[test]
fn without_privileges_it_is_skipped_with_the_reason() {
    use std::os::unix::process::CommandExt;
    if herd::sys::process::euid() != 0 {
        // Already unprivileged: herd must say so.
        let out = herd_output(&["strategies"], Duration::from_secs(30));
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("reuseport-ebpf"))
            .unwrap();
        assert!(
            line.contains("UNSUPPORTED") || skip_unsupported("reuseport-ebpf"),
            "{line}"
        );
        return;
    }
    let as_nobody = |args: &[&str]| {
        herd()
            .args(args)
            .uid(65534)
            .gid(65534)
            .output()
            .expect("run herd as nobody")
    };
    let out = as_nobody(&["strategies"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("reuseport-ebpf"))
        .unwrap();
    assert!(
        line.contains("UNSUPPORTED") && line.contains("EPERM") && line.contains("euid 65534"),
        "{line}"
    );
    let out = as_nobody(&["serve", "--strategy", "reuseport-ebpf"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--strategy reuseport-ebpf") && err.contains("CAP_BPF"),
        "{err}"
    );
    // Asked for as part of a list, it is skipped with the reason and the rest runs.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = as_nobody(&[
        "sweep",
        "--strategies",
        "reuseport-ebpf,blocking",
        "--workers",
        "1",
        "--repeat",
        "1",
        "--duration",
        "100ms",
        "--warmup",
        "0s",
        "--out",
        d,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("reuseport-ebpf") && err.contains("EPERM"),
        "{err}"
    );
    let rows = csv_rows(&dir.path().join("runs.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["strategy"], "blocking");
}
