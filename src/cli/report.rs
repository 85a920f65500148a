//! `herd report`: Markdown tables from a results directory.
use crate::commands::report::ReportConfig;
use crate::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Results directory (runs.csv, workers.csv, latency.csv).
    pub dir: PathBuf,
    /// Only the tables for this worker count (default: one table per worker count).
    #[arg(long, value_name = "N")]
    pub workers: Option<u64>,
}

impl ReportArgs {
    pub fn config(&self) -> Result<ReportConfig, Error> {
        Ok(ReportConfig {
            dir: self.dir.clone(),
            workers: self.workers,
        })
    }
}
