//! When connections start. A closed loop starts a connection whenever one of its
//! `--concurrency` slots is free, so a slow server slows the client down with it and its stall
//! vanishes from the latencies (coordinated omission). An open loop follows a [`Schedule`] of
//! *intended* start times fixed in advance, whatever the server does; latency is measured from
//! the intended start (as wrk2 does), so a stall shows in full, and when the generator itself
//! starts a connection after its intended time that lateness is measured apart.
//!
//! The schedule is split across client threads so that their union is the asked process:
//! uniform arrivals interleave (thread `t` of `T` takes every `T`-th tick, offset by `t`),
//! Poisson arrivals superpose (`T` independent processes of rate `R/T` make one of rate `R`),
//! and a burst of `N` gives each thread its share of `N` at the same instants.
use clap::ValueEnum;

/// How open-loop arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Arrivals {
    /// Evenly spaced: one connection every 1/R seconds.
    Uniform,
    /// A Poisson process of rate R: exponential gaps, mean 1/R.
    Poisson,
}

/// The load's shape, before it is split across threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Each free slot starts the next connection at once.
    Closed,
    /// `rate` new connections per second.
    Open { rate: f64, arrivals: Arrivals },
    /// `n` connections at once, every `interval_ns`.
    Burst { n: u64, interval_ns: u64 },
    /// Long-lived connections: every slot opens a connection at the start and keeps it for the
    /// whole phase, sending a request every `interval_ns` on a fixed schedule ([`Ticks`]);
    /// a connection the server closes is opened again at once (websocket, gRPC and pooled
    /// clients).
    LongLived { interval_ns: u64 },
}

impl Shape {
    /// The `arrivals` column: `closed`, `uniform`, `poisson` or `burst`.
    pub fn name(&self) -> &'static str {
        match self {
            Shape::Closed => "closed",
            Shape::Open {
                arrivals: Arrivals::Uniform,
                ..
            } => "uniform",
            Shape::Open {
                arrivals: Arrivals::Poisson,
                ..
            } => "poisson",
            Shape::Burst { .. } => "burst",
            Shape::LongLived { .. } => "long-lived",
        }
    }

    /// The request interval of long-lived connections, if that is the shape.
    pub fn long_lived_ns(&self) -> Option<u64> {
        match *self {
            Shape::LongLived { interval_ns } => Some(interval_ns),
            _ => None,
        }
    }

    /// Thread `thread`'s pacing for a phase starting at `start_ns` and ending at `end_ns`
    /// (no intended start at or after `end_ns`).
    pub fn pacing(&self, thread: usize, threads: usize, start_ns: u64, end_ns: u64) -> Pacing {
        let threads = threads.max(1);
        let kind = match *self {
            // Long-lived slots start their connections as a closed loop does; their requests
            // follow each slot's `Ticks`.
            Shape::Closed | Shape::LongLived { .. } => return Pacing::Closed,
            Shape::Open {
                rate,
                arrivals: Arrivals::Uniform,
            } => Kind::Uniform {
                interval_ns: threads as f64 * 1e9 / rate,
                offset_ns: thread as f64 * 1e9 / rate,
            },
            Shape::Open {
                rate,
                arrivals: Arrivals::Poisson,
            } => Kind::Poisson {
                mean_ns: threads as f64 * 1e9 / rate,
                rng: fastrand::Rng::new(),
            },
            Shape::Burst { n, interval_ns } => {
                let share = n / threads as u64 + u64::from((thread as u64) < n % threads as u64);
                Kind::Burst {
                    share,
                    interval_ns: interval_ns.max(1),
                }
            }
        };
        let mut s = Schedule {
            kind,
            start_ns,
            end_ns,
            k: 0,
            t_ns: 0.0,
            next: None,
        };
        s.next = s.compute();
        Pacing::Open(s)
    }
}

/// One thread's pacing.
#[derive(Debug)]
pub enum Pacing {
    Closed,
    Open(Schedule),
}

#[derive(Debug)]
enum Kind {
    Uniform { interval_ns: f64, offset_ns: f64 },
    Poisson { mean_ns: f64, rng: fastrand::Rng },
    Burst { share: u64, interval_ns: u64 },
}

/// A sequence of intended start times (CLOCK_MONOTONIC ns), non-decreasing, all before the
/// phase's end. Times are computed from the phase start, not accumulated from the previous
/// start, so they do not drift.
#[derive(Debug)]
pub struct Schedule {
    kind: Kind,
    start_ns: u64,
    end_ns: u64,
    /// Index of the next start.
    k: u64,
    /// Poisson: the next start's offset from `start_ns`, in ns.
    t_ns: f64,
    next: Option<u64>,
}

impl Schedule {
    /// The next intended start, or `None` when the schedule is done.
    pub fn peek(&self) -> Option<u64> {
        self.next
    }

    /// Move past the start `peek` returned.
    pub fn advance(&mut self) {
        if self.next.is_some() {
            self.k += 1;
            self.next = self.compute();
        }
    }

    /// Stop: no further starts (a `--requests` budget ran out).
    pub fn stop(&mut self) {
        self.next = None;
    }

    fn compute(&mut self) -> Option<u64> {
        let offset = match &mut self.kind {
            Kind::Uniform {
                interval_ns,
                offset_ns,
            } => *offset_ns + self.k as f64 * *interval_ns,
            Kind::Poisson { mean_ns, rng } => {
                // Inverse CDF of the exponential distribution; 1 - u is in (0, 1].
                self.t_ns += -(1.0 - rng.f64()).ln() * *mean_ns;
                self.t_ns
            }
            Kind::Burst { share, interval_ns } => {
                if *share == 0 {
                    return None;
                }
                ((self.k / *share) * *interval_ns) as f64
            }
        };
        let t = self.start_ns.saturating_add(offset as u64);
        (t < self.end_ns).then_some(t)
    }
}

/// The request times of one long-lived slot: slot `j` of `C` sends at
/// `start + j·T/C + k·T` (k = 1, 2, ...), so the slots' requests are spread evenly over each
/// interval rather than sent in one burst. A connection's first request goes out when it
/// connects; each later one at the next tick after the previous request's intended time, so a
/// server that stalls makes the following requests late, and their latency, counted from the
/// tick, shows it (no coordinated omission).
#[derive(Debug, Clone, Copy)]
pub struct Ticks {
    base_ns: u64,
    interval_ns: u64,
}

impl Ticks {
    pub fn new(start_ns: u64, interval_ns: u64, slot: usize, slots: usize) -> Self {
        let interval_ns = interval_ns.max(1);
        let offset = (interval_ns as u128 * slot as u128 / slots.max(1) as u128) as u64;
        Ticks {
            base_ns: start_ns + offset,
            interval_ns,
        }
    }

    /// The first tick strictly after `t_ns`.
    pub fn next_after(&self, t_ns: u64) -> u64 {
        if t_ns < self.base_ns {
            return self.base_ns;
        }
        let k = (t_ns - self.base_ns) / self.interval_ns + 1;
        self.base_ns
            .saturating_add(k.saturating_mul(self.interval_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lived_ticks_spread_slots_over_the_interval() {
        let t = Ticks::new(1_000, 100, 1, 4);
        assert_eq!(t.next_after(0), 1_025);
        assert_eq!(t.next_after(1_024), 1_025);
        assert_eq!(t.next_after(1_025), 1_125);
        assert_eq!(t.next_after(1_300), 1_325);
        let first = Ticks::new(1_000, 100, 0, 4);
        assert_eq!(first.next_after(1_000), 1_100);
        assert_eq!(Shape::LongLived { interval_ns: 5 }.name(), "long-lived");
        assert!(matches!(
            Shape::LongLived { interval_ns: 5 }.pacing(0, 1, 0, 10),
            Pacing::Closed
        ));
    }

    fn times(p: Pacing) -> Vec<u64> {
        let Pacing::Open(mut s) = p else {
            panic!("closed")
        };
        let mut v = Vec::new();
        while let Some(t) = s.peek() {
            v.push(t);
            s.advance();
        }
        v
    }

    fn all_threads(shape: Shape, threads: usize, start: u64, end: u64) -> Vec<u64> {
        let mut v: Vec<u64> = (0..threads)
            .flat_map(|t| times(shape.pacing(t, threads, start, end)))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn uniform_threads_interleave_into_one_even_schedule() {
        let shape = Shape::Open {
            rate: 1000.0,
            arrivals: Arrivals::Uniform,
        };
        // 1000/s for 1 s from t = 5 s: every 1 ms, exactly 1000 starts, whatever the threads.
        for threads in [1, 3, 4] {
            let v = all_threads(shape, threads, 5_000_000_000, 6_000_000_000);
            assert_eq!(v.len(), 1000, "{threads} threads");
            for (i, t) in v.iter().enumerate() {
                assert_eq!(
                    *t,
                    5_000_000_000 + i as u64 * 1_000_000,
                    "{threads} threads"
                );
            }
        }
    }

    #[test]
    fn uniform_does_not_drift_at_awkward_rates() {
        let shape = Shape::Open {
            rate: 3.0,
            arrivals: Arrivals::Uniform,
        };
        let v = all_threads(shape, 1, 0, 100_000_000_000);
        assert_eq!(v.len(), 300);
        // The 300th start is at 299/3 s, not 299 times a rounded gap.
        assert!((v[299] as i64 - 99_666_666_666).abs() <= 1);
    }

    #[test]
    fn poisson_has_the_asked_rate_and_exponential_gaps() {
        let shape = Shape::Open {
            rate: 10_000.0,
            arrivals: Arrivals::Poisson,
        };
        let v = all_threads(shape, 2, 0, 10_000_000_000);
        // 100,000 expected; the count of a Poisson process has sd sqrt(100,000) ~ 316.
        assert!(
            (v.len() as f64 - 100_000.0).abs() < 5.0 * 316.0,
            "{}",
            v.len()
        );
        let single = times(shape.pacing(0, 1, 0, 10_000_000_000));
        let gaps: Vec<f64> = single.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((mean - 100_000.0).abs() < 2_000.0, "mean gap {mean}");
        // Exponential: P(gap > mean) = 1/e.
        let above = gaps.iter().filter(|&&g| g > 100_000.0).count() as f64 / gaps.len() as f64;
        assert!((above - (-1.0f64).exp()).abs() < 0.01, "{above}");
    }

    #[test]
    fn bursts_start_together_and_split_across_threads() {
        let shape = Shape::Burst {
            n: 10,
            interval_ns: 1_000_000,
        };
        let v = all_threads(shape, 3, 100, 100 + 3_500_000);
        assert_eq!(v.len(), 40);
        for (i, t) in v.iter().enumerate() {
            assert_eq!(*t, 100 + (i as u64 / 10) * 1_000_000);
        }
        assert_eq!(times(shape.pacing(0, 3, 0, 1)).len(), 4);
        assert_eq!(times(shape.pacing(2, 3, 0, 1)).len(), 3);
    }

    #[test]
    fn closed_has_no_schedule_and_stop_ends_one() {
        assert!(matches!(Shape::Closed.pacing(0, 1, 0, 10), Pacing::Closed));
        let shape = Shape::Open {
            rate: 1e6,
            arrivals: Arrivals::Uniform,
        };
        let Pacing::Open(mut s) = shape.pacing(0, 1, 0, 1_000_000_000) else {
            panic!()
        };
        assert_eq!(s.peek(), Some(0));
        s.advance();
        assert_eq!(s.peek(), Some(1000));
        s.stop();
        assert_eq!(s.peek(), None);
    }
}
