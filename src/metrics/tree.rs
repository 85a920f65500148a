//! A server found from its PID down, and the kernel's accounting for its threads over a phase:
//! the same /proc counters herd reads for its own workers ([`procfs::thread_stat`]), for any
//! server (`herd load --server-pid`).
//!
//! The tree is walked again at every sample, through /proc/PID/task/TID/children (or, on a
//! kernel without CONFIG_PROC_CHILDREN, every process's parent in /proc/*/stat), so that a worker
//! started during the phase counts from its start, and one that exits counts up to its last
//! sample: what it did between that sample and its exit is lost, and [`ServerTasks::exited`]
//! says so. A thread is known by (pid, tid, start time), so a reused id is another thread.
use super::procfs::{self, ThreadStat};
use crate::sys::clock;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::Path;

/// What a unit of the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A PID given whose tree has other processes: it forks and supervises, it does not serve.
    Master,
    /// A process below a master, or a thread of a server that is one process.
    Worker,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }
}

/// One process of the tree (its threads added up), or one thread of a one-process server.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub pid: u64,
    /// The thread, for a thread of a one-process server; 0 for a whole process.
    pub tid: u64,
    pub role: Role,
    /// Its counters over the phase (from its start, if it started during the phase).
    pub delta: ThreadStat,
    /// Started during the phase (a respawned or added worker).
    pub started: bool,
    /// Gone before the phase ended: its last moments are not counted.
    pub exited: bool,
}

/// The server's kernel accounting over a phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerTasks {
    pub roots: Vec<u64>,
    pub ticks_per_s: u64,
    pub units: Vec<Unit>,
    /// Threads seen over the phase.
    pub threads: u64,
    /// Threads that exited during the phase, each with its pid and tid.
    pub exited: Vec<(u64, u64)>,
    /// Given PIDs that were gone at the phase's end.
    pub roots_gone: Vec<u64>,
    /// How often the tree was walked.
    pub samples: u64,
}

impl ServerTasks {
    pub fn total(&self, f: impl Fn(&ThreadStat) -> u64) -> u64 {
        self.units.iter().map(|u| f(&u.delta)).sum()
    }

    /// The sum of a count that may be unknown: `None` if any unit's is.
    pub fn total_known(&self, f: impl Fn(&ThreadStat) -> Option<u64>) -> Option<u64> {
        self.units.iter().map(|u| f(&u.delta)).sum()
    }

    pub fn workers(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(|u| u.role == Role::Worker)
    }
}

#[derive(Debug, Clone)]
struct Tracked {
    root: u64,
    pid: u64,
    tid: u64,
    first: ThreadStat,
    last: ThreadStat,
    started: bool,
    seen: bool,
}

/// Walks the tree at each [`TreeSampler::sample`] and keeps each thread's first and last reading.
pub struct TreeSampler {
    roots: Vec<u64>,
    tasks: BTreeMap<(u64, u64, u64), Tracked>,
    /// The phase's start in clock ticks since boot: a thread found later that started before it
    /// is counted from when it was found, not from its start.
    start_ticks: u64,
    ticks_per_s: u64,
    children_files: bool,
    samples: u64,
}

impl TreeSampler {
    /// Check that every root exists and take the first reading.
    pub fn start(roots: &[u64]) -> io::Result<TreeSampler> {
        for &r in roots {
            if !Path::new(&format!("/proc/{r}")).exists() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no process {r}"),
                ));
            }
        }
        let ticks_per_s = clock::clock_ticks_per_sec();
        let me = std::process::id();
        let tid = crate::sys::process::gettid();
        let mut s = TreeSampler {
            roots: roots.to_vec(),
            tasks: BTreeMap::new(),
            start_ticks: clock::boottime_ns() / (1_000_000_000 / ticks_per_s.max(1)),
            ticks_per_s,
            children_files: Path::new(&format!("/proc/{me}/task/{tid}/children")).exists(),
            samples: 0,
        };
        s.sample();
        Ok(s)
    }

    /// Walk the tree again and read every thread in it.
    pub fn sample(&mut self) {
        let first = self.samples == 0;
        self.samples += 1;
        for t in self.tasks.values_mut() {
            t.seen = false;
        }
        let parents = (!self.children_files).then(parent_map);
        for &root in &self.roots.clone() {
            for (pid, tid) in walk(root, parents.as_ref()) {
                let Ok(now) = procfs::thread_stat(pid, tid) else {
                    continue; // it exited between the walk and the read
                };
                let start_ticks = self.start_ticks;
                let t = self
                    .tasks
                    .entry((pid, tid, now.start_ticks))
                    .or_insert_with(|| {
                        let started = !first && now.start_ticks >= start_ticks;
                        Tracked {
                            root,
                            pid,
                            tid,
                            first: if started {
                                // Counted from its start: every count from 0, CPU time
                                // included when this kernel has it.
                                ThreadStat {
                                    cpu_ns: now.cpu_ns.map(|_| 0),
                                    ..Default::default()
                                }
                            } else {
                                now
                            },
                            last: now,
                            started,
                            seen: true,
                        }
                    });
                t.last = now;
                t.seen = true;
            }
        }
    }

    /// The last reading and the phase's figures.
    pub fn finish(mut self) -> ServerTasks {
        self.sample();
        let roots_gone = self.roots.iter().copied().filter(|&r| !alive(r)).collect();
        let mut out = ServerTasks {
            roots: self.roots.clone(),
            ticks_per_s: self.ticks_per_s,
            threads: self.tasks.len() as u64,
            exited: self
                .tasks
                .values()
                .filter(|t| !t.seen)
                .map(|t| (t.pid, t.tid))
                .collect(),
            roots_gone,
            samples: self.samples,
            units: Vec::new(),
        };
        for &root in &self.roots {
            let mine: Vec<&Tracked> = self.tasks.values().filter(|t| t.root == root).collect();
            let forks = mine.iter().any(|t| t.pid != root);
            if forks {
                // One unit per process: the root is the master, every other process a worker.
                let mut procs: BTreeMap<u64, Unit> = BTreeMap::new();
                for t in &mine {
                    let u = procs.entry(t.pid).or_insert_with(|| Unit {
                        pid: t.pid,
                        tid: 0,
                        role: if t.pid == root {
                            Role::Master
                        } else {
                            Role::Worker
                        },
                        delta: ThreadStat {
                            cpu_ns: Some(0),
                            ..Default::default()
                        },
                        started: true,
                        exited: true,
                    });
                    add(&mut u.delta, &since(&t.last, &t.first));
                    // A process started in the phase if its first thread did; it exited if none
                    // of its threads is left.
                    u.started &= t.started;
                    u.exited &= !t.seen;
                }
                out.units.extend(procs.into_values());
            } else {
                out.units.extend(mine.iter().map(|t| Unit {
                    pid: t.pid,
                    tid: t.tid,
                    role: Role::Worker,
                    delta: since(&t.last, &t.first),
                    started: t.started,
                    exited: !t.seen,
                }));
            }
        }
        out
    }
}

fn since(a: &ThreadStat, b: &ThreadStat) -> ThreadStat {
    let d = |x: u64, y: u64| x.saturating_sub(y);
    ThreadStat {
        vol_ctx_switches: d(a.vol_ctx_switches, b.vol_ctx_switches),
        invol_ctx_switches: d(a.invol_ctx_switches, b.invol_ctx_switches),
        utime_ticks: d(a.utime_ticks, b.utime_ticks),
        stime_ticks: d(a.stime_ticks, b.stime_ticks),
        cpu_ns: a.cpu_ns.zip(b.cpu_ns).map(|(x, y)| x.saturating_sub(y)),
        start_ticks: a.start_ticks,
    }
}

fn add(sum: &mut ThreadStat, d: &ThreadStat) {
    sum.vol_ctx_switches += d.vol_ctx_switches;
    sum.invol_ctx_switches += d.invol_ctx_switches;
    sum.utime_ticks += d.utime_ticks;
    sum.stime_ticks += d.stime_ticks;
    // Unknown for one part is unknown for the sum, never counted as 0.
    sum.cpu_ns = sum.cpu_ns.zip(d.cpu_ns).map(|(x, y)| x + y);
}

/// Every (pid, tid) from `root` down. `parents`: child lists from /proc/*/stat, when the kernel
/// has no /proc/PID/task/TID/children.
fn walk(root: u64, parents: Option<&HashMap<u64, Vec<u64>>>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        for tid in numbered(&format!("/proc/{pid}/task")) {
            out.push((pid, tid));
            if parents.is_none() {
                let f = format!("/proc/{pid}/task/{tid}/children");
                if let Ok(text) = fs::read_to_string(f) {
                    stack.extend(
                        text.split_whitespace()
                            .filter_map(|c| c.parse::<u64>().ok()),
                    );
                }
            }
        }
        if let Some(p) = parents {
            stack.extend(p.get(&pid).into_iter().flatten().copied());
        }
    }
    out
}

/// Each process's children, from the parent field of every /proc/PID/stat.
fn parent_map() -> HashMap<u64, Vec<u64>> {
    let mut m: HashMap<u64, Vec<u64>> = HashMap::new();
    for pid in numbered("/proc") {
        if let Some(pp) = ppid(pid) {
            m.entry(pp).or_default().push(pid);
        }
    }
    m
}

/// The parent of process `pid` (/proc/PID/stat's fourth field).
fn ppid(pid: u64) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The numeric entries of a /proc directory (none if it cannot be read).
fn numbered(dir: &str) -> Vec<u64> {
    fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The processes of the trees under `roots` (pids, the roots first).
pub fn processes(roots: &[u64]) -> Vec<u64> {
    let parents = (!Path::new("/proc/self/task")
        .join(crate::sys::process::gettid().to_string())
        .join("children")
        .exists())
    .then(parent_map);
    let mut out: Vec<u64> = Vec::new();
    for &r in roots {
        for (pid, _) in walk(r, parents.as_ref()) {
            if !out.contains(&pid) {
                out.push(pid);
            }
        }
    }
    out
}

/// Whether process `pid` is there and not a zombie (exited, not yet reaped).
fn alive(pid: u64) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| !r.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

/// `pid` and its ancestors up to PID 1, from the parent field of /proc/PID/stat.
pub fn ancestors(pid: u64) -> Vec<u64> {
    let mut out = vec![pid];
    let mut p = pid;
    while p > 1 && out.len() < 4096 {
        match ppid(p) {
            Some(pp) if pp > 0 => {
                out.push(pp);
                p = pp;
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn finds_children_and_counts_a_child_started_later() {
        // This test process is the root: a child started after the first sample counts from its
        // start, and one that exits before the end is reported as exited.
        let me = std::process::id() as u64;
        let mut s = TreeSampler::start(&[me]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let mut short = Command::new("sleep").arg("0.05").spawn().unwrap();
        let mut long = Command::new("sleep").arg("5").spawn().unwrap();
        let (spid, lpid) = (short.id() as u64, long.id() as u64);
        s.sample();
        let _ = short.wait();
        assert!(processes(&[me]).contains(&lpid));
        let r = s.finish();
        let _ = long.kill();
        let _ = long.wait();
        let l = r.units.iter().find(|u| u.pid == lpid).expect("the child");
        assert_eq!(l.role, Role::Worker);
        assert!(l.started && !l.exited, "{l:?}");
        let e = r
            .units
            .iter()
            .find(|u| u.pid == spid)
            .expect("the exited child");
        assert!(e.started && e.exited, "{e:?}");
        assert!(r.exited.iter().any(|&(p, _)| p == spid));
        assert!(r
            .units
            .iter()
            .any(|u| u.pid == me && u.role == Role::Master));
        assert!(r.roots_gone.is_empty());
        assert!(TreeSampler::start(&[u32::MAX as u64 + 7]).is_err());
        let up = ancestors(me);
        assert_eq!(up[0], me);
        assert_eq!(up.last(), Some(&1), "{up:?}");
    }

    #[test]
    fn parent_map_agrees_with_children_files() {
        let me = std::process::id() as u64;
        let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
        let via_files: BTreeSet<_> = walk(me, None).into_iter().map(|(p, _)| p).collect();
        let map = parent_map();
        let via_stat: BTreeSet<_> = walk(me, Some(&map)).into_iter().map(|(p, _)| p).collect();
        let _ = child.wait();
        assert!(via_stat.contains(&(child.id() as u64)));
        if Path::new(&format!("/proc/{me}/task/{me}/children")).exists() {
            assert_eq!(via_files, via_stat);
        }
    }
}
