//! `wakeup`: from a connection's arrival to a worker's return from its wait, per strategy, on an
//! idle server (every worker asleep before each connection, as in `accept_path`).
//!
//! What is timed, per connection: the worker's `X-Herd-Accept-Ns` (CLOCK_MONOTONIC read right
//! after its accept() returned) minus CLOCK_MONOTONIC read by the client just before connect().
//! That is the loopback handshake (run inside the client's connect() call), the wakeup of the
//! waiting worker (from accept(), epoll_wait() or its lock), its scheduling, and its accept()
//! call. Criterion's figure is the mean per connection; the distribution of every connection
//! (warm-up included) goes into an HDR histogram written to
//! `<criterion dir>/herd-wakeup/<strategy>-<N>w.json`, which `scripts/bench-table.sh` reads.
use crate::server::{criterion_dir, strategies, Herd, WORKERS};
use criterion::{criterion_group, BenchmarkId, Criterion};
use hdrhistogram::Histogram;
use herd::strategy::StrategyKind;
use std::time::Duration;

criterion_group!(benches, wakeup);

fn wakeup(c: &mut Criterion) {
    let mut g = c.benchmark_group("wakeup");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for strategy in strategies() {
        for n in WORKERS {
            let mut herd: Option<Herd> = None;
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
            let mut not_idle = 0u64;
            let id = BenchmarkId::new(strategy.name(), format!("{n}w"));
            g.bench_function(id, |b| {
                let herd = herd.get_or_insert_with(|| Herd::start(strategy, n));
                b.iter_custom(|iters| {
                    let mut total = 0u64;
                    for _ in 0..iters {
                        not_idle += u64::from(!herd.wait_idle());
                        let t = herd.round_trip();
                        let d = t.accept_ns.saturating_sub(t.connect_ns);
                        hist.saturating_record(d);
                        total += d;
                    }
                    Duration::from_nanos(total)
                })
            });
            if !hist.is_empty() {
                save(strategy, n, &hist, not_idle);
            }
        }
    }
    g.finish();
}

/// Write the distribution next to criterion's results, for `scripts/bench-table.sh`.
fn save(strategy: StrategyKind, n: usize, h: &Histogram<u64>, not_idle: u64) {
    let dir = criterion_dir().join("herd-wakeup");
    let path = dir.join(format!("{strategy}-{n}w.json"));
    let doc = serde_json::json!({
        "strategy": strategy.name(),
        "workers": n,
        "connections": h.len(),
        "not_idle": not_idle,
        "mean_ns": h.mean(),
        "p50_ns": h.value_at_quantile(0.50),
        "p90_ns": h.value_at_quantile(0.90),
        "p99_ns": h.value_at_quantile(0.99),
        "p999_ns": h.value_at_quantile(0.999),
        "max_ns": h.max(),
    });
    let written =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, format!("{doc:#}\n")));
    match written {
        Ok(()) => eprintln!(
            "wakeup/{strategy}/{n}w: p50 {:.1} us, p99 {:.1} us over {} connections ({not_idle} met a busy worker)",
            h.value_at_quantile(0.5) as f64 / 1e3,
            h.value_at_quantile(0.99) as f64 / 1e3,
            h.len()
        ),
        Err(e) => eprintln!("wakeup: cannot write {}: {e}", path.display()),
    }
}
