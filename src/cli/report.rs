//! `herd report`: tables from a results directory.
use crate::commands::report::ReportConfig;
use crate::report::export::Format;
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
    /// md: Markdown tables; csv: one row per strategy and worker count with each figure's
    /// median, min and max; json: the same cells as one JSON document.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
}

impl ReportArgs {
    pub fn config(&self) -> Result<ReportConfig, Error> {
        Ok(ReportConfig {
            dir: self.dir.clone(),
            workers: self.workers,
            format: self.format,
        })
    }
}
