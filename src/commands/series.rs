//! `herd series`: run the task farm once (validate, compute, print, append the CSV row), or draw
//! a directory's series.csv.
use crate::report::csv::Appender;
use crate::report::plot::series::draw_dir;
use crate::report::series::SeriesRow;
use crate::series::{compute, leftovers, term, SeriesConfig};
use crate::Error;
use std::path::PathBuf;

/// A validated `herd series`.
#[derive(Debug, Clone)]
pub enum SeriesJob {
    /// `--plot DIR`: draw DIR/series.csv as DIR/series.png and DIR/series.svg.
    Plot(PathBuf),
    /// One run, its row appended to OUT/series.csv when `out` is given.
    Run {
        cfg: SeriesConfig,
        out: Option<PathBuf>,
    },
}

pub fn run(job: &SeriesJob) -> Result<(), Error> {
    let (cfg, out) = match job {
        SeriesJob::Plot(dir) => {
            for f in draw_dir(dir)? {
                println!("wrote {}", f.display());
            }
            return Ok(());
        }
        SeriesJob::Run { cfg, out } => (cfg, out),
    };
    let mut out = match out {
        Some(dir) => {
            let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(|e| usage(Error::file(dir, e)))?;
            Some(Appender::open::<SeriesRow>(&dir.join("series.csv")).map_err(usage)?)
        }
        None => None,
    };
    let fds_before = crate::sys::fds::open_count().unwrap_or(usize::MAX);
    let outcome = compute(cfg).inspect_err(|_| {
        // Every worker is reaped and every pipe closed by now; say so, so it can be checked.
        let (fds, children) = leftovers();
        eprintln!("cleanup   fds {fds_before} before, {fds} after; children left {children}");
    })?;
    let row = SeriesRow::build(cfg, &outcome);
    row.print(term::terms_needed(cfg.x));
    println!(
        "cleanup   fds {} before, {} after; children left {}; waitpid calls {}",
        outcome.fds_before, outcome.fds_after, outcome.children_after, outcome.waitpids
    );
    if let Some(a) = out.as_mut() {
        a.append(&row)?;
        a.flush()?;
    }
    Ok(())
}
