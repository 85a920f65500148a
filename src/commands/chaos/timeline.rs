//! The client's view of a chaos segment as a sequence of short load phases, and the recovery
//! time of each fault computed from it.
//!
//! **Definition.** The baseline rate is the median of the completed-connections-per-second of
//! the phases run before any fault. A phase is *good* when it had no failed connection and its
//! rate is at least half the baseline. A fault at time t is recovered at the start of the first
//! good phase that ends after t; its recovery time is that start minus t, or 0 if the phase in
//! which the fault landed is itself good (no visible disruption). The resolution is one phase
//! (`--phase`): a recovery time says "serving at >= 50% again within this long". A fault
//! with no good phase after it before the segment ends is unrecovered.
use crate::load::stats::Stats;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    pub start_ns: u64,
    pub end_ns: u64,
    pub ok: u64,
    pub errors: u64,
}

impl Phase {
    pub fn new(start_ns: u64, end_ns: u64, stats: &Stats) -> Self {
        Phase {
            start_ns,
            end_ns,
            ok: stats.ok,
            errors: stats.errors_total(),
        }
    }

    /// Completed connections per second.
    pub fn rate(&self) -> f64 {
        let s = self.end_ns.saturating_sub(self.start_ns) as f64 / 1e9;
        if s > 0.0 {
            self.ok as f64 / s
        } else {
            0.0
        }
    }

    fn good(&self, baseline: f64) -> bool {
        self.errors == 0 && self.rate() >= 0.5 * baseline
    }
}

/// Median rate of `phases` (0 when empty).
pub fn baseline(phases: &[Phase]) -> f64 {
    let mut r: Vec<f64> = phases.iter().map(Phase::rate).collect();
    r.sort_by(f64::total_cmp);
    match r.len() {
        0 => 0.0,
        n if n % 2 == 1 => r[n / 2],
        n => (r[n / 2 - 1] + r[n / 2]) / 2.0,
    }
}

/// Recovery time in ns of a fault at `t_ns`, `None` when unrecovered (see the module docs).
pub fn recovery_ns(phases: &[Phase], baseline: f64, t_ns: u64) -> Option<u64> {
    let first = phases.iter().position(|p| p.end_ns > t_ns)?;
    let k = phases[first..].iter().position(|p| p.good(baseline))? + first;
    Some(if k == first {
        0
    } else {
        phases[k].start_ns.saturating_sub(t_ns)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(start_ms: u64, ok: u64, errors: u64) -> Phase {
        Phase {
            start_ns: start_ms * 1_000_000,
            end_ns: (start_ms + 100) * 1_000_000,
            ok,
            errors,
        }
    }

    #[test]
    fn recovery_is_the_start_of_the_first_good_phase_after_the_fault() {
        let before = [p(0, 100, 0), p(100, 90, 0), p(200, 110, 0)];
        let b = baseline(&before);
        assert!((b - 1000.0).abs() < 1e-6);
        let during = [p(300, 100, 0), p(400, 10, 2), p(500, 40, 0), p(600, 60, 0)];
        // Fault at 450 ms: its phase lost connections, the next is under 50 %, 600 is good.
        assert_eq!(recovery_ns(&during, b, 450_000_000), Some(150_000_000));
        // Fault at 320 ms, in a good phase: no visible disruption.
        assert_eq!(recovery_ns(&during, b, 320_000_000), Some(0));
        // After the last good phase there is nothing to recover into.
        assert_eq!(recovery_ns(&during[..3], b, 450_000_000), None);
        assert_eq!(recovery_ns(&during, b, 900_000_000), None);
    }
}
