//! `herd merge`: histogram logs from several runs, processes or hosts, added up per metric into
//! one set of percentiles. Logs of one load (the same strategy, workers, load shape, requests
//! per connection, target) add up to that load's distribution; logs of different loads would
//! add up to a distribution of no run at all, so they are refused unless `--force` says so.
//! Given results directories instead, it combines their runs.csv rows of one run ([`rows`]).
mod rows;

use super::output::Output;
use crate::load::hlog;
use crate::load::stats::quantile_us;
use crate::Error;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub files: Vec<PathBuf>,
    /// Add up logs of different loads anyway.
    pub force: bool,
    /// `--json`: one object on stdout, the table on stderr.
    pub json: bool,
    /// Results directories: the run whose rows are combined.
    pub run_id: Option<String>,
    /// Results directories: where the combined row goes.
    pub out: Option<PathBuf>,
}

/// One metric of the merged logs (`--json`): percentiles in µs, `None` when it holds nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedMetric {
    pub metric: String,
    pub count: u64,
    pub p50_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    pub p9999_us: Option<f64>,
    pub max_us: Option<f64>,
}

/// What `herd merge --json` prints for .hlog files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub files: Vec<String>,
    /// The run ids the logs came from.
    pub runs: Vec<String>,
    /// `--force` added up logs of different loads.
    pub forced: bool,
    pub metrics: Vec<MergedMetric>,
}

/// What a log's `#herd` line says about its load, without the run id.
type Shape = Vec<(String, String)>;

/// The files whose load differs from the first file's, with the keys that differ; and the
/// distinct run ids.
fn compare(described: &[(PathBuf, Shape)]) -> (Vec<String>, Vec<String>) {
    let shape = |d: &Shape| -> Shape { d.iter().filter(|(k, _)| k != "run_id").cloned().collect() };
    let mut runs: Vec<String> = Vec::new();
    for (_, d) in described {
        for (k, v) in d {
            if k == "run_id" && !runs.contains(v) {
                runs.push(v.clone());
            }
        }
    }
    let Some((first_path, first)) = described.first() else {
        return (Vec::new(), runs);
    };
    let first = shape(first);
    let mut differ = Vec::new();
    for (p, d) in &described[1..] {
        let mine = shape(d);
        if mine != first {
            let keys: Vec<String> = first
                .iter()
                .chain(&mine)
                .filter(|(k, _)| {
                    let a = first.iter().find(|(x, _)| x == k);
                    let b = mine.iter().find(|(x, _)| x == k);
                    a != b
                })
                .map(|(k, _)| k.clone())
                .fold(Vec::new(), |mut acc, k| {
                    if !acc.contains(&k) {
                        acc.push(k);
                    }
                    acc
                });
            let keys = if keys.is_empty() {
                "no herd description".to_string()
            } else {
                keys.join(", ")
            };
            differ.push(format!(
                "{} differs from {} in: {keys}",
                p.display(),
                first_path.display()
            ));
        }
    }
    (differ, runs)
}

pub fn run(cfg: &MergeConfig) -> Result<(), Error> {
    // Only prints: a closed pipe (`| head`) ends it quietly.
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
    if cfg.files.iter().all(|f| f.is_dir()) {
        return rows::run(cfg);
    }
    let logs = merge_logs(&cfg.files, cfg.force)?;
    let metrics = metrics(&logs.hists);
    let out = Output::new(cfg.json);
    out.text(&table(&metrics));
    out.object(&Merged {
        files: cfg.files.iter().map(|f| f.display().to_string()).collect(),
        runs: logs.runs,
        forced: logs.forced,
        metrics,
    })
}

/// Logs added up by tag.
pub(super) struct Logs {
    pub hists: Vec<(String, hdrhistogram::Histogram<u64>)>,
    /// The distinct run ids the logs came from.
    pub runs: Vec<String>,
    /// Logs of different loads were added up (`--force`).
    pub forced: bool,
}

/// The logs added up by tag, once their `#herd` lines show one load (or `force`).
pub(super) fn merge_logs(files: &[PathBuf], force: bool) -> Result<Logs, Error> {
    let mut parts = Vec::new();
    let mut described = Vec::new();
    for f in files {
        parts.extend(hlog::read(f)?);
        described.push((f.clone(), hlog::describe(f)?));
    }
    let (differ, runs) = compare(&described);
    if !differ.is_empty() {
        let list = differ.join("; ");
        if !force {
            return Err(Error::Usage(format!(
                "these logs come from different loads, and their sum is the distribution of no \
                 run: {list}. Merge logs of one load (several processes or hosts, repeats), or \
                 give --force to add them up anyway"
            )));
        }
        eprintln!("herd merge: WARNING: --force: adding up logs of different loads: {list}");
    }
    if runs.len() > 1 {
        eprintln!(
            "herd merge: {} runs of the same load added up: {}",
            runs.len(),
            runs.join(", ")
        );
    }
    Ok(Logs {
        hists: hlog::merge(parts)?,
        runs,
        forced: !differ.is_empty(),
    })
}

/// The percentiles of each merged metric.
pub(super) fn metrics(merged: &[(String, hdrhistogram::Histogram<u64>)]) -> Vec<MergedMetric> {
    merged
        .iter()
        .map(|(tag, h)| {
            let q = |q: f64| quantile_us(h, q);
            MergedMetric {
                metric: if tag.is_empty() {
                    "(untagged)".into()
                } else {
                    tag.clone()
                },
                count: h.len(),
                p50_us: q(0.5),
                p90_us: q(0.9),
                p99_us: q(0.99),
                p999_us: q(0.999),
                p9999_us: q(0.9999),
                max_us: q(1.0),
            }
        })
        .collect()
}

/// Percentiles per metric, one line each.
pub(super) fn table(metrics: &[MergedMetric]) -> String {
    let mut s = format!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
        "metric", "count", "p50_us", "p90_us", "p99_us", "p99.9_us", "p99.99_us", "max_us"
    );
    for m in metrics {
        let q = |v: Option<f64>| v.map_or_else(|| "n/a".into(), |v| format!("{v:.1}"));
        let _ = writeln!(
            s,
            "{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            m.metric,
            m.count,
            q(m.p50_us),
            q(m.p90_us),
            q(m.p99_us),
            q(m.p999_us),
            q(m.p9999_us),
            q(m.max_us)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(pairs: &[(&str, &str)]) -> Shape {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn logs_of_different_loads_are_told_apart_from_repeats() {
        let a = d(&[
            ("run_id", "1"),
            ("arrivals", "closed"),
            ("requests_per_conn", "1"),
        ]);
        let b = d(&[
            ("run_id", "2"),
            ("arrivals", "closed"),
            ("requests_per_conn", "1"),
        ]);
        let ka = d(&[
            ("run_id", "3"),
            ("arrivals", "closed"),
            ("requests_per_conn", "100"),
        ]);
        let (differ, runs) = compare(&[("a".into(), a.clone()), ("b".into(), b)]);
        assert!(differ.is_empty());
        assert_eq!(runs, ["1", "2"]);
        let (differ, _) = compare(&[("a".into(), a.clone()), ("ka".into(), ka)]);
        assert_eq!(differ, ["ka differs from a in: requests_per_conn"]);
        let (differ, _) = compare(&[("a".into(), a), ("x".into(), Vec::new())]);
        assert_eq!(differ.len(), 1, "{differ:?}");
    }
}
