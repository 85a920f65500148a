//! Driving a `herd serve` child: how `herd run`, `herd order`, `herd chaos` and the benches
//! start the server under test, read its stdout protocol, take scoreboard snapshots and stop it.
mod child;

pub use child::ServerChild;
