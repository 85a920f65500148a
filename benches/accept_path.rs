//! `accept_path`: one connection's round trip over loopback, per strategy: connect, the worker's
//! accept, `GET /`, the `200` response, timed from just before connect() to the client's read
//! of EOF (the socket and its bind before, the close and the response check after, untimed). With 1 worker and with 8 (the herd's price on a single connection: the same work, with
//! seven more workers that the strategy may wake for nothing).
//!
//! One `herd serve` child per benchmark, started on its first sample. Before each connection the
//! client waits, untimed, until every worker is asleep again, so each connection meets an idle
//! server (back to back, a worker still returning from the previous connection would find the
//! next one queued without sleeping).
use crate::server::{strategies, Herd, WORKERS};
use criterion::{criterion_group, BenchmarkId, Criterion};
use std::time::Duration;

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
                    let mut total = 0u64;
                    for _ in 0..iters {
                        not_idle += u64::from(!herd.wait_idle());
                        let t = herd.round_trip();
                        total += t.eof_ns - t.connect_ns;
                    }
                    Duration::from_nanos(total)
                })
            });
            if not_idle > 0 {
                eprintln!("accept_path/{strategy}/{n}w: {not_idle} connections met a busy worker");
            }
        }
    }
    g.finish();
}
