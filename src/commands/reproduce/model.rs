//! What an experiment is made of: the runs it asks herd for ([`Step`]), what they measured
//! ([`Observed`]), and what it concludes ([`Finding`], one per quantity, with a [`Verdict`]).
//! The helpers at the end read herd's own rows (shares, ratios, wake orders) so that each
//! experiment's predicate stays a few lines over them.
use crate::report::row::{RunRow, WorkerRow};
use crate::strategy::StrategyKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// One experiment: where its claim comes from, the shape it expects, the runs it needs.
pub struct Experiment {
    /// The name on the command line.
    pub name: &'static str,
    pub title: &'static str,
    /// Where the claim was published (URL, paper, commit).
    pub source: &'static str,
    /// The original setup, in one paragraph.
    pub setup: &'static str,
    /// The expected shape in words, with its thresholds (the predicate says the same).
    pub expected: &'static str,
    /// Why it cannot run here (a missing tool, too few CPUs), or `None`.
    pub missing: fn() -> Option<String>,
    /// The runs, shorter with `--quick`.
    pub steps: fn(quick: bool) -> Vec<Step>,
    /// The predicate: one finding per quantity, from herd's rows.
    pub judge: fn(&Observed) -> Vec<Finding>,
    /// The picture it draws, if any.
    pub chart: ChartKind,
}

/// The chart an experiment draws from its observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    None,
    /// The worker of each connection, one row per order step.
    Strip,
    /// Each run's workers ranked by share of the accepted connections.
    Shares,
}

/// One measurement an experiment asks for.
#[derive(Debug, Clone)]
pub enum Step {
    /// A `herd run` with these arguments (as after `herd run`); its rows go to DIR/NAME/.
    Run {
        label: &'static str,
        args: Vec<String>,
    },
    /// `herd order` for one strategy: which idle worker takes each connection.
    Order {
        label: &'static str,
        strategy: StrategyKind,
        workers: u32,
        connections: u32,
        gap: Duration,
    },
    /// nginx configured as `conf` says, loaded with these `herd load` arguments.
    Nginx {
        label: &'static str,
        conf: super::nginx::NginxConf,
        args: Vec<String>,
    },
}

impl Step {
    pub fn label(&self) -> &'static str {
        match self {
            Step::Run { label, .. } | Step::Order { label, .. } | Step::Nginx { label, .. } => {
                label
            }
        }
    }
}

/// What one step measured.
#[derive(Debug, Clone)]
pub enum Measured {
    Run {
        row: Box<RunRow>,
        workers: Vec<WorkerRow>,
    },
    Order(Vec<usize>),
}

/// Every step's measurement, by label.
#[derive(Debug, Clone, Default)]
pub struct Observed(pub BTreeMap<String, Measured>);

impl Observed {
    pub fn insert(&mut self, label: &str, m: Measured) {
        self.0.insert(label.to_string(), m);
    }

    /// The run row and worker rows of step `label`.
    pub fn run(&self, label: &str) -> Option<(&RunRow, &[WorkerRow])> {
        match self.0.get(label)? {
            Measured::Run { row, workers } => Some((row, workers)),
            Measured::Order(_) => None,
        }
    }

    pub fn order(&self, label: &str) -> Option<&[usize]> {
        match self.0.get(label)? {
            Measured::Order(seq) => Some(seq),
            Measured::Run { .. } => None,
        }
    }
}

/// An experiment's conclusion about one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "reproduced")]
    Reproduced,
    #[serde(rename = "not reproduced")]
    NotReproduced,
    #[serde(rename = "cannot run here")]
    CannotRun,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::CannotRun => "cannot run here",
        }
    }

    pub fn of(ok: bool) -> Verdict {
        if ok {
            Verdict::Reproduced
        } else {
            Verdict::NotReproduced
        }
    }

    /// An experiment's verdict from its findings: reproduced only if every one is.
    pub fn overall(findings: &[Finding]) -> Verdict {
        if findings.iter().any(|f| f.verdict == Verdict::CannotRun) {
            Verdict::CannotRun
        } else if !findings.is_empty() && findings.iter().all(|f| f.verdict == Verdict::Reproduced)
        {
            Verdict::Reproduced
        } else {
            Verdict::NotReproduced
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One quantity: expected beside observed, and the verdict. `note`: why it cannot run, or
/// the likely reason it was not reproduced.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub quantity: String,
    pub expected: String,
    pub observed: String,
    pub verdict: Verdict,
    pub note: String,
}

impl Finding {
    pub fn new(quantity: &str, expected: &str, observed: String, ok: bool) -> Finding {
        Finding {
            quantity: quantity.into(),
            expected: expected.into(),
            observed,
            verdict: Verdict::of(ok),
            note: String::new(),
        }
    }

    /// With a note said only when the quantity was not reproduced.
    pub fn unless(mut self, note: &str) -> Finding {
        if self.verdict == Verdict::NotReproduced {
            self.note = note.into();
        }
        self
    }

    /// A quantity whose step left no row (it failed, or was not run).
    pub fn missing(quantity: &str, expected: &str, label: &str) -> Finding {
        Finding {
            quantity: quantity.into(),
            expected: expected.into(),
            observed: format!("no measurement ({label})"),
            verdict: Verdict::NotReproduced,
            note: format!("the step `{label}` produced no rows"),
        }
    }
}

/// Each worker's share of the accepted connections, busiest first.
pub fn ranked_shares(workers: &[WorkerRow]) -> Vec<f64> {
    let total: u64 = workers.iter().filter_map(|w| w.accepted).sum();
    let mut s: Vec<f64> = workers
        .iter()
        .map(|w| {
            if total == 0 {
                0.0
            } else {
                w.accepted.unwrap_or(0) as f64 / total as f64
            }
        })
        .collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

/// The `k` busiest workers' share together.
pub fn top_share(workers: &[WorkerRow], k: usize) -> f64 {
    ranked_shares(workers).iter().take(k).sum()
}

/// Busiest worker's accepted connections over the idlest's (infinite when one took none).
pub fn busiest_to_idlest(workers: &[WorkerRow]) -> f64 {
    let counts: Vec<u64> = workers.iter().map(|w| w.accepted.unwrap_or(0)).collect();
    let (Some(&max), Some(&min)) = (counts.iter().max(), counts.iter().min()) else {
        return f64::NAN;
    };
    if min == 0 {
        if max == 0 {
            f64::NAN
        } else {
            f64::INFINITY
        }
    } else {
        max as f64 / min as f64
    }
}

/// `a / b`, NaN when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// A ratio as text: `3.2:1`, `inf` when the denominator was 0.
pub fn show_ratio(r: f64) -> String {
    if r.is_infinite() {
        "∞ (one took none)".into()
    } else if r.is_nan() {
        "n/a".into()
    } else {
        format!("{r:.2}")
    }
}

pub fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// Whether `seq` rotates over all `workers` in a fixed order: the first `workers` entries are
/// all different and every later one repeats the entry `workers` places back.
pub fn is_full_rotation(seq: &[usize], workers: usize) -> bool {
    if workers < 2 || seq.len() <= workers {
        return false;
    }
    let first: std::collections::BTreeSet<usize> = seq[..workers].iter().copied().collect();
    first.len() == workers && (workers..seq.len()).all(|i| seq[i] == seq[i - workers])
}

/// The share of connections the most frequent worker took.
pub fn most_frequent_share(seq: &[usize]) -> f64 {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for &w in seq {
        *counts.entry(w).or_default() += 1;
    }
    let top = counts.values().copied().max().unwrap_or(0);
    ratio(top as f64, seq.len() as f64)
}

/// The share of consecutive pairs where the same worker took both connections.
pub fn repeat_share(seq: &[usize]) -> f64 {
    let pairs = seq.len().saturating_sub(1);
    let same = seq.windows(2).filter(|w| w[0] == w[1]).count();
    ratio(same as f64, pairs as f64)
}

/// A sequence as text, e.g. `0 1 2 3 0 1`.
pub fn show_seq(seq: &[usize]) -> String {
    seq.iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `herd run` step: `label`, then its arguments as on the command line.
pub fn run_step(label: &'static str, args: &[&str]) -> Step {
    Step::Run {
        label,
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

/// The measured duration and warmup, shorter with `--quick`.
pub fn timing(quick: bool, full: &'static str) -> [&'static str; 2] {
    if quick {
        ["--duration=1s", "--warmup=300ms"]
    } else {
        [full, "--warmup=1s"]
    }
}

/// Test rows: a run row and worker rows with the given accepted counts.
#[cfg(test)]
pub fn workers_with(accepted: &[u64]) -> Vec<WorkerRow> {
    accepted
        .iter()
        .enumerate()
        .map(|(i, &a)| WorkerRow {
            worker: i as u64,
            accepted: Some(a),
            ..WorkerRow::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_ratios_and_orders() {
        let w = workers_with(&[10, 70, 20, 0]);
        assert_eq!(ranked_shares(&w), vec![0.7, 0.2, 0.1, 0.0]);
        assert!((top_share(&w, 2) - 0.9).abs() < 1e-9);
        assert!(busiest_to_idlest(&w).is_infinite());
        assert!((busiest_to_idlest(&workers_with(&[30, 10])) - 3.0).abs() < 1e-9);
        assert!(is_full_rotation(&[2, 1, 0, 2, 1, 0, 2], 3));
        assert!(!is_full_rotation(&[2, 1, 0, 2, 0, 1], 3));
        assert!(!is_full_rotation(&[0, 0, 0, 0], 3));
        assert!((most_frequent_share(&[1, 1, 1, 2]) - 0.75).abs() < 1e-9);
        assert!((repeat_share(&[1, 1, 2, 2, 3]) - 0.5).abs() < 1e-9);
        let f = [
            Finding::new("a", "", String::new(), true),
            Finding::new("b", "", String::new(), false),
        ];
        assert_eq!(Verdict::overall(&f), Verdict::NotReproduced);
        assert_eq!(Verdict::overall(&f[..1]), Verdict::Reproduced);
    }
}
