//! `cargo bench`: criterion benchmarks of what each mechanism costs on its own, one module per
//! topic (as in criterion's own repository). Filter with a substring of the benchmark id, e.g.
//! `cargo bench -- locks`, `cargo bench -- accept_path/epoll`, `cargo bench -- wakeup`.
//! docs/benchmarks.md says what each group measures; `scripts/bench-table.sh`
//! turns the results into its table.
//!
//! Order matters for one reason: `handoff` and `series` fork, which herd allows only in a
//! single-threaded process, so they run before the modules that start `herd serve` children
//! (each of which has reader threads until it is dropped).
use criterion::criterion_main;

mod accept_path;
mod handoff;
mod locks;
mod series;
mod server;
mod wakeup;

criterion::criterion_group!(series_benches, series::benches);

criterion_main!(
    locks::benches,
    handoff::benches,
    series_benches,
    accept_path::benches,
    wakeup::benches
);
