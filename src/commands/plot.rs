//! `herd plot`: charts (PNG and SVG) from a results directory: per metric against workers, the
//! per-worker share of each strategy and the latency CDF, for each load condition; or the task
//! farm's chart for a `herd series` directory.
use crate::report::aggregate::{groups, Group};
use crate::report::plot::{cdf, lines, register_font, render, series, share};
use crate::report::results::Results;
use crate::Error;
use std::path::PathBuf;

/// A validated `herd plot`.
#[derive(Debug, Clone)]
pub struct PlotConfig {
    /// The results directory.
    pub dir: PathBuf,
    /// Where the charts go.
    pub out: PathBuf,
    /// Worker count for the share and CDF charts (default: the largest).
    pub at_workers: Option<u64>,
}

pub fn run(args: &PlotConfig) -> Result<(), Error> {
    register_font()?;
    let out = &args.out;
    // A `herd series` directory (series.csv, no runs.csv) gets the task-farm chart.
    if args.dir.join("series.csv").exists() && !args.dir.join("runs.csv").exists() {
        std::fs::create_dir_all(out)
            .map_err(|e| Error::Usage(format!("--out {}: {e}", out.display())))?;
        let written = series::draw_dir_to(&args.dir, out)?;
        println!("1 chart in {}", out.display());
        for p in &written {
            println!("  {}", p.display());
        }
        return Ok(());
    }
    let results = Results::load(&args.dir)?;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::Usage(format!("--out {}: {e}", out.display())))?;
    let groups = groups(&results);
    let mut written = Vec::new();
    for g in &groups {
        let suffix = if groups.len() > 1 {
            format!("-{}", g.condition.slug())
        } else {
            String::new()
        };
        for spec in lines::METRICS {
            written.extend(render(&lines::MetricChart::new(g, spec, &suffix), out)?);
        }
        let w = at_workers(g, args.at_workers)?;
        for s in g.strategies() {
            written.extend(render(
                &share::ShareChart::new(g, &results, &s, w, &suffix),
                out,
            )?);
            // The event model: what each worker served and held, too.
            if g.condition.worker_model == "event" {
                for m in [share::Measure::Requests, share::Measure::Open] {
                    written.extend(render(
                        &share::ShareChart::of(m, g, &results, &s, w, &suffix),
                        out,
                    )?);
                }
            }
        }
        written.extend(render(&cdf::CdfChart::new(g, &results, w, &suffix), out)?);
    }
    println!("{} charts in {}", written.len() / 2, out.display());
    for p in &written {
        println!("  {}", p.display());
    }
    Ok(())
}

/// The worker count for the share and CDF charts of one group.
fn at_workers(group: &Group<'_>, wanted: Option<u64>) -> Result<u64, Error> {
    let present = group.workers();
    match wanted {
        None => present
            .last()
            .copied()
            .ok_or_else(|| Error::Run("no runs".into())),
        Some(w) if present.contains(&w) => Ok(w),
        Some(w) => Err(Error::Usage(format!(
            "--at-workers {w}: no runs with {w} workers (there are {present:?})"
        ))),
    }
}
