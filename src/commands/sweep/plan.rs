//! The sweep's cells, each the `herd run` it stands for, and which of them a results directory
//! already holds.
//!
//! Each cell's [`RunConfig`] is made (by the command line) from the argv `herd run` would get,
//! so a cell is validated, defaulted and measured exactly as `herd run` would be.
use crate::commands::run::RunConfig;
use crate::report::results::read_records;
use crate::Error;
use std::path::Path;

/// One point of the matrix.
#[derive(Debug, Clone)]
pub struct Cell {
    pub run: RunConfig,
    /// The open-loop rate, as given, when the sweep varies `--rate`.
    pub rate: Option<String>,
}

impl Cell {
    fn work_us(&self) -> (u128, u128) {
        let s = &self.run.server;
        (s.work.as_micros(), s.sleep.as_micros())
    }

    /// A short label for progress lines.
    pub fn label(&self) -> String {
        let s = &self.run.server;
        let load = match &self.rate {
            Some(r) => format!("rate {r}/s"),
            None => format!("c{}", self.run.load.concurrency),
        };
        let (work, sleep) = self.work_us();
        format!(
            "{} w{} {load} work {work}us sleep {sleep}us",
            s.strategy, s.workers
        )
    }

    /// The runs.csv columns that identify this cell, with their values.
    fn key(&self) -> Vec<(&'static str, String)> {
        let s = &self.run.server;
        let (work, sleep) = self.work_us();
        let mut k = vec![
            ("strategy", s.strategy.name().to_string()),
            ("workers", s.workers.to_string()),
            ("work_us", work.to_string()),
            ("sleep_us", sleep.to_string()),
        ];
        match &self.rate {
            // As runs.csv writes it: `10k` given is 10000 there.
            Some(r) => k.push((
                "rate",
                match self.run.load.shape {
                    crate::load::pacing::Shape::Open { rate, .. } => rate.to_string(),
                    _ => r.clone(),
                },
            )),
            None => k.push(("concurrency", self.run.load.concurrency.to_string())),
        }
        // `--ebpf-policy least` and the like make another cell of the same strategy.
        let options = s.strategy_options.label(s.strategy).unwrap_or_default();
        k.push(("strategy_options", options));
        k
    }
}

/// How many runs of each cell DIR/runs.csv already holds. The repeat index of a run is its
/// order among the rows of its cell, so no column is needed for it: a run's row is appended
/// in one write when the run finishes, so a killed sweep leaves no half-done cell behind.
pub fn done_counts(dir: &Path, cells: &[Cell]) -> Result<Vec<u32>, Error> {
    let path = dir.join("runs.csv");
    if !path.exists() {
        return Ok(vec![0; cells.len()]);
    }
    let (headers, records) = read_records(&path)?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut counts = vec![0u32; cells.len()];
    for (i, cell) in cells.iter().enumerate() {
        let key = cell.key();
        let mut idx = Vec::new();
        for (name, v) in &key {
            let c = match col(name) {
                Some(c) => c,
                // A file older than the strategy flags' column: its runs had none.
                None if *name == "strategy_options" && v.is_empty() => continue,
                None if *name == "strategy_options" => usize::MAX,
                None => {
                    return Err(Error::Usage(format!(
                        "{}: no `{name}` column, so the cells already done cannot be told apart",
                        path.display()
                    )))
                }
            };
            idx.push((c, v));
        }
        counts[i] = records
            .iter()
            .filter(|(_, r)| {
                idx.iter()
                    .all(|(c, v)| r.get(*c).is_some_and(|x| same(x, v)))
            })
            .count() as u32;
    }
    Ok(counts)
}

/// Equal as numbers when both are numbers, else as text.
fn same(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}
