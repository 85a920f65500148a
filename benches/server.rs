//! What `accept_path` and `wakeup` share: a `herd serve` child of the built herd binary, started
//! once per benchmark and stopped and reaped when dropped (by `ServerChild`, also on a panic),
//! and one HTTP/1.1 round trip against it made the way `herd run`'s client makes it, with the
//! clock reads each benchmark needs.
//!
//! `HERD_BENCH_WORKER_MODEL=event` runs the server benches in the event model
//! (`--worker-model event`): the strategies without an event form are named and skipped.
use herd::harness::ServerChild;
use herd::strategy::{StrategyKind, WorkerModel};
use herd::sys::clock::monotonic_ns;
use herd::sys::net::set_bind_address_no_port;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The herd binary cargo built for this bench (same profile).
pub fn herd_exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_herd"))
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `<target>/criterion` of the
/// target directory the herd binary was built in (what criterion finds through cargo).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = herd_exe()
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("target"));
    target.join("criterion")
}

/// The worker model of the server benches: `HERD_BENCH_WORKER_MODEL` (`sync`, the default, or
/// `event`).
pub fn worker_model() -> WorkerModel {
    match std::env::var("HERD_BENCH_WORKER_MODEL").as_deref() {
        Ok("event") => WorkerModel::Event,
        Ok("sync") | Err(_) => WorkerModel::Sync,
        Ok(other) => panic!("HERD_BENCH_WORKER_MODEL={other}: expected sync or event"),
    }
}

/// Every strategy this kernel supports in the benches' worker model, in `StrategyKind::ALL`
/// order; the others are named on stderr and skipped.
pub fn strategies() -> Vec<StrategyKind> {
    let (ok, skipped) = herd::strategy::split_supported(StrategyKind::ALL);
    for (s, why) in skipped {
        eprintln!("skipping strategy {s}: {why}");
    }
    let model = worker_model();
    ok.into_iter()
        .filter(|s| match s.supports_model(model) {
            Ok(()) => true,
            Err(why) => {
                eprintln!("skipping strategy {s} (no --worker-model {model} form): {why}");
                false
            }
        })
        .collect()
}

/// The worker counts each strategy is measured with: one, and eight idle ones (the herd).
pub const WORKERS: [usize; 2] = [1, 8];

/// A running `herd serve --strategy S --workers N` on 127.0.0.1 and its worker pids (and its
/// hand-off acceptor's).
pub struct Herd {
    server: ServerChild,
    workers: Vec<u64>,
    sources: std::iter::Cycle<std::ops::RangeInclusive<u8>>,
}

impl Herd {
    pub fn start(strategy: StrategyKind, n: usize) -> Herd {
        let args = [
            "--strategy",
            strategy.name(),
            "--workers",
            &n.to_string(),
            "--worker-model",
            worker_model().name(),
            "--addr",
            "127.0.0.1:0",
        ]
        .map(String::from);
        let mut server = ServerChild::start(herd_exe(), &args, true)
            .unwrap_or_else(|e| panic!("herd serve --strategy {strategy}: {e}"));
        let snap = server.snapshot().expect("scoreboard of herd serve");
        let mut workers: Vec<u64> = snap.workers.iter().map(|w| w.pid).collect();
        assert_eq!(workers.len(), n, "one scoreboard slot per worker");
        // A hand-off strategy's acceptor must be asleep too before a connection.
        workers.extend(snap.acceptor.iter().map(|a| a.pid));
        Herd {
            server,
            workers,
            // As herd run's client: each connection from the next of 127.0.0.2-254, so that
            // tens of thousands of connections never run short of 4-tuples.
            sources: (herd::load::source::FIRST..=herd::load::source::LAST).cycle(),
        }
    }

    /// Wait (up to 100 ms) until every worker is asleep (state S in /proc/PID/stat): in
    /// accept(), epoll_wait() or its accept lock, so that the next connection finds an idle
    /// server. Returns false if some worker was still running at the deadline.
    pub fn wait_idle(&self) -> bool {
        let deadline = Instant::now() + Duration::from_millis(100);
        loop {
            if self.workers.iter().all(|&pid| asleep(pid)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::yield_now();
        }
    }

    /// One connection: connect, `GET /` with `Connection: close`, read the response to EOF,
    /// close. The socket is made and bound to its source address before the clock starts, and
    /// the response is checked after it stops.
    pub fn round_trip(&mut self) -> RoundTrip {
        let src = self.sources.next().unwrap_or(herd::load::source::FIRST);
        let sock = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("socket");
        set_bind_address_no_port(&sock).expect("IP_BIND_ADDRESS_NO_PORT");
        let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, src)), 0);
        sock.bind(&local.into()).expect("bind source address");
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("SO_RCVTIMEO");
        let mut resp = Vec::with_capacity(256);
        let connect_ns = monotonic_ns();
        sock.connect(&self.server.addr.into()).expect("connect");
        let mut s: TcpStream = sock.into();
        s.write_all(b"GET / HTTP/1.1\r\nHost: herd\r\nConnection: close\r\n\r\n")
            .expect("send request");
        s.read_to_end(&mut resp).expect("read response");
        let eof_ns = monotonic_ns();
        drop(s);
        RoundTrip {
            connect_ns,
            eof_ns,
            accept_ns: accept_ns(&resp),
        }
    }
}

/// What one connection's clocks said.
pub struct RoundTrip {
    /// CLOCK_MONOTONIC just before connect().
    pub connect_ns: u64,
    /// CLOCK_MONOTONIC just after the read that saw EOF (the close is not timed).
    pub eof_ns: u64,
    /// The worker's `X-Herd-Accept-Ns`: CLOCK_MONOTONIC just after its accept() returned.
    pub accept_ns: u64,
}

/// The `X-Herd-Accept-Ns` header of a complete `200` response.
fn accept_ns(resp: &[u8]) -> u64 {
    let text = std::str::from_utf8(resp).expect("UTF-8 response");
    assert!(text.starts_with("HTTP/1.1 200 "), "not a 200: {text:?}");
    assert!(
        text.ends_with("\r\n\r\nok\n"),
        "incomplete response: {text:?}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("X-Herd-Accept-Ns: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no X-Herd-Accept-Ns in {text:?}"))
}

/// Whether process `pid` is in interruptible sleep (or gone: then it cannot run either).
fn asleep(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('S')),
        Err(_) => true,
    }
}
