//! Facts about the machine, stamped on every row herd writes.
use serde::{Deserialize, Serialize};

/// Facts about the machine, stamped on every run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostInfo {
    pub kernel: String,
    pub nproc: u64,
    pub herd_version: String,
}

impl HostInfo {
    pub fn detect() -> Self {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string();
        HostInfo {
            kernel,
            nproc: std::thread::available_parallelism()
                .map(|n| n.get() as u64)
                .unwrap_or(0),
            herd_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}
