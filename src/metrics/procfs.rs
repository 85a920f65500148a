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

#[cfg(test)]
mod tests {
    use super::*;

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
        let pid = std::process::id() as u64;
        let tid = crate::sys::process::gettid() as u64;
        // A fresh test thread may not have been switched out yet: sleeping is one switch.
        std::thread::sleep(std::time::Duration::from_millis(1));
        let s = thread_stat(pid, tid).unwrap();
        assert!(s.vol_ctx_switches + s.invol_ctx_switches > 0);
    }
}
