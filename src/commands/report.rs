//! `herd report`: Markdown tables comparing the strategies of a results directory.
use crate::report::markdown::markdown;
use crate::report::results::Results;
use crate::Error;
use std::path::PathBuf;

/// A validated `herd report`.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub dir: PathBuf,
    /// Only the tables for this worker count.
    pub workers: Option<u64>,
}

pub fn run(args: &ReportConfig) -> Result<(), Error> {
    // Only prints: a closed pipe (`| head`) ends it quietly.
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
    let results = Results::load(&args.dir)?;
    print!("{}", markdown(&results, args.workers)?);
    Ok(())
}
