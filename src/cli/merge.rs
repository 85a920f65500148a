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
}

impl MergeArgs {
    pub fn config(&self) -> Result<MergeConfig, Error> {
        Ok(MergeConfig {
            files: self.files.clone(),
        })
    }
}
