//! CPU sets and sched_setaffinity(2): the partition of a host between the server under test
//! and the load generator (`--server-cpus`, `--client-cpus`). A thread's affinity is inherited
//! by the threads it creates and the processes it forks, so pinning a server's master before it
//! starts its workers pins every worker, process or thread, and anything else it starts later
//! (a hand-off acceptor, a respawned worker).
use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet as NixSet};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::fmt;
use std::io;

/// A set of CPUs, written as the kernel writes them (`0`, `1-3,6`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CpuSet(BTreeSet<usize>);

/// The most CPUs a set may name (glibc's CPU_SETSIZE).
pub const MAX_CPUS: usize = 1024;

impl CpuSet {
    /// Parse a CPU list: comma-separated numbers and ranges `A-B` (A ≤ B), each below 1024.
    pub fn parse(s: &str) -> Result<CpuSet, String> {
        let mut set = BTreeSet::new();
        if s.trim().is_empty() {
            return Err("an empty CPU list (expected e.g. 0 or 1-3,6)".into());
        }
        for part in s.split(',').map(str::trim) {
            let num = |v: &str| -> Result<usize, String> {
                let n: usize = v.trim().parse().map_err(|_| {
                    format!("`{part}`: not a CPU number or range (e.g. 0 or 1-3,6)")
                })?;
                if n >= MAX_CPUS {
                    return Err(format!("`{part}`: CPU {n} is beyond {}", MAX_CPUS - 1));
                }
                Ok(n)
            };
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(format!("`{part}`: a range must go up (e.g. 1-3)"));
                    }
                    set.extend(a..=b);
                }
                None => {
                    set.insert(num(part)?);
                }
            }
        }
        Ok(CpuSet(set))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }

    /// The CPUs of `self` that are not in `other`.
    pub fn minus(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.difference(&other.0).copied().collect())
    }

    /// The CPUs in both.
    pub fn common(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.intersection(&other.0).copied().collect())
    }

    fn to_nix(&self) -> io::Result<NixSet> {
        let mut s = NixSet::new();
        for c in self.iter() {
            s.set(c).map_err(io::Error::from)?;
        }
        Ok(s)
    }
}

impl fmt::Display for CpuSet {
    /// The compact form: runs of consecutive CPUs as ranges (`0-3,6`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut it = self.iter().peekable();
        while let Some(a) = it.next() {
            let mut b = a;
            while it.peek() == Some(&(b + 1)) {
                b += 1;
                it.next();
            }
            parts.push(if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            });
        }
        f.write_str(&parts.join(","))
    }
}

/// Which CPUs the server under test and the load generator may run on; `None`: not pinned
/// (anywhere the host allows, as before partitions existed). The two sets never overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partition {
    pub server: Option<CpuSet>,
    pub client: Option<CpuSet>,
}

impl Partition {
    /// The sets as the rows write them: `(server_cpus, client_cpus)`, empty when not pinned.
    pub fn columns(&self) -> (Option<String>, Option<String>) {
        (
            self.server.as_ref().map(CpuSet::to_string),
            self.client.as_ref().map(CpuSet::to_string),
        )
    }
}

/// The CPUs online on this host (/sys/devices/system/cpu/online).
pub fn online() -> io::Result<CpuSet> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online")?;
    CpuSet::parse(text.trim()).map_err(io::Error::other)
}

/// The CPUs the calling thread may run on (its cpuset and affinity, as `taskset` sets them).
pub fn allowed() -> io::Result<CpuSet> {
    let s = sched_getaffinity(Pid::from_raw(0)).map_err(io::Error::from)?;
    Ok(CpuSet(
        (0..NixSet::count())
            .filter(|&c| s.is_set(c).unwrap_or(false))
            .collect(),
    ))
}

/// Pin thread `tid` (0: the calling thread) to `set`. Threads it creates and processes it forks
/// afterwards inherit the set.
pub fn pin(tid: u64, set: &CpuSet) -> io::Result<()> {
    sched_setaffinity(Pid::from_raw(tid as i32), &set.to_nix()?).map_err(io::Error::from)
}

/// Pin the calling thread to `set`, if there is one.
pub fn pin_current(set: Option<&CpuSet>) -> io::Result<()> {
    match set {
        Some(s) => pin(0, s),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_print_in_the_kernels_form() {
        let s = CpuSet::parse("1-3,6, 0").unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 6]);
        assert_eq!(s.to_string(), "0-3,6");
        assert_eq!(CpuSet::parse("5").unwrap().to_string(), "5");
        assert_eq!(CpuSet::parse("1,3,4").unwrap().to_string(), "1,3-4");
        for bad in ["", "a", "3-1", "1-", "-1", "1024", "0,,1"] {
            assert!(CpuSet::parse(bad).is_err(), "{bad}");
        }
        let a = CpuSet::parse("0-2").unwrap();
        let b = CpuSet::parse("2-3").unwrap();
        assert_eq!(a.common(&b).to_string(), "2");
        assert_eq!(a.minus(&b).to_string(), "0-1");
    }

    #[test]
    fn a_thread_pinned_reads_back_its_set() {
        let cpus = allowed().unwrap();
        assert!(!cpus.is_empty());
        assert!(online().unwrap().len() >= cpus.len());
        let first = CpuSet::parse(&cpus.iter().next().unwrap().to_string()).unwrap();
        // A thread of its own, so the test harness's other threads keep their sets.
        std::thread::spawn(move || {
            pin(0, &first).unwrap();
            assert_eq!(allowed().unwrap(), first);
        })
        .join()
        .unwrap();
    }
}
