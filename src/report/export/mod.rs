//! `herd report`'s exporters, one file each as hyperfine has them: Markdown tables for reading
//! ([`markdown`]), and the same cells as CSV ([`csv`]) or JSON ([`json`]) for other tools. A
//! cell is one strategy at one worker count under one load condition; each figure in it is the
//! median, minimum and maximum of the repeats. docs/csv-schema.md documents the fields.
mod csv;
mod json;
mod markdown;

use super::aggregate::{groups, Group, Metric, Stat};
use super::results::Results;
use crate::Error;
use serde_json::{json, Value};

/// The form `herd report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Markdown tables, best and worst marked where the repeats allow.
    #[default]
    Md,
    /// One CSV row per cell: its condition, then `FIGURE_median`, `_min`, `_max`.
    Csv,
    /// One JSON document: `{"dir", "results": [cell, ...]}`, each figure `{median, min,
    /// max, n}` or null.
    Json,
}

/// The report of `results` in `format`; `only`: one worker count.
pub fn render(results: &Results, only: Option<u64>, format: Format) -> Result<String, Error> {
    match format {
        Format::Md => markdown::markdown(results, only),
        Format::Csv => csv::csv(&cells(results, only)?),
        Format::Json => json::json(results, &cells(results, only)?),
    }
}

/// One cell: what identifies it (name, value; in column order), then each figure's summary.
pub(crate) struct Cell {
    pub info: Vec<(&'static str, Value)>,
    pub figures: Vec<(&'static str, Option<Stat>)>,
}

/// Every cell with runs, in the order the Markdown tables list them.
fn cells(results: &Results, only: Option<u64>) -> Result<Vec<Cell>, Error> {
    let mut out = Vec::new();
    for g in &groups(results) {
        for w in g
            .workers()
            .into_iter()
            .filter(|w| only.is_none_or(|o| o == *w))
        {
            for s in g.strategies() {
                let runs = g.cell(&s, w);
                if runs.is_empty() {
                    continue;
                }
                let figures = COLUMNS
                    .iter()
                    .map(|c| {
                        (
                            c.key,
                            Stat::of(runs.iter().filter_map(|r| (c.metric)(&r.row))),
                        )
                    })
                    .collect();
                out.push(Cell {
                    info: info(g, w, &s, runs.len()),
                    figures,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "--workers {}: no runs with that many workers in {}",
            only.unwrap_or(0),
            results.dir.display()
        )));
    }
    Ok(out)
}

fn info(g: &Group<'_>, workers: u64, strategy: &str, runs: usize) -> Vec<(&'static str, Value)> {
    let c = &g.condition;
    vec![
        ("condition", json!(c.label())),
        ("server_measured", json!(c.server_measured())),
        ("target", json!(c.target)),
        ("mode", json!(c.mode)),
        ("worker_model", json!(c.worker_model)),
        ("arrivals", json!(c.arrivals)),
        ("concurrency", json!(c.concurrency)),
        ("rate", json!(c.rate)),
        ("requests_per_conn", json!(c.requests_per_conn)),
        ("long_lived_interval_ms", json!(c.long_lived_ms)),
        ("work_us", json!(c.work_us)),
        ("sleep_us", json!(c.sleep_us)),
        ("kernel", json!(c.kernel)),
        ("nproc", json!(c.nproc)),
        ("workers", json!(workers)),
        ("strategy", json!(strategy)),
        ("runs", json!(runs)),
    ]
}

/// Which way is better for a column.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Better {
    Higher,
    Lower,
    /// No side is better: wakeups per accept below 1 mean connections taken in batches, not a
    /// cheaper accept; an even share of connections is a property, not a score.
    Neither,
}

pub(crate) struct Column {
    head: &'static str,
    /// The figure's name in CSV and JSON: its runs.csv column.
    key: &'static str,
    better: Better,
    decimals: usize,
    metric: Metric,
}

pub(crate) const COLUMNS: &[Column] = &[
    Column {
        head: "conn/s",
        key: "conn_per_s",
        better: Better::Higher,
        decimals: 0,
        metric: |r| Some(r.conn_per_s),
    },
    Column {
        head: "p50 µs",
        key: "latency_p50_us",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.latency_p50_us,
    },
    Column {
        head: "p99 µs",
        key: "latency_p99_us",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.latency_p99_us,
    },
    Column {
        head: "wakeups/accept",
        key: "wakeups_per_accept",
        better: Better::Neither,
        decimals: 3,
        metric: |r| r.wakeups_per_accept,
    },
    Column {
        head: "spurious/accept",
        key: "spurious_per_accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.spurious_per_accept,
    },
    Column {
        head: "EAGAIN/accept",
        key: "eagain_per_accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.eagain_per_accept,
    },
    Column {
        head: "ctx switches/accept",
        key: "ctx_switches_per_accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.ctx_switches_per_accept,
    },
    Column {
        head: "CPU µs/conn",
        key: "cpu_us_per_conn",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.cpu_us_per_conn,
    },
    Column {
        head: "Jain",
        key: "jain_fairness",
        better: Better::Neither,
        decimals: 3,
        metric: |r| r.jain_fairness,
    },
    Column {
        head: "errors",
        key: "errors",
        better: Better::Lower,
        decimals: 0,
        metric: |r| Some(r.errors as f64),
    },
];
