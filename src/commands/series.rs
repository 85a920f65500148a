//! `herd series`: run the task farm once (validate, compute, print, append the CSV row), or draw
//! a directory's series.csv.
use super::output::Output;
use crate::report::csv::Appender;
use crate::report::plot::series::draw_dir;
use crate::report::series::SeriesRow;
use crate::series::{children_left, compute, open_fds, term, SeriesConfig};
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
        /// `--json`: the row as JSON on stdout, the text on stderr.
        json: bool,
    },
}

pub fn run(job: &SeriesJob) -> Result<(), Error> {
    let (cfg, out, json) = match job {
        SeriesJob::Plot(dir) => {
            for f in draw_dir(dir)? {
                println!("wrote {}", f.display());
            }
            return Ok(());
        }
        SeriesJob::Run { cfg, out, json } => (cfg, out, Output::new(*json)),
    };
    let mut out = match out {
        Some(dir) => {
            let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(|e| usage(Error::file(dir, e)))?;
            Some(Appender::open::<SeriesRow>(&dir.join("series.csv")).map_err(usage)?)
        }
        None => None,
    };
    // The no-leak, no-zombie check: descriptors before the workers were forked and after
    // they were reaped, and children left then. A count that cannot be read is an error.
    let fds_before = open_fds()?;
    let cleanup = || -> Result<String, Error> {
        Ok(format!(
            "cleanup   fds {fds_before} before, {} after; children left {}",
            open_fds()?,
            children_left()?
        ))
    };
    let outcome = match compute(cfg) {
        Ok(o) => o,
        Err(e) => {
            // Every worker is reaped and every pipe closed by now; say so, so it can be checked.
            eprintln!("{}", cleanup()?);
            return Err(e);
        }
    };
    let row = SeriesRow::build(cfg, &outcome);
    json.text(&row.text(term::terms_needed(cfg.x)));
    json.text(&format!(
        "{}; waitpid calls {}\n",
        cleanup()?,
        outcome.waitpids
    ));
    let row = row.rounded();
    if let Some(a) = out.as_mut() {
        a.append(&row)?;
        a.flush()?;
    }
    json.object(&row)
}
