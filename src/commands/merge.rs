//! `herd merge`: histogram logs from several runs, processes or hosts, added up per metric into
//! one set of percentiles.
use crate::load::hlog;
use crate::load::stats::quantile_us;
use crate::Error;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub files: Vec<PathBuf>,
}

pub fn run(cfg: &MergeConfig) -> Result<(), Error> {
    // Only prints: a closed pipe (`| head`) ends it quietly.
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
    let mut parts = Vec::new();
    for f in &cfg.files {
        parts.extend(hlog::read(f)?);
    }
    let merged = hlog::merge(parts)?;
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "metric", "count", "p50_us", "p90_us", "p99_us", "p99.9_us", "p99.99_us", "max_us"
    );
    for (tag, h) in merged {
        let q = |q: f64| quantile_us(&h, q);
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
