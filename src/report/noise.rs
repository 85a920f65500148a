//! The host around a run: how its CPUs were split (`--server-cpus`, `--client-cpus`) and who
//! used them over the measured phase. Everything is a share of the host's whole CPU time (wall
//! time × CPUs):
//!
//! - `client_cpu_pct`: herd's own process (the load generator's threads, herd's sampling
//!   threads), from CLOCK_PROCESS_CPUTIME_ID;
//! - `server_cpu_pct`: every thread of the server's processes, from their schedstat (herd's
//!   own `herd serve`, or `herd load --server-pid`);
//! - `irq_cpu_pct`: hard and soft interrupts, which kernels with IRQ time accounting keep
//!   apart from the tasks they interrupt; on loopback mostly the run's own packets;
//! - `steal_pct`: time the hypervisor gave the host's virtual CPUs to someone else;
//! - `foreign_cpu_pct`: the host's busy time (`host_cpu_busy_pct`) minus all of the above:
//!   every other process on the host, whose interference the figures then carry.
use super::row::RunRow;
use crate::load::PhaseResult;
use crate::sys::affinity::Partition;

/// Foreign CPU use above this share of the host (percent) gets a WARNING in the summary.
pub const FOREIGN_WARN_PCT: f64 = 5.0;
/// Steal above this share gets one too.
pub const STEAL_WARN_PCT: f64 = 5.0;

/// What is known of the server's CPU time over the phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServerCpu {
    /// Measured: ns over the phase.
    Measured(u64),
    /// The server runs on another host: none of this host's time is its.
    Elsewhere,
    /// On this host but not measured (`herd load` without `--server-pid`): foreign time cannot
    /// be told from the server's.
    Unknown,
}

/// Fill the partition and noise columns.
pub fn fill(row: &mut RunRow, phase: &PhaseResult, server: ServerCpu, partition: &Partition) {
    (row.server_cpus, row.client_cpus) = partition.columns();
    let capacity = phase.capacity_ns as f64;
    if capacity <= 0.0 {
        return;
    }
    let pct = |ns: u64| 100.0 * ns as f64 / capacity;
    let client = pct(phase.process_cpu_ns);
    row.client_cpu_pct = Some(client);
    row.steal_pct = Some(phase.steal_pct);
    row.irq_cpu_pct = Some(phase.irq_pct);
    let server = match server {
        ServerCpu::Measured(ns) => {
            row.server_cpu_pct = Some(pct(ns));
            Some(pct(ns))
        }
        ServerCpu::Elsewhere => Some(0.0),
        ServerCpu::Unknown => None,
    };
    // The readings come from clocks of different grain (ticks, ns) over nearly the same
    // interval: a small negative remainder is none.
    row.foreign_cpu_pct = server
        .map(|s| (phase.host_busy_pct - phase.steal_pct - phase.irq_pct - client - s).max(0.0));
}

/// The summary's lines on the partition and the host's noise, with their warnings.
pub fn summary_lines(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<26} {v}\n"));
    if r.server_cpus.is_some() || r.client_cpus.is_some() {
        let set = |c: &Option<String>| c.clone().unwrap_or_else(|| "any".into());
        line(
            "CPUs",
            format!(
                "server on {}, client on {}",
                set(&r.server_cpus),
                set(&r.client_cpus)
            ),
        );
    }
    if r.client_cpu_pct.is_some() {
        let pct = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}%"));
        let foreign = match r.foreign_cpu_pct {
            Some(f) => format!("{f:.1}%"),
            None => "n/a (the server runs here unmeasured: --server-pid)".into(),
        };
        line(
            "host CPU by whom",
            format!(
                "client {}, server {}, interrupts {}, steal {}, foreign {foreign}",
                pct(r.client_cpu_pct),
                pct(r.server_cpu_pct),
                pct(r.irq_cpu_pct),
                pct(r.steal_pct)
            ),
        );
    }
    if let Some(f) = r.foreign_cpu_pct.filter(|&f| f > FOREIGN_WARN_PCT) {
        line(
            "WARNING",
            format!(
                "other processes used {f:.1}% of the host's CPU time (over {FOREIGN_WARN_PCT}%): \
                 the figures carry their interference; find them with top, or measure on a \
                 quiet host"
            ),
        );
    }
    if let Some(st) = r.steal_pct.filter(|&st| st > STEAL_WARN_PCT) {
        line(
            "WARNING",
            format!(
                "the hypervisor stole {st:.1}% of the host's CPU time (over {STEAL_WARN_PCT}%): \
                 other virtual machines ran on its CPUs during the phase"
            ),
        );
    }
    if let (Some(b), Some(m)) = (r.backlog, r.somaxconn) {
        if b > m {
            line(
                "WARNING",
                format!(
                    "--backlog {b} exceeds net.core.somaxconn {m}: the kernel caps each accept \
                     queue at {m}"
                ),
            );
        }
    }
    s
}

/// net.core.somaxconn, the cap on every listen(2) backlog.
pub fn somaxconn() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn phase(busy: f64, client_ns: u64) -> PhaseResult {
        PhaseResult {
            stats: Default::default(),
            elapsed: Duration::from_secs(1),
            threads: 1,
            host_busy_pct: busy,
            steal_pct: 1.0,
            irq_pct: 4.0,
            process_cpu_ns: client_ns,
            capacity_ns: 2_000_000_000,
        }
    }

    #[test]
    fn foreign_is_busy_minus_client_server_interrupts_and_steal() {
        let mut r = RunRow::default();
        let p = Partition::default();
        // 2 CPUs for 1 s: 60% busy = 1.2 s; client 0.4 s (20%), server 0.5 s (25%).
        fill(
            &mut r,
            &phase(60.0, 400_000_000),
            ServerCpu::Measured(500_000_000),
            &p,
        );
        assert_eq!(r.client_cpu_pct, Some(20.0));
        assert_eq!(r.server_cpu_pct, Some(25.0));
        assert_eq!(r.foreign_cpu_pct, Some(10.0));
        assert!(summary_lines(&r).contains("WARNING                    other processes used 10.0%"));
        // A remote server: all but the client is foreign; an unmeasured local one: unknown.
        fill(&mut r, &phase(30.0, 400_000_000), ServerCpu::Elsewhere, &p);
        assert_eq!(r.foreign_cpu_pct, Some(5.0));
        assert!(!summary_lines(&r).contains("WARNING"), "5% is not over 5%");
        let mut u = RunRow::default();
        fill(&mut u, &phase(90.0, 400_000_000), ServerCpu::Unknown, &p);
        assert_eq!((u.foreign_cpu_pct, u.server_cpu_pct), (None, None));
        assert!(summary_lines(&u).contains("foreign n/a"));
    }

    #[test]
    fn a_backlog_over_somaxconn_is_warned_about() {
        let r = RunRow {
            backlog: Some(8192),
            somaxconn: Some(4096),
            ..Default::default()
        };
        assert!(summary_lines(&r).contains("--backlog 8192 exceeds net.core.somaxconn 4096"));
        let ok = RunRow {
            backlog: Some(4096),
            ..r
        };
        assert!(!summary_lines(&ok).contains("WARNING"));
    }
}
