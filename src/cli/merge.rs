//! `herd merge`: histogram logs combined.
use crate::commands::merge::MergeConfig;
use crate::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// .hlog files written by `herd run --out` or `herd load --out`; or results directories
    /// (each client's `--out DIR` of one run, `herd load --run-id ID`), whose runs.csv rows of
    /// that run are combined into one row with percentiles from their added histograms.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Add up logs of different loads (strategy, workers, load shape, requests per connection,
    /// target), which `herd merge` otherwise refuses: their sum is the distribution of no run.
    #[arg(long)]
    pub force: bool,
    /// Print the merged percentiles as one JSON object on stdout; the table goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// Results directories: the run to combine (default: the one run id every directory has).
    #[arg(long, value_name = "ID", value_parser = super::fleet::parse_run_id)]
    pub run_id: Option<String>,
    /// Results directories: append the combined row to DIR/runs.csv, its percentiles to
    /// DIR/latency.csv and its histograms to DIR/hist/ID.hlog.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl MergeArgs {
    pub fn config(&self) -> Result<MergeConfig, Error> {
        let dirs = self.files.iter().filter(|p| p.is_dir()).count();
        if dirs > 0 && dirs < self.files.len() {
            return Err(Error::Usage(
                "herd merge: give .hlog files or results directories, not both".into(),
            ));
        }
        if dirs == 0 {
            for (flag, given) in [
                ("--run-id", self.run_id.is_some()),
                ("--out", self.out.is_some()),
            ] {
                if given {
                    return Err(Error::Usage(format!(
                        "{flag} applies to results directories (rows), not to .hlog files"
                    )));
                }
            }
        }
        Ok(MergeConfig {
            files: self.files.clone(),
            force: self.force,
            json: self.json,
            run_id: self.run_id.clone(),
            out: self.out.clone(),
        })
    }
}
