//! `herd merge DIR...`: the rows of one run written by several clients (each its own results
//! directory, `herd load --run-id ID --out DIR`) combined into the run's row
//! ([`crate::report::merge`]), printed as `herd load` prints a summary, and with `--out`
//! appended to a results directory with its percentiles and histogram log.
use super::{merge_logs, metrics, table, MergeConfig};
use crate::commands::output::Output;
use crate::load::hlog;
use crate::load::stats::quantile_us;
use crate::report::csv::ResultFiles;
use crate::report::record::hlog_comment;
use crate::report::results::read_rows;
use crate::report::row::{LatencyRow, RunRow};
use crate::report::row_build::PERCENTILES;
use crate::report::{merge, summary};
use crate::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub fn run(cfg: &MergeConfig) -> Result<(), Error> {
    let mut out = cfg.out.as_deref().map(ResultFiles::open).transpose()?;
    let all: Vec<(PathBuf, Vec<RunRow>)> = cfg
        .files
        .iter()
        .map(|d| {
            let rows = read_rows::<RunRow>(&d.join("runs.csv"))?;
            Ok((d.clone(), rows.into_iter().map(|(_, _, r)| r).collect()))
        })
        .collect::<Result<_, Error>>()?;
    let id = match &cfg.run_id {
        Some(id) => id.clone(),
        None => common_id(&all)?,
    };
    let mut parts = Vec::new();
    let mut logs = Vec::new();
    for (dir, rows) in &all {
        let mine: Vec<&RunRow> = rows.iter().filter(|r| r.run_id == id).collect();
        match mine.as_slice() {
            [one] => parts.push((*one).clone()),
            [] => {
                return Err(Error::Usage(format!(
                    "{}: no row of run {id}",
                    dir.join("runs.csv").display()
                )))
            }
            many => {
                return Err(Error::Usage(format!(
                    "{}: {} rows of run {id}: give each client its own directory",
                    dir.join("runs.csv").display(),
                    many.len()
                )))
            }
        }
        logs.push(log_of(dir, &id)?);
    }
    let hists = merge_logs(&logs, cfg.force)?.hists;
    let row = merge::rows(&parts, &hists)
        .ok_or_else(|| Error::Usage("herd merge: no rows to combine".into()))?;
    eprintln!(
        "herd merge: run {id}: {} clients, {} connections",
        parts.len(),
        row.conns_ok
    );
    let text = Output::new(cfg.json);
    text.text(&summary::summary(&row));
    text.text(&table(&metrics(&hists)));
    if let Some(f) = out.as_mut() {
        f.runs.append(&row.clone().rounded())?;
        for (tag, h) in &hists {
            for &p in PERCENTILES {
                let Some(value_us) = quantile_us(h, p / 100.0) else {
                    continue;
                };
                f.latency.append(&LatencyRow {
                    run_id: id.clone(),
                    strategy: row.strategy.clone(),
                    workers: row.workers,
                    metric: tag.clone(),
                    percentile: p,
                    value_us,
                    count: h.len(),
                })?;
            }
        }
        f.flush()?;
        let started = humantime::parse_rfc3339_weak(&row.timestamp).unwrap_or(SystemTime::now());
        let refs: Vec<(&str, &hdrhistogram::Histogram<u64>)> =
            hists.iter().map(|(t, h)| (t.as_str(), h)).collect();
        hlog::write(
            &f.dir.join("hist").join(format!("{id}.hlog")),
            &hlog_comment(&row),
            started,
            Duration::from_secs_f64(row.duration_s),
            &refs,
        )?;
        text.text(&format!(
            "  {:<26} run {id} appended to {}/{{runs,latency}}.csv\n",
            "saved",
            f.dir.display()
        ));
    }
    text.object(&row.rounded())
}

/// The histogram log of run `id` in results directory `dir`.
fn log_of(dir: &Path, id: &str) -> Result<PathBuf, Error> {
    let p = dir.join("hist").join(format!("{id}.hlog"));
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::Usage(format!(
            "{}: not found: the run's histograms are needed for its percentiles",
            p.display()
        )))
    }
}

/// Without `--run-id`: the one run id every directory has.
fn common_id(all: &[(PathBuf, Vec<RunRow>)]) -> Result<String, Error> {
    let Some((_, first)) = all.first() else {
        return Err(Error::Usage("herd merge: no directories".into()));
    };
    let mut ids: Vec<&str> = first.iter().map(|r| r.run_id.as_str()).collect();
    ids.dedup();
    ids.retain(|id| {
        all.iter()
            .all(|(_, rows)| rows.iter().any(|r| r.run_id == *id))
    });
    match ids.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::Usage(
            "herd merge: no run id is in every directory's runs.csv (give each client of a run \
             the same `herd load --run-id`)"
                .into(),
        )),
        many => Err(Error::Usage(format!(
            "herd merge: several runs are in every directory ({}): choose one with --run-id",
            many.join(", ")
        ))),
    }
}
