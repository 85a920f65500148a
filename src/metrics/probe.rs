//! What the kernel says about a server over one phase, read from outside it: the accept queues
//! of the listeners on the target port (sampled through sock_diag every few milliseconds), the
//! namespace's listen-failure counters before and after, and, given its PIDs, the accounting of
//! the server's processes and threads ([`tree`](super::tree)). `herd run` and `herd load` start
//! a [`Probe`] when the phase starts and [`Probe::finish`] it when the phase ends.
use super::netstat::ListenCounters;
use super::tree::{self, ServerTasks, TreeSampler};
use crate::sys::affinity::{self, CpuSet};
use crate::sys::clock::monotonic_ns;
use crate::sys::sock_diag::{Listener, SockDiag};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the server's tree is walked again during a phase (a worker that exits loses at
/// most this much of its accounting).
pub const TREE_INTERVAL: Duration = Duration::from_millis(200);

/// What to watch.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The listeners' port.
    pub port: u16,
    /// Sample the accept queues this often; zero: not at all.
    pub queue_interval: Duration,
    /// The server's PIDs, to name the holders of each listener; empty: not known.
    pub server_pids: Vec<u64>,
    /// Report the processes and threads under `server_pids` ([`TreeSampler`]) as the server's
    /// figures. Their CPU time is measured whenever PIDs are given, for the host's noise
    /// ([`PhaseProbe::server_cpu_ns`]).
    pub measure_tree: bool,
    /// `--client-cpus`: the sampling thread runs there, beside the load generator.
    pub cpus: Option<CpuSet>,
}

/// One listener's queue over the phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerStats {
    pub inode: u32,
    pub addr: IpAddr,
    pub port: u16,
    /// The backlog (at the last sample that saw it).
    pub backlog: u32,
    /// Samples that saw it.
    pub samples: u64,
    pub max: u32,
    pub sum: u64,
    /// The server's processes holding it (empty when the server's PIDs are not known).
    pub holders: Vec<u64>,
}

impl ListenerStats {
    pub fn mean(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.sum as f64 / self.samples as f64
        }
    }
}

/// The accept queues over the phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub listeners: Vec<ListenerStats>,
    /// Dumps taken.
    pub samples: u64,
    /// Mean over the samples of the connections waiting in all listeners together.
    pub total_mean: f64,
    /// The deepest any one listener's queue was.
    pub max: u32,
}

/// What a phase's probe found. An `Err` holds why that part was not measured.
#[derive(Debug, Clone)]
pub struct PhaseProbe {
    pub queue: Result<QueueStats, String>,
    pub listen: Result<ListenCounters, String>,
    pub server: Option<ServerTasks>,
    /// CPU time of every thread under the server's PIDs over the phase (schedstat), in ns;
    /// `None` when no PID was given or this kernel has no schedstat.
    pub server_cpu_ns: Option<u64>,
}

/// The sampling thread and the readings taken at the phase's start.
pub struct Probe {
    cfg: ProbeConfig,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Sampled>>,
    listen_before: Result<ListenCounters, String>,
}

/// What the sampling thread hands back: the queue sums (or why there are none) and the tree.
type Sampled = (Result<Raw, String>, Option<TreeSampler>);

/// Per-listener sums kept by the sampling thread.
#[derive(Default)]
struct Raw {
    by_inode: BTreeMap<u32, ListenerStats>,
    samples: u64,
    total_sum: u64,
    first_error: Option<String>,
}

impl Probe {
    /// Take the first readings and start sampling. Fails only when a server PID does not exist.
    pub fn start(cfg: &ProbeConfig) -> Result<Probe, String> {
        let tree = if cfg.server_pids.is_empty() {
            None
        } else {
            Some(TreeSampler::start(&cfg.server_pids).map_err(|e| e.to_string())?)
        };
        let listen_before = ListenCounters::read().map_err(|e| e.to_string());
        let stop = Arc::new(AtomicBool::new(false));
        let (port, every) = (cfg.port, cfg.queue_interval);
        let flag = stop.clone();
        let cpus = cfg.cpus.clone();
        let thread = std::thread::Builder::new()
            .name("herd-probe".into())
            .spawn(move || {
                let _ = affinity::pin_current(cpus.as_ref());
                sample_loop(port, every, tree, &flag)
            })
            .map_err(|e| format!("starting the probe thread: {e}"))?;
        Ok(Probe {
            cfg: cfg.clone(),
            stop,
            thread: Some(thread),
            listen_before,
        })
    }

    /// Stop sampling and take the last readings.
    pub fn finish(mut self) -> PhaseProbe {
        self.stop.store(true, Ordering::SeqCst);
        let (raw, tree) = match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            _ => (Err("the probe thread panicked".into()), None),
        };
        let tasks = tree.map(TreeSampler::finish);
        let server_cpu_ns = tasks.as_ref().and_then(|t| t.total_known(|s| s.cpu_ns));
        let server = tasks.filter(|_| self.cfg.measure_tree);
        let listen = match (&self.listen_before, ListenCounters::read()) {
            (Ok(b), Ok(a)) => Ok(a.since(b)),
            (Err(e), _) => Err(e.clone()),
            (_, Err(e)) => Err(e.to_string()),
        };
        let queue = raw.and_then(|r| self.queue_stats(r));
        PhaseProbe {
            queue,
            listen,
            server,
            server_cpu_ns,
        }
    }

    fn queue_stats(&self, r: Raw) -> Result<QueueStats, String> {
        if self.cfg.queue_interval.is_zero() {
            return Err("not sampled (--accept-queue-interval 0s)".into());
        }
        if r.by_inode.is_empty() {
            return Err(match r.first_error {
                Some(e) if r.samples == 0 => format!("sock_diag failed: {e}"),
                _ => format!(
                    "no listening socket on port {} is visible in this network namespace",
                    self.cfg.port
                ),
            });
        }
        // Who holds each listener, from the fds of the server's processes.
        let procs = tree::processes(&self.cfg.server_pids);
        let held: Vec<(u64, _)> = procs
            .iter()
            .filter_map(|&p| Some((p, socket_inodes(p).ok()?)))
            .collect();
        let listeners: Vec<ListenerStats> = r
            .by_inode
            .into_values()
            .map(|mut l| {
                l.holders = held
                    .iter()
                    .filter(|(_, set)| set.contains(&(l.inode as u64)))
                    .map(|(p, _)| *p)
                    .collect();
                l
            })
            .collect();
        Ok(QueueStats {
            samples: r.samples,
            total_mean: if r.samples == 0 {
                0.0
            } else {
                r.total_sum as f64 / r.samples as f64
            },
            max: listeners.iter().map(|l| l.max).max().unwrap_or(0),
            listeners,
        })
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sample_loop(
    port: u16,
    every: Duration,
    mut tree: Option<TreeSampler>,
    stop: &AtomicBool,
) -> Sampled {
    let mut diag = if every.is_zero() {
        None
    } else {
        match SockDiag::open() {
            Ok(d) => Some(d),
            Err(e) => return (Err(format!("sock_diag refused: {e}")), tree),
        }
    };
    let mut raw = Raw::default();
    let tick = if every.is_zero() {
        TREE_INTERVAL
    } else {
        every.min(TREE_INTERVAL)
    };
    let mut next_tree = monotonic_ns() + TREE_INTERVAL.as_nanos() as u64;
    while !stop.load(Ordering::SeqCst) {
        if let Some(d) = diag.as_mut() {
            match d.listeners(port) {
                Ok(ls) => raw.add(&ls),
                Err(e) => {
                    raw.first_error.get_or_insert(e.to_string());
                }
            }
        }
        if monotonic_ns() >= next_tree {
            if let Some(t) = tree.as_mut() {
                t.sample();
            }
            next_tree = monotonic_ns() + TREE_INTERVAL.as_nanos() as u64;
        }
        std::thread::sleep(tick);
    }
    (Ok(raw), tree)
}

impl Raw {
    fn add(&mut self, ls: &[Listener]) {
        self.samples += 1;
        for l in ls {
            self.total_sum += l.queued as u64;
            let s = self.by_inode.entry(l.inode).or_insert(ListenerStats {
                inode: l.inode,
                addr: l.addr,
                port: l.port,
                backlog: l.backlog,
                samples: 0,
                max: 0,
                sum: 0,
                holders: Vec::new(),
            });
            s.backlog = l.backlog;
            s.samples += 1;
            s.max = s.max.max(l.queued);
            s.sum += l.queued as u64;
        }
    }
}

/// Whether any process of the trees under `roots` holds a listening socket on `port`:
/// `Err` when sock_diag cannot tell.
pub fn holds_listener(roots: &[u64], port: u16) -> Result<bool, String> {
    let ls = SockDiag::open()
        .and_then(|mut d| d.listeners(port))
        .map_err(|e| format!("sock_diag: {e}"))?;
    Ok(tree::processes(roots).into_iter().any(|p| {
        socket_inodes(p)
            .map(|set| ls.iter().any(|l| set.contains(&(l.inode as u64))))
            .unwrap_or(false)
    }))
}

/// The inodes of the sockets process `pid` holds (`socket:[INODE]` in /proc/PID/fd).
pub fn socket_inodes(pid: u64) -> io::Result<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    for e in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(link) = fs::read_link(e?.path()) else {
            continue;
        };
        let l = link.to_string_lossy();
        if let Some(n) = l
            .strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
        {
            out.insert(n);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn samples_a_queue_that_fills_and_names_its_holder() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id() as u64;
        assert_eq!(holds_listener(&[me], port), Ok(true));
        let p = Probe::start(&ProbeConfig {
            port,
            queue_interval: Duration::from_millis(2),
            server_pids: vec![me],
            measure_tree: true,
            cpus: None,
        })
        .unwrap();
        let held: Vec<_> = (0..5)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let r = p.finish();
        drop(held);
        let q = r.queue.unwrap();
        assert_eq!(q.listeners.len(), 1);
        assert_eq!(q.max, 5);
        assert!(q.total_mean > 0.0 && q.total_mean <= 5.0);
        assert_eq!(q.listeners[0].holders, vec![me]);
        assert!(r.listen.is_ok());
        assert!(r.server.is_some());
        // This test process's CPU over the phase, from its threads' schedstat.
        assert!(r.server_cpu_ns.is_some());
    }

    #[test]
    fn no_listener_is_a_reason_not_a_zero() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let p = Probe::start(&ProbeConfig {
            port,
            queue_interval: Duration::from_millis(2),
            server_pids: vec![],
            measure_tree: false,
            cpus: None,
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(10));
        let r = p.finish();
        assert!(r.queue.unwrap_err().contains("no listening socket"));
        assert!(r.server.is_none());
    }

    #[test]
    fn socket_inodes_lists_a_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut d = SockDiag::open().unwrap();
        let port = l.local_addr().unwrap().port();
        let inode = d.listeners(port).unwrap()[0].inode as u64;
        assert!(socket_inodes(std::process::id() as u64)
            .unwrap()
            .contains(&inode));
    }
}
