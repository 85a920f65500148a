//! `herd series`: one whole farm (fork, collect, reap) per iteration, per collection method,
//! one process per term and as a pool; nothing else is timed (the leak check, which scans
//! /proc, runs once before the timed iterations). Forks from the bench process, which must be
//! single-threaded (herd's fork refuses otherwise). Fork and exit dominate the time; the
//! collection-only figures and system-call counts come from `scripts/series-sweep.sh`.
use criterion::{BenchmarkId, Criterion};
use herd::series::{children_left, compute, open_fds, CollectKind, SeriesConfig};
use std::time::Duration;

fn config(collect: CollectKind, terms: u32, workers: u32) -> SeriesConfig {
    SeriesConfig::new(1.0, terms, Some(workers), collect).expect("valid config")
}

pub fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("series");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (label, terms, workers) in [("per-term-64", 64, 64), ("pool-8x256", 256, 8)] {
        for m in CollectKind::ALL {
            let cfg = config(m, terms, workers);
            // Untimed: one run leaves no descriptor and no child behind.
            let before = open_fds().expect("/proc/self/fd");
            compute(&cfg).expect("series run");
            assert_eq!(
                open_fds().expect("/proc/self/fd"),
                before,
                "descriptor leak"
            );
            assert_eq!(children_left().expect("/proc"), 0, "children left");
            g.bench_with_input(BenchmarkId::new(label, m.name()), &cfg, |b, cfg| {
                b.iter(|| {
                    let o = compute(cfg).expect("series run");
                    assert!(herd::series::term::relative_error(o.value, 1.0) < 1e-12);
                })
            });
        }
    }
    g.finish();
}
