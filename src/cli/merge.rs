//! `herd merge`: histogram logs combined.
use crate::commands::merge::MergeConfig;
use crate::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// .hlog files written by `herd run --out` or `herd load --out`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Add up logs of different loads (strategy, workers, load shape, requests per connection,
    /// target), which `herd merge` otherwise refuses: their sum is the distribution of no run.
    #[arg(long)]
    pub force: bool,
    /// Print the merged percentiles as one JSON object on stdout; the table goes to stderr.
    #[arg(long)]
    pub json: bool,
}

impl MergeArgs {
    pub fn config(&self) -> Result<MergeConfig, Error> {
        Ok(MergeConfig {
            files: self.files.clone(),
            force: self.force,
            json: self.json,
        })
    }
}
