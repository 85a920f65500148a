//! `herd series` output: the printed report and one CSV row per run in DIR/series.csv.
use super::{compute, term, CollectKind, Outcome, SeriesConfig};
use crate::cli::SeriesArgs;
use crate::report::csv::Appender;
use crate::report::row::HostInfo;
use crate::Error;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One run of `herd series`; columns of series.csv.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeriesRow {
    pub run_id: String,
    pub timestamp: String,
    /// sequential, select, poll or epoll.
    pub collect: String,
    /// `per-term` (one process per term) or `pool`.
    pub mode: String,
    pub x: f64,
    pub terms: u32,
    pub workers: u32,
    pub work_us: u64,
    pub sleep_us: u64,
    pub result: f64,
    pub exp: f64,
    pub rel_error: f64,
    /// Spawn + collect + reap, ms.
    pub wall_ms: f64,
    pub spawn_ms: f64,
    /// From the first wait (after registering the pipes) to the last term, ms.
    pub collect_ms: f64,
    pub reap_ms: f64,
    pub waits: u64,
    pub wakeups: u64,
    pub ready_events: u64,
    pub reads: u64,
    pub empty_reads: u64,
    pub writes: u64,
    pub epoll_ctls: u64,
    pub closes: u64,
    /// waits + reads + writes + epoll_ctls + closes while collecting.
    pub syscalls: u64,
    pub syscalls_per_term: f64,
    pub wakeups_per_term: f64,
    pub collect_us_per_term: f64,
    /// The master's voluntary context switches while collecting: how often it really slept.
    pub master_vol_ctx: u64,
    pub master_invol_ctx: u64,
    pub kernel: String,
    pub nproc: u64,
    pub herd_version: String,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl SeriesRow {
    pub fn build(cfg: &SeriesConfig, o: &Outcome) -> Self {
        let c = &o.counters;
        let n = f64::from(cfg.terms);
        let host = HostInfo::detect();
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        SeriesRow {
            run_id: format!(
                "{secs}-{:05}-{:04x}",
                std::process::id() % 100_000,
                fastrand::u16(..)
            ),
            timestamp: humantime::format_rfc3339_seconds(now).to_string(),
            collect: cfg.collect.name().into(),
            mode: if cfg.pool() { "pool" } else { "per-term" }.into(),
            x: cfg.x,
            terms: cfg.terms,
            workers: cfg.workers,
            work_us: cfg.work.as_micros() as u64,
            sleep_us: cfg.sleep.as_micros() as u64,
            result: o.value,
            exp: cfg.x.exp(),
            rel_error: term::relative_error(o.value, cfg.x),
            wall_ms: ms(o.spawn + o.collect + o.reap),
            spawn_ms: ms(o.spawn),
            collect_ms: ms(o.collect),
            reap_ms: ms(o.reap),
            waits: c.waits,
            wakeups: c.wakeups,
            ready_events: c.ready_events,
            reads: c.reads,
            empty_reads: c.empty_reads,
            writes: c.writes,
            epoll_ctls: c.ctls,
            closes: c.closes,
            syscalls: c.syscalls(),
            syscalls_per_term: c.syscalls() as f64 / n,
            wakeups_per_term: c.wakeups as f64 / n,
            collect_us_per_term: o.collect.as_secs_f64() * 1e6 / n,
            master_vol_ctx: o.vol_ctx,
            master_invol_ctx: o.invol_ctx,
            kernel: host.kernel,
            nproc: host.nproc,
            herd_version: host.herd_version,
        }
    }

    pub fn print(&self, needed: u32) {
        println!(
            "series x={} terms={} workers={} mode={} collect={}",
            self.x, self.terms, self.workers, self.mode, self.collect
        );
        println!("result    {:e}", self.result);
        println!("exp(x)    {:e}", self.exp);
        println!("rel_error {:e}", self.rel_error);
        let conv = if self.terms >= needed { "yes" } else { "NO" };
        println!("converged {conv} ({needed} terms reach f64 precision for this x)");
        println!(
            "time      wall {:.3} ms = spawn {:.3} + collect {:.3} + reap {:.3}",
            self.wall_ms, self.spawn_ms, self.collect_ms, self.reap_ms
        );
        println!(
            "master    waits {} wakeups {} ready {} reads {} empty_reads {} writes {} epoll_ctl {} closes {}",
            self.waits, self.wakeups, self.ready_events, self.reads, self.empty_reads,
            self.writes, self.epoll_ctls, self.closes
        );
        println!(
            "per term  syscalls {:.2} wakeups {:.3} collect {:.2} us; master context switches {} voluntary, {} involuntary",
            self.syscalls_per_term, self.wakeups_per_term, self.collect_us_per_term,
            self.master_vol_ctx, self.master_invol_ctx
        );
    }
}

/// `herd series`: validate, compute, print, append the CSV row; or with `--plot DIR`, draw.
pub fn run(args: &SeriesArgs) -> Result<(), Error> {
    if let Some(dir) = &args.plot {
        return super::plot::draw_dir(dir).map(|files| {
            for f in files {
                println!("wrote {}", f.display());
            }
        });
    }
    let mut cfg = SeriesConfig::new(args.x, args.terms, args.workers, args.collect)?
        .with_fault(args.fault)?;
    cfg.timeout = args.timeout;
    cfg.work = Duration::from_micros(args.work_us);
    cfg.sleep = Duration::from_micros(args.sleep_us);
    let mut out = match &args.out {
        Some(dir) => {
            let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(|e| usage(Error::file(dir, e)))?;
            Some(Appender::open::<SeriesRow>(&dir.join("series.csv")).map_err(usage)?)
        }
        None => None,
    };
    let fds_before = crate::sys::fds::open_count().unwrap_or(usize::MAX);
    let outcome = compute(&cfg).inspect_err(|_| {
        // Every worker is reaped and every pipe closed by now; say so, so it can be checked.
        let (fds, children) = super::leftovers();
        eprintln!("cleanup   fds {fds_before} before, {fds} after; children left {children}");
    })?;
    let row = SeriesRow::build(&cfg, &outcome);
    row.print(term::terms_needed(cfg.x));
    println!(
        "cleanup   fds {} before, {} after; children left {}; waitpid calls {}",
        outcome.fds_before, outcome.fds_after, outcome.children_after, outcome.waitpids
    );
    if let Some(a) = out.as_mut() {
        a.append(&row)?;
        a.flush()?;
    }
    Ok(())
}

/// The methods in the order charts and tables list them.
pub fn methods() -> [CollectKind; 4] {
    CollectKind::ALL
}
