//! Grouping a results directory's runs for charts and tables: by load condition (everything
//! but the strategy and the worker count), then by strategy and worker count, with the repeats
//! summarised as median, min and max.
use super::results::{Results, Run};
use super::row::RunRow;
use crate::strategy::StrategyKind;
use std::cmp::Ordering;

/// The load a run was made under; charts and tables compare strategies within one condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub mode: String,
    pub concurrency: u64,
    pub rate: Option<f64>,
    pub work_us: u64,
    pub sleep_us: u64,
    /// `event` for the event model; empty for the sync model (and files older than the
    /// column), so that sync results keep their labels and file names.
    pub worker_model: String,
    /// Long-lived connections' request interval, ms.
    pub long_lived_ms: Option<f64>,
}

impl Condition {
    pub fn of(r: &Run) -> Self {
        Condition {
            mode: r.row.mode.clone(),
            concurrency: r.row.concurrency,
            rate: r.rate,
            work_us: r.row.work_us,
            sleep_us: r.row.sleep_us,
            worker_model: match r.row.worker_model.as_str() {
                "event" => "event".into(),
                _ => String::new(),
            },
            long_lived_ms: r.row.long_lived_interval_ms,
        }
    }

    /// The event model and long-lived connections, for labels (`, event, long-lived, 100 ms
    /// apart`) and slugs (`-event-ll100ms`); empty otherwise.
    fn model_parts(&self) -> (String, String) {
        let mut label = String::new();
        let mut slug = String::new();
        if !self.worker_model.is_empty() {
            label.push_str(&format!(", {}", self.worker_model));
            slug.push_str(&format!("-{}", self.worker_model));
        }
        if let Some(ms) = self.long_lived_ms {
            label.push_str(&format!(", long-lived, {ms} ms apart"));
            slug.push_str(&format!("-ll{ms}ms"));
        }
        (label, slug)
    }

    /// For titles: `closed loop, 32 connections, work 0 µs, sleep 0 µs, process workers`.
    pub fn label(&self) -> String {
        let load = match self.rate {
            Some(r) => format!("open loop {r:.0} conn/s"),
            None => format!("closed loop {} conn", self.concurrency),
        };
        format!(
            "{load}, work {} µs, sleep {} µs, {} mode{}",
            self.work_us,
            self.sleep_us,
            self.mode,
            self.model_parts().0
        )
    }

    /// For file names: `c32-work0-sleep0` (plus the mode when it is not `process`).
    pub fn slug(&self) -> String {
        let load = match self.rate {
            Some(r) => format!("r{r:.0}"),
            None => format!("c{}", self.concurrency),
        };
        let mode = if self.mode == "process" {
            String::new()
        } else {
            format!("-{}", self.mode)
        };
        format!(
            "{load}-work{}-sleep{}{mode}{}",
            self.work_us,
            self.sleep_us,
            self.model_parts().1
        )
    }

    fn sort_key(&self) -> (String, String, u64, u64, u64, u64, u64) {
        let rate = self.rate.map(|r| r as u64).unwrap_or(0);
        (
            self.mode.clone(),
            self.worker_model.clone(),
            self.long_lived_ms.map_or(0, |ms| (ms * 1000.0) as u64),
            rate,
            self.concurrency,
            self.work_us,
            self.sleep_us,
        )
    }
}

/// Median, minimum and maximum of a cell's repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Stat {
    /// None for no finite values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Stat> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }
}

/// The runs of one condition.
pub struct Group<'a> {
    pub condition: Condition,
    pub runs: Vec<&'a Run>,
}

impl<'a> Group<'a> {
    /// Strategies present, in herd's order (then any unknown names, sorted).
    pub fn strategies(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.runs {
            if !names.contains(&r.row.strategy) {
                names.push(r.row.strategy.clone());
            }
        }
        names.sort_by_key(|n| (strategy_rank(n), n.clone()));
        names
    }

    /// Worker counts present, ascending.
    pub fn workers(&self) -> Vec<u64> {
        let mut w: Vec<u64> = self.runs.iter().map(|r| r.row.workers).collect();
        w.sort_unstable();
        w.dedup();
        w
    }

    /// The repeats of one cell.
    pub fn cell(&self, strategy: &str, workers: u64) -> Vec<&'a Run> {
        self.runs
            .iter()
            .copied()
            .filter(|r| r.row.strategy == strategy && r.row.workers == workers)
            .collect()
    }

    /// One metric of one strategy against the worker count.
    pub fn series(&self, strategy: &str, metric: fn(&RunRow) -> f64) -> Vec<(u64, Stat)> {
        self.workers()
            .into_iter()
            .filter_map(|w| {
                Stat::of(self.cell(strategy, w).iter().map(|r| metric(&r.row))).map(|s| (w, s))
            })
            .collect()
    }

    /// Kernel and core count of the runs, for titles.
    pub fn host_label(&self) -> String {
        let mut kernels: Vec<&str> = self.runs.iter().map(|r| r.row.kernel.as_str()).collect();
        kernels.sort_unstable();
        kernels.dedup();
        let mut cores: Vec<u64> = self.runs.iter().map(|r| r.row.nproc).collect();
        cores.sort_unstable();
        cores.dedup();
        let cores: Vec<String> = cores.iter().map(u64::to_string).collect();
        format!("Linux {}, {} cores", kernels.join("/"), cores.join("/"))
    }
}

/// A strategy's position in herd's list, for a stable order and colour.
pub fn strategy_rank(name: &str) -> usize {
    StrategyKind::ALL
        .iter()
        .position(|k| k.name() == name)
        .unwrap_or(StrategyKind::ALL.len())
}

/// The runs grouped by condition, in a stable order.
pub fn groups(results: &Results) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for r in &results.runs {
        let c = Condition::of(r);
        match out.iter_mut().find(|g| g.condition == c) {
            Some(g) => g.runs.push(r),
            None => out.push(Group {
                condition: c,
                runs: vec![r],
            }),
        }
    }
    out.sort_by_key(|g| g.condition.sort_key());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let s = Stat::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert_eq!(Stat::of([1.0, 4.0]).unwrap().median, 2.5);
        assert!(Stat::of([f64::NAN]).is_none());
    }
}
