//! What a run measures: the shared scoreboard the workers write, the kernel's own per-thread
//! accounting read from /proc, snapshots of both, and the figures derived from them.
pub mod fairness;
pub mod procfs;
pub mod scoreboard;
pub mod snapshot;

pub use scoreboard::{Scoreboard, Slot, MAX_WORKERS};
pub use snapshot::{Snapshot, WorkerSample};
