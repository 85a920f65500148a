//! `herd series` output: one CSV row per run in DIR/series.csv, and the printed report.
use super::record::{new_run_id, timestamp};
use crate::metrics::HostInfo;
use crate::series::{term, Outcome, SeriesConfig};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::time::Duration;

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
        SeriesRow {
            run_id: new_run_id(),
            timestamp: timestamp(),
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

    pub fn text(&self, needed: u32) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "series x={} terms={} workers={} mode={} collect={}",
            self.x, self.terms, self.workers, self.mode, self.collect
        );
        let _ = writeln!(s, "result    {:e}", self.result);
        let _ = writeln!(s, "exp(x)    {:e}", self.exp);
        let _ = writeln!(s, "rel_error {:e}", self.rel_error);
        let conv = if self.terms >= needed { "yes" } else { "NO" };
        let _ = writeln!(
            s,
            "converged {conv} ({needed} terms reach f64 precision for this x)"
        );
        let _ = writeln!(
            s,
            "time      wall {:.3} ms = spawn {:.3} + collect {:.3} + reap {:.3}",
            self.wall_ms, self.spawn_ms, self.collect_ms, self.reap_ms
        );
        let _ = writeln!(
            s,
            "master    waits {} wakeups {} ready {} reads {} empty_reads {} writes {} epoll_ctl {} closes {}",
            self.waits, self.wakeups, self.ready_events, self.reads, self.empty_reads,
            self.writes, self.epoll_ctls, self.closes
        );
        let _ = writeln!(
            s,
            "per term  syscalls {:.2} wakeups {:.3} collect {:.2} us; master context switches {} voluntary, {} involuntary",
            self.syscalls_per_term, self.wakeups_per_term, self.collect_us_per_term,
            self.master_vol_ctx, self.master_invol_ctx
        );
        s
    }
}
