//! `herd load`: the generator alone against any HTTP/1.1 server, with `herd run`'s summary and
//! CSV through the same code, the server-side columns not measured.
use crate::load::{self, url, LoadConfig};
use crate::report::csv::ResultFiles;
use crate::report::record::Report;
use crate::report::summary;
use crate::Error;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

/// A validated `herd load`.
#[derive(Debug, Clone)]
pub struct LoadCommand {
    /// http://HOST[:PORT][/PATH], its form checked.
    pub url: String,
    /// The load; its target is set once the URL's host resolves.
    pub load: LoadConfig,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_conns: Option<u64>,
    pub out: Option<PathBuf>,
}

pub fn run(cfg: &LoadCommand) -> Result<(), Error> {
    let mut files = cfg.out.as_deref().map(ResultFiles::open).transpose()?;
    let t = url::resolve(&cfg.url)?;
    let mut load = cfg.load.clone().with_target(t.addr);
    load.host = t.host.clone();
    load.path = t.path.clone();
    let abort = AtomicBool::new(false);
    if !cfg.warmup.is_zero() {
        load::run_phase(&load, cfg.warmup, None, &abort)?;
    }
    let started = SystemTime::now();
    let phase = load::run_phase(&load, cfg.duration, cfg.max_conns, &abort)?;
    let report = Report {
        strategy: "",
        mode: "",
        workers: 0,
        work_us: 0,
        sleep_us: 0,
        target: cfg.url.clone(),
        server: None,
    };
    let outcome = report.record(&load, &phase, started, files.as_mut())?;
    print!("{}", summary::summary(&outcome.row));
    print!(
        "{}",
        summary::saved(cfg.out.as_deref(), &outcome.row.run_id)
    );
    Ok(())
}
