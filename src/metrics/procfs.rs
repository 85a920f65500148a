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
    /// Nanoseconds on CPU (schedstat's first field); precise, unlike the ticks. `None` when the
    /// kernel has no schedstat (built without CONFIG_SCHED_INFO) or it cannot be read: then
    /// there is no CPU time to report, not a CPU time of 0.
    pub cpu_ns: Option<u64>,
    /// When the thread started, in clock ticks since boot (stat's field 22; 0 if absent): with
    /// the tid, it tells a thread from a later one that reuses its id.
    pub start_ticks: u64,
}

/// Read the counters of thread `tid` of process `pid`. An error when status or stat cannot be
/// read or parsed (the thread is gone, or /proc is mounted with hidepid).
pub fn thread_stat(pid: u64, tid: u64) -> io::Result<ThreadStat> {
    let dir = format!("/proc/{pid}/task/{tid}");
    let status = fs::read_to_string(format!("{dir}/status"))?;
    let stat = fs::read_to_string(format!("{dir}/stat"))?;
    let schedstat = fs::read_to_string(format!("{dir}/schedstat")).ok();
    parse(&status, &stat, schedstat.as_deref())
        .ok_or_else(|| io::Error::other(format!("cannot parse {dir}/status or stat")))
}

fn parse(status: &str, stat: &str, schedstat: Option<&str>) -> Option<ThreadStat> {
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
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok()),
        start_ticks: f.get(19).and_then(|v| v.parse().ok()).unwrap_or(0),
    })
}

/// The host's idle time over all CPUs, from /proc/stat, with the monotonic time it was read at.
///
/// Busy time is derived as wall time × CPUs − idle, not from /proc/stat's user and system
/// fields: those are sampled on the scheduler tick, and a load paced in step with it (herd's
/// `--pacing-quantum` divides the tick) can run between ticks and show as almost idle. With
/// NO_HZ (every distribution kernel) the idle field is measured at each idle entry and exit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCpu {
    /// Idle plus iowait over all CPUs, in clock ticks (USER_HZ).
    pub idle_ticks: u64,
    /// Steal over all CPUs: time a virtual CPU was ready but its hypervisor ran something else
    /// (0 on bare metal). /proc/stat counts it neither idle nor in user or system time.
    pub steal_ticks: u64,
    /// Hard and soft interrupt time over all CPUs (irq + softirq), when the kernel accounts it
    /// apart from the tasks it interrupted (CONFIG_IRQ_TIME_ACCOUNTING; else 0). On loopback
    /// most of it is the run's own packets: their protocol processing runs in softirq.
    pub irq_ticks: u64,
    /// CPUs listed (`cpuN` lines).
    pub cpus: u64,
    /// CLOCK_MONOTONIC when it was read.
    pub at_ns: u64,
}

impl HostCpu {
    pub fn read() -> io::Result<HostCpu> {
        let stat = fs::read_to_string("/proc/stat")?;
        let at_ns = crate::sys::clock::monotonic_ns();
        parse_host(&stat, at_ns)
            .ok_or_else(|| io::Error::other("cannot parse /proc/stat's cpu lines"))
    }

    /// Percent of all CPUs' time that was busy (not idle) between `before` and `self`, with
    /// `ticks_per_s` clock ticks per second; 0 if no time passed.
    pub fn busy_pct_since(&self, before: &HostCpu, ticks_per_s: u64) -> f64 {
        let wall_s = self.at_ns.saturating_sub(before.at_ns) as f64 / 1e9;
        let capacity_s = wall_s * self.cpus as f64;
        if capacity_s <= 0.0 || ticks_per_s == 0 {
            return 0.0;
        }
        let idle_s = self.idle_ticks.saturating_sub(before.idle_ticks) as f64 / ticks_per_s as f64;
        (100.0 * (1.0 - idle_s / capacity_s)).clamp(0.0, 100.0)
    }

    /// Percent of all CPUs' time stolen by the hypervisor between `before` and `self`.
    pub fn steal_pct_since(&self, before: &HostCpu, ticks_per_s: u64) -> f64 {
        self.share(
            self.steal_ticks.saturating_sub(before.steal_ticks),
            before,
            ticks_per_s,
        )
    }

    /// Percent of all CPUs' time spent in interrupts (hard and soft) between `before` and
    /// `self`.
    pub fn irq_pct_since(&self, before: &HostCpu, ticks_per_s: u64) -> f64 {
        self.share(
            self.irq_ticks.saturating_sub(before.irq_ticks),
            before,
            ticks_per_s,
        )
    }

    fn share(&self, ticks: u64, before: &HostCpu, ticks_per_s: u64) -> f64 {
        let capacity_s = self.capacity_ns_since(before) as f64 / 1e9;
        if capacity_s <= 0.0 || ticks_per_s == 0 {
            return 0.0;
        }
        (100.0 * ticks as f64 / ticks_per_s as f64 / capacity_s).clamp(0.0, 100.0)
    }

    /// Wall time × CPUs between `before` and `self`, in ns: what 100% of the host is.
    pub fn capacity_ns_since(&self, before: &HostCpu) -> u64 {
        self.at_ns.saturating_sub(before.at_ns) * self.cpus
    }
}

fn parse_host(stat: &str, at_ns: u64) -> Option<HostCpu> {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", then "cpuN ...".
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as u64;
    (f.len() >= 5 && cpus > 0).then(|| HostCpu {
        idle_ticks: f[3] + f[4],
        steal_ticks: f.get(7).copied().unwrap_or(0),
        irq_ticks: f[5..].iter().take(2).sum(),
        cpus,
        at_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_is_wall_time_minus_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 20 1 4 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\ncpu1 1 2 3 4 5 6 7 8 9 0\nintr 1\n";
        let h = parse_host(stat, 1_000_000_000).unwrap();
        assert_eq!((h.idle_ticks, h.steal_ticks, h.irq_ticks), (820, 10, 5));
        assert_eq!(h.cpus, 2);
        // 2 s on 2 CPUs at 100 ticks/s: 400 ticks of capacity, 100 of them idle, 20 stolen,
        // 40 in interrupts.
        let later = HostCpu {
            idle_ticks: 920,
            steal_ticks: 30,
            irq_ticks: 45,
            cpus: 2,
            at_ns: 3_000_000_000,
        };
        assert_eq!(later.busy_pct_since(&h, 100), 75.0);
        assert_eq!(later.steal_pct_since(&h, 100), 5.0);
        assert_eq!(later.irq_pct_since(&h, 100), 10.0);
        assert_eq!(later.capacity_ns_since(&h), 4_000_000_000);
        assert_eq!(h.busy_pct_since(&h, 100), 0.0);
        assert!(parse_host("intr 1\n", 0).is_none());
        assert!(parse_host("cpu  1 2 3 4 5\n", 0).is_none(), "no cpuN lines");
        let now = HostCpu::read().unwrap();
        assert!(now.cpus > 0);
    }

    #[test]
    fn parses_a_comm_with_spaces_and_parens() {
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t125\nnonvoluntary_ctxt_switches:\t36\n";
        let stat = "1055 (a (b) c) S 1054 1055 1055 0 -1 4194560 5148 4113055 0 334 3 2 10530";
        let s = parse(status, stat, Some("63690807 7441753 174\n")).unwrap();
        assert_eq!(s.vol_ctx_switches, 125);
        assert_eq!(s.invol_ctx_switches, 36);
        assert_eq!((s.utime_ticks, s.stime_ticks), (3, 2));
        assert_eq!(s.cpu_ns, Some(63690807));
    }

    #[test]
    fn no_schedstat_is_no_cpu_time_and_an_unreadable_thread_is_an_error() {
        let status = "voluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n";
        let stat = "1 (x) S 0 0 0 0 -1 0 0 0 0 0 3 2 0";
        assert_eq!(parse(status, stat, None).unwrap().cpu_ns, None);
        assert_eq!(parse(status, stat, Some("")).unwrap().cpu_ns, None);
        assert_eq!(parse("", stat, Some("5")), None, "no ctxt_switches lines");
        // No such thread (pid 0 never has a /proc entry).
        assert!(thread_stat(0, 0).is_err());
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
