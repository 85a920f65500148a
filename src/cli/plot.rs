//! `herd plot`: charts from a results directory.
use crate::commands::plot::PlotConfig;
use crate::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// Results directory (runs.csv, workers.csv, latency.csv), e.g. one `herd sweep` wrote.
    pub dir: PathBuf,
    /// Where to write the charts (default: DIR/charts).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker count for the per-worker share and latency CDF charts (default: the largest).
    #[arg(long, value_name = "N")]
    pub at_workers: Option<u64>,
}

impl PlotArgs {
    pub fn config(&self) -> Result<PlotConfig, Error> {
        Ok(PlotConfig {
            dir: self.dir.clone(),
            out: self.out.clone().unwrap_or_else(|| self.dir.join("charts")),
            at_workers: self.at_workers,
        })
    }
}
