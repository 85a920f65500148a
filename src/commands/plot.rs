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
    // Prints the files it wrote: a closed pipe (`| head`) ends it quietly.
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
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
    let mut slugs: Vec<String> = Vec::new();
    for g in &groups {
        // One file name per condition: conditions that differ only in what the slug leaves
        // out (client threads, the host) get a number.
        let mut slug = g.condition.slug();
        if slugs.contains(&slug) {
            slug = format!("{slug}-{}", slugs.len() + 1);
        }
        slugs.push(slug.clone());
        let suffix = if groups.len() > 1 || !g.condition.server_measured() {
            format!("-{slug}")
        } else {
            String::new()
        };
        for spec in lines::METRICS {
            if let Some(chart) = lines::MetricChart::new(g, spec, &suffix) {
                written.extend(render(&chart, out)?);
            }
        }
        // `herd load` runs have no worker count: their CDF is the group's.
        let w = if g.condition.server_measured() {
            at_workers(g, args.at_workers)?
        } else {
            0
        };
        for s in g.strategies() {
            if let Some(chart) = share::ShareChart::new(g, &results, &s, w, &suffix) {
                written.extend(render(&chart, out)?);
            }
            // The event model: what each worker served and held, too.
            if g.condition.worker_model == "event" {
                for m in [share::Measure::Requests, share::Measure::Open] {
                    if let Some(chart) = share::ShareChart::of(m, g, &results, &s, w, &suffix) {
                        written.extend(render(&chart, out)?);
                    }
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
