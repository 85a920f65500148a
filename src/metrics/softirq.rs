//! Kernel time on a run's packets that no thread of the client or the server is charged for.
//! On loopback a packet's protocol processing runs in softirq: in the sender's context, where
//! the sender is charged for it, unless the kernel accounts interrupt time apart
//! (CONFIG_IRQ_TIME_ACCOUNTING: /proc/stat's irq and softirq fields, in no task's time), or
//! deferred to the per-CPU ksoftirqd threads, charged to them. Without this part, the host's
//! time minus the client's and the server's would look like foreign load under every busy run.
use std::io::Read;
use std::sync::OnceLock;

/// The ksoftirqd threads (one per CPU, fixed for the boot).
fn ksoftirqd_pids() -> &'static [u64] {
    static PIDS: OnceLock<Vec<u64>> = OnceLock::new();
    PIDS.get_or_init(|| {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.starts_with("ksoftirqd/"))
            })
            .collect()
    })
}

/// CPU time of every ksoftirqd thread so far (schedstat), in ns; 0 without schedstat.
pub fn ksoftirqd_ns() -> u64 {
    ksoftirqd_pids()
        .iter()
        .filter_map(|p| {
            std::fs::read_to_string(format!("/proc/{p}/schedstat"))
                .ok()?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Whether this kernel accounts interrupt time apart from tasks (CONFIG_IRQ_TIME_ACCOUNTING),
/// from /boot/config-RELEASE or /proc/config.gz; `None` when neither can be read.
pub fn irq_time_accounted() -> Option<bool> {
    static ON: OnceLock<Option<bool>> = OnceLock::new();
    *ON.get_or_init(|| {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        let config = std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
            .ok()
            .or_else(|| {
                let gz = std::fs::File::open("/proc/config.gz").ok()?;
                let mut text = String::new();
                flate2::read::GzDecoder::new(gz)
                    .read_to_string(&mut text)
                    .ok()?;
                Some(text)
            })?;
        Some(config_says(&config))
    })
}

fn config_says(config: &str) -> bool {
    config
        .lines()
        .any(|l| l.trim() == "CONFIG_IRQ_TIME_ACCOUNTING=y")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_config_line_and_the_threads() {
        assert!(config_says("# x\nCONFIG_IRQ_TIME_ACCOUNTING=y\n"));
        assert!(!config_says("# CONFIG_IRQ_TIME_ACCOUNTING is not set\n"));
        // Every CPU has a ksoftirqd; its time only grows.
        let a = ksoftirqd_ns();
        assert!(ksoftirqd_ns() >= a);
        let _ = irq_time_accounted();
    }
}
