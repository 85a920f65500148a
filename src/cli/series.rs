//! `herd series`: the task farm.
use super::parse::parse_duration;
use crate::commands::series::SeriesJob;
use crate::series::{CollectKind, SeriesConfig};
use crate::Error;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct SeriesArgs {
    /// The exponent x of e^x (|x| <= 700).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub x: f64,
    /// Number of terms N: x^0/0! to x^(N-1)/(N-1)!.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=crate::series::MAX_TERMS as i64))]
    pub terms: u32,
    /// How the master collects the results.
    #[arg(long, value_enum, default_value_t = CollectKind::Epoll)]
    pub collect: CollectKind,
    /// Worker processes; fewer than --terms makes a pool that takes indices from the master
    /// (default: one process per term).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::series::MAX_WORKERS as i64))]
    pub workers: Option<u32>,
    /// Give up (kill and reap every worker) if the terms have not all arrived after this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// CPU time each worker burns per term, in microseconds (a costlier sub-task).
    #[arg(long, default_value_t = 0)]
    pub work_us: u64,
    /// Mean time each worker sleeps per term, in microseconds (an I/O-bound sub-task; each
    /// term sleeps a fixed pseudo-random time in [0, 2 x this), so results arrive spread out).
    #[arg(long, default_value_t = 0)]
    pub sleep_us: u64,
    /// Append a row to DIR/series.csv.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only draw DIR/series.csv as DIR/series.png and DIR/series.svg.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Fault injection for tests: KIND:TERM, KIND one of kill, garbage, short, wrong-index,
    /// exit, hang.
    #[arg(long, hide = true)]
    pub fault: Option<crate::series::worker::Fault>,
    /// Print the run as one JSON object on stdout (the fields of its series.csv row); the
    /// human lines go to stderr.
    #[arg(long)]
    pub json: bool,
}

impl SeriesArgs {
    pub fn config(&self) -> Result<SeriesJob, Error> {
        if let Some(dir) = &self.plot {
            return Ok(SeriesJob::Plot(dir.clone()));
        }
        let mut cfg = SeriesConfig::new(self.x, self.terms, self.workers, self.collect)?
            .with_fault(self.fault)?;
        cfg.timeout = self.timeout;
        cfg.work = Duration::from_micros(self.work_us);
        cfg.sleep = Duration::from_micros(self.sleep_us);
        Ok(SeriesJob::Run {
            cfg,
            out: self.out.clone(),
            json: self.json,
        })
    }
}
