//! The kernel's accounting for one thread, from /proc/PID/task/TID: context switches
//! (status), user and system time (stat, in clock ticks) and on-CPU nanoseconds (schedstat).
//! These are the counts a herd cannot hide from: a waiter woken and put back to sleep inside
//! epoll_wait never returns to userspace, but it still context-switches.
use std::fs;
use std::io;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadStat {
    pub vol_ctx_switches: u64,
    pub invol_ctx_switches: u64,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// Nanoseconds on CPU (schedstat's first field); precise, unlike the ticks.
    pub cpu_ns: u64,
}

/// Read the counters of thread `tid` of process `pid`.
pub fn thread_stat(pid: u64, tid: u64) -> io::Result<ThreadStat> {
    let dir = format!("/proc/{pid}/task/{tid}");
    let status = fs::read_to_string(format!("{dir}/status"))?;
    let stat = fs::read_to_string(format!("{dir}/stat"))?;
    let schedstat = fs::read_to_string(format!("{dir}/schedstat")).unwrap_or_default();
    parse(&status, &stat, &schedstat)
        .ok_or_else(|| io::Error::other(format!("cannot parse {dir}/status or stat")))
}

fn parse(status: &str, stat: &str, schedstat: &str) -> Option<ThreadStat> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    // stat: "pid (comm) state ..."; comm may contain spaces and parentheses, so split after the
    // last ')'. utime and stime are fields 14 and 15, i.e. 11 and 12 after the state.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(ThreadStat {
        vol_ctx_switches: field("voluntary_ctxt_switches:")?,
        invol_ctx_switches: field("nonvoluntary_ctxt_switches:")?,
        utime_ticks: f.get(11)?.parse().ok()?,
        stime_ticks: f.get(12)?.parse().ok()?,
        cpu_ns: schedstat
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    })
}

/// The whole host's CPU time from /proc/stat's `cpu` line, in clock ticks: all CPUs together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCpu {
    /// Time not idle: user, nice, system, irq, softirq, and steal (time a virtual machine's
    /// CPUs wanted to run but the hypervisor ran something else).
    pub busy: u64,
    /// Busy plus idle and iowait.
    pub total: u64,
}

impl HostCpu {
    pub fn read() -> io::Result<HostCpu> {
        let stat = fs::read_to_string("/proc/stat")?;
        parse_host(&stat).ok_or_else(|| io::Error::other("cannot parse /proc/stat's cpu line"))
    }

    /// Percent of all CPUs' time that was busy between `before` and `self` (0 if none passed).
    pub fn busy_pct_since(&self, before: &HostCpu) -> f64 {
        let total = self.total.saturating_sub(before.total);
        if total == 0 {
            return 0.0;
        }
        100.0 * self.busy.saturating_sub(before.busy) as f64 / total as f64
    }
}

fn parse_host(stat: &str) -> Option<HostCpu> {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is
    // already inside user and nice, so it is not added again.
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    let idle = at(3) + at(4);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    (f.len() >= 4).then_some(HostCpu {
        busy,
        total: busy + idle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_counts_steal_as_busy_and_iowait_as_idle() {
        let stat = "cpu  100 5 50 800 20 1 4 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\nintr 1\n";
        let h = parse_host(stat).unwrap();
        assert_eq!(h.busy, 100 + 5 + 50 + 1 + 4 + 10);
        assert_eq!(h.total, h.busy + 800 + 20);
        let later = HostCpu {
            busy: h.busy + 30,
            total: h.total + 120,
        };
        assert_eq!(later.busy_pct_since(&h), 25.0);
        assert_eq!(h.busy_pct_since(&h), 0.0);
        assert!(parse_host("intr 1\n").is_none());
        assert!(HostCpu::read().unwrap().total > 0);
    }

    #[test]
    fn parses_a_comm_with_spaces_and_parens() {
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t125\nnonvoluntary_ctxt_switches:\t36\n";
        let stat = "1055 (a (b) c) S 1054 1055 1055 0 -1 4194560 5148 4113055 0 334 3 2 10530";
        let s = parse(status, stat, "63690807 7441753 174\n").unwrap();
        assert_eq!(s.vol_ctx_switches, 125);
        assert_eq!(s.invol_ctx_switches, 36);
        assert_eq!((s.utime_ticks, s.stime_ticks), (3, 2));
        assert_eq!(s.cpu_ns, 63690807);
    }

    #[test]
    fn reads_this_thread() {
        // A fresh test thread may not have switched yet; a sleep is one voluntary switch.
        std::thread::sleep(std::time::Duration::from_millis(1));
        let pid = std::process::id() as u64;
        let tid = crate::sys::process::gettid() as u64;
        // A fresh test thread may not have been switched out yet: sleeping is one switch.
        std::thread::sleep(std::time::Duration::from_millis(1));
        let s = thread_stat(pid, tid).unwrap();
        assert!(s.vol_ctx_switches + s.invol_ctx_switches > 0);
    }
}
