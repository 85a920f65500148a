//! What a run measures: the shared scoreboard the workers write, the kernel's own per-thread
//! accounting read from /proc, snapshots of both, and the figures derived from them.
pub(crate) mod fairness;
pub(crate) mod host;
pub(crate) mod netstat;
pub(crate) mod probe;
pub(crate) mod procfs;
pub(crate) mod scoreboard;
pub(crate) mod snapshot;
pub(crate) mod softirq;
pub(crate) mod tree;

pub use host::HostInfo;
pub use scoreboard::{Scoreboard, Slot, MAX_WORKERS};
pub use snapshot::{Snapshot, WorkerSample};
