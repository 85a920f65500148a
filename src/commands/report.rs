//! `herd report`: tables comparing the strategies of a results directory, as Markdown, CSV or
//! JSON.
use crate::report::export::{render, Format};
use crate::report::results::Results;
use crate::Error;
use std::path::PathBuf;

/// A validated `herd report`.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub dir: PathBuf,
    /// Only the tables for this worker count.
    pub workers: Option<u64>,
    /// `--format`: md, csv or json.
    pub format: Format,
}

pub fn run(args: &ReportConfig) -> Result<(), Error> {
    // Only prints: a closed pipe (`| head`) ends it quietly.
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
    let results = Results::load(&args.dir)?;
    print!("{}", render(&results, args.workers, args.format)?);
    Ok(())
}
