//! Grouping a results directory's runs for charts and tables: by load condition (everything
//! but the strategy and the worker count), then by strategy and worker count, with the repeats
//! summarised as median, min and max.
use super::results::{Results, Run};
use super::row::RunRow;
use crate::strategy::StrategyKind;
use std::cmp::Ordering;

/// Everything that makes two runs different runs, apart from the strategy and the worker count
/// that charts and tables compare: the server measured or the URL loaded, the load's shape,
/// requests per connection, the worker model, the host. Runs that differ in any of these are
/// never summarised together.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `None` for `herd run` (its own `herd serve`, measured); the URL for `herd load` (any
    /// server, not measured).
    pub target: Option<String>,
    pub mode: String,
    /// `closed`, `uniform`, `poisson`, `burst` or `long-lived`.
    pub arrivals: String,
    pub concurrency: u64,
    pub rate: Option<f64>,
    /// Burst size and interval (ms).
    pub burst: Option<(u64, f64)>,
    pub requests_per_conn: u64,
    pub pacing_quantum_us: f64,
    pub client_threads: u64,
    pub work_us: u64,
    pub sleep_us: u64,
    pub kernel: String,
    pub nproc: u64,
    /// `event` for the event model; empty for the sync model (and files older than the
    /// column), so that sync results keep their labels and file names.
    pub worker_model: String,
    /// Long-lived connections' request interval, ms.
    pub long_lived_ms: Option<f64>,
    /// `herd load --server-pid`: the server's processes were measured from /proc (kernel
    /// columns and per-worker shares, no scoreboard).
    pub outside: bool,
}

/// The URL that tells `herd load` runs apart: as given, or without its port when the run has a
/// `--label`. The label names the server, and a script that starts each server on a free port
/// of the moment must not split one comparison into one group per port.
fn target_key(row: &RunRow) -> String {
    if row.strategy.is_empty() {
        return row.target.clone();
    }
    let Some(rest) = row.target.strip_prefix("http://") else {
        return row.target.clone();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => authority,
    };
    format!("http://{host}{path}")
}

impl Condition {
    pub fn of(r: &Run) -> Self {
        let row = &r.row;
        let arrivals = match row.arrivals.as_str() {
            "" => "closed".to_string(),
            a => a.to_string(),
        };
        Condition {
            target: (!row.server_metrics).then(|| target_key(row)),
            mode: row.mode.clone(),
            concurrency: row.concurrency,
            rate: r.rate,
            burst: (arrivals == "burst").then_some((row.burst, row.burst_interval_ms)),
            arrivals,
            requests_per_conn: row.requests_per_conn.max(1),
            pacing_quantum_us: row.pacing_quantum_us,
            client_threads: row.client_threads,
            work_us: row.work_us,
            sleep_us: row.sleep_us,
            kernel: row.kernel.clone(),
            nproc: row.nproc,
            worker_model: match row.worker_model.as_str() {
                "event" => "event".into(),
                _ => String::new(),
            },
            long_lived_ms: row.long_lived_interval_ms,
            outside: row
                .server_source
                .as_deref()
                .is_some_and(|s| s.starts_with("procfs")),
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

    /// Whether the server's side was measured (`herd run`, or `herd load --server-pid` from
    /// /proc), so that its columns exist and runs have a worker count.
    pub fn server_measured(&self) -> bool {
        self.target.is_none() || self.outside
    }

    /// The load, for titles: `closed loop 32 conn, 100 requests/conn`.
    fn load(&self) -> String {
        let mut load = match (self.rate, self.burst) {
            (Some(r), _) => format!(
                "open loop {r:.0} conn/s ({}), at most {} in flight",
                self.arrivals, self.concurrency
            ),
            (None, Some((n, ms))) => format!(
                "bursts of {n} every {ms} ms, at most {} in flight",
                self.concurrency
            ),
            (None, None) => format!("closed loop {} conn", self.concurrency),
        };
        if self.pacing_quantum_us > 0.0 {
            load.push_str(&format!(", timer quantum {} µs", self.pacing_quantum_us));
        }
        if self.requests_per_conn > 1 {
            load.push_str(&format!(", {} requests/conn", self.requests_per_conn));
        }
        load
    }

    /// For titles: `closed loop 32 conn, work 0 µs, sleep 0 µs, process mode`, or for `herd
    /// load`: `closed loop 32 conn against http://... (server not measured)`.
    pub fn label(&self) -> String {
        match &self.target {
            Some(url) if self.outside => {
                format!("{} against {url} (server measured from /proc)", self.load())
            }
            Some(url) => format!("{} against {url} (server not measured)", self.load()),
            None => format!(
                "{}, work {} µs, sleep {} µs, {} mode{}",
                self.load(),
                self.work_us,
                self.sleep_us,
                self.mode,
                self.model_parts().0
            ),
        }
    }

    /// For file names: `c32-work0-sleep0`, plus what differs from the common case (the mode
    /// when it is not `process`, keep-alive, bursts, a pacing quantum, `herd load`).
    pub fn slug(&self) -> String {
        let mut s = match (self.rate, self.burst) {
            (Some(r), _) => format!("r{r:.0}"),
            (None, Some((n, ms))) => format!("b{n}x{ms}ms"),
            (None, None) => format!("c{}", self.concurrency),
        };
        if self.arrivals == "poisson" {
            s.push_str("-poisson");
        }
        if let Some(url) = &self.target {
            let host: String = url
                .trim_start_matches("http://")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            s.push_str(&format!("-load-{}", host.trim_matches('-')));
        } else {
            s.push_str(&format!("-work{}-sleep{}", self.work_us, self.sleep_us));
            if self.mode != "process" {
                s.push_str(&format!("-{}", self.mode));
            }
        }
        if self.requests_per_conn > 1 {
            s.push_str(&format!("-ka{}", self.requests_per_conn));
        }
        if self.pacing_quantum_us > 0.0 {
            s.push_str(&format!("-q{}us", self.pacing_quantum_us));
        }
        s.push_str(&self.model_parts().1);
        s
    }

    #[allow(clippy::type_complexity)]
    fn sort_key(&self) -> (bool, String, String, String, u64, u64, u64, u64, u64, u64) {
        let rate = self.rate.map(|r| r as u64).unwrap_or(0);
        (
            self.target.is_some(),
            self.target.clone().unwrap_or_default(),
            self.mode.clone(),
            self.worker_model.clone(),
            self.long_lived_ms.map_or(0, |ms| (ms * 1000.0) as u64),
            rate,
            self.concurrency,
            self.requests_per_conn,
            self.work_us,
            self.sleep_us,
        )
    }
}

/// A figure of a run, `None` where it was not measured.
pub type Metric = fn(&RunRow) -> Option<f64>;

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

    /// One metric of one strategy against the worker count (runs where it was not measured
    /// left out).
    pub fn series(&self, strategy: &str, metric: Metric) -> Vec<(u64, Stat)> {
        self.workers()
            .into_iter()
            .filter_map(|w| {
                Stat::of(self.cell(strategy, w).iter().filter_map(|r| metric(&r.row)))
                    .map(|s| (w, s))
            })
            .collect()
    }

    /// Kernel and core count of the runs, for titles.
    pub fn host_label(&self) -> String {
        let c = &self.condition;
        format!("Linux {}, {} cores", c.kernel, c.nproc)
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
mod tests;
