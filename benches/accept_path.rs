//! `accept_path`: one connection's round trip over loopback, per strategy: connect, the worker's
//! accept, `GET /`, the `200` response, close, timed from before connect() to the client's read
//! of EOF. With 1 worker and with 8 (the herd's price on a single connection: the same work, with
//! seven more workers that the strategy may wake for nothing).
//!
//! One `herd serve` child per benchmark, started on its first sample. Before each connection the
//! client waits, untimed, until every worker is asleep again, so each connection meets an idle
//! server (back to back, a worker still returning from the previous connection would find the
//! next one queued without sleeping).
use crate::server::{strategies, Herd, WORKERS};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use std::time::{Duration, Instant};

criterion_group!(benches, accept_path);

fn accept_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("accept_path");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for strategy in strategies() {
        for n in WORKERS {
            let mut herd: Option<Herd> = None;
            let mut not_idle = 0u64;
            let id = BenchmarkId::new(strategy.name(), format!("{n}w"));
            g.bench_function(id, |b| {
                let herd = herd.get_or_insert_with(|| Herd::start(strategy, n));
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        not_idle += u64::from(!herd.wait_idle());
                        let t = Instant::now();
                        black_box(herd.round_trip());
                        total += t.elapsed();
                    }
                    total
                })
            });
            if not_idle > 0 {
                eprintln!("accept_path/{strategy}/{n}w: {not_idle} connections met a busy worker");
            }
        }
    }
    g.finish();
}
