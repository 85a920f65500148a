//! `herd load` (the generator alone against any HTTP/1.1 server, with `herd run`'s summary and
//! CSV through the same code) and `herd merge` (histogram logs combined).
use crate::cli::{LoadCmdArgs, MergeArgs};
use crate::load::{self, hlog, LoadConfig};
use crate::report::csv::ResultFiles;
use crate::report::table;
use crate::run::Report;
use crate::Error;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

pub fn load(args: &LoadCmdArgs) -> Result<(), Error> {
    // Input checks first (the URL's form, --out, the load flags), then reachability.
    load::url::split(&args.url)?;
    LoadConfig::from_args("127.0.0.1:0".parse().expect("literal"), &args.load)?;
    let mut files = args.out.as_deref().map(ResultFiles::open).transpose()?;
    let t = load::url::resolve(&args.url)?;
    let mut cfg = LoadConfig::from_args(t.addr, &args.load)?;
    cfg.host = t.host.clone();
    cfg.path = t.path.clone();
    let abort = AtomicBool::new(false);
    if !args.warmup.is_zero() {
        load::run_phase(&cfg, args.warmup, None, &abort)?;
    }
    let started = SystemTime::now();
    let phase = load::run_phase(&cfg, args.load.duration, args.load.requests, &abort)?;
    let report = Report {
        strategy: "",
        mode: "",
        workers: 0,
        work_us: 0,
        sleep_us: 0,
        target: args.url.clone(),
        server: None,
    };
    let outcome = report.record(&cfg, &phase, started, files.as_mut())?;
    print!("{}", table::summary(&outcome.row));
    Ok(())
}

pub fn merge(args: &MergeArgs) -> Result<(), Error> {
    let mut parts = Vec::new();
    for f in &args.files {
        parts.extend(hlog::read(f)?);
    }
    let merged = hlog::merge(parts)?;
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "metric", "count", "p50_us", "p90_us", "p99_us", "p99.9_us", "p99.99_us", "max_us"
    );
    for (tag, h) in merged {
        let q = |q: f64| load::stats::quantile_us(&h, q);
        println!(
            "{:<14} {:>10} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            if tag.is_empty() { "(untagged)" } else { &tag },
            h.len(),
            q(0.5),
            q(0.9),
            q(0.99),
            q(0.999),
            q(0.9999),
            q(1.0)
        );
    }
    Ok(())
}
