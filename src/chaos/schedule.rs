//! `--schedule reload:1s,kill:2s,kill-holder:500ms`: which faults `herd chaos` applies and how
//! often. Each item is run as its own segment (a fresh server, `--duration` long) with its fault
//! applied every INTERVAL, so what a segment loses is caused by that one kind of fault.
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGHUP to the master: a graceful reload.
    Reload,
    /// SIGKILL to a random worker.
    Kill,
    /// The worker holding the accept lock dies holding it (SIGUSR2 to the master arms it; the
    /// next worker to take the lock SIGKILLs itself). Lock strategies only.
    KillHolder,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Reload => "reload",
            FaultKind::Kill => "kill",
            FaultKind::KillHolder => "kill-holder",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub kind: FaultKind,
    pub every: Duration,
}

/// Parse a comma-separated list of `KIND:INTERVAL`.
pub fn parse(s: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, every) = part
            .split_once(':')
            .ok_or_else(|| format!("{part}: expected KIND:INTERVAL, e.g. reload:1s"))?;
        let kind = match kind {
            "reload" => FaultKind::Reload,
            "kill" => FaultKind::Kill,
            "kill-holder" => FaultKind::KillHolder,
            _ => {
                return Err(format!(
                    "{part}: unknown fault {kind} (reload, kill, kill-holder)"
                ))
            }
        };
        let every = crate::cli::parse_duration(every).map_err(|e| format!("{part}: {e}"))?;
        if every < Duration::from_millis(10) {
            return Err(format!("{part}: the interval must be at least 10ms"));
        }
        items.push(Item { kind, every });
    }
    if items.is_empty() {
        return Err("an empty schedule".into());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_schedule_and_rejects_bad_items() {
        let s = parse("reload:1s, kill:250ms,kill-holder:2").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].kind, FaultKind::Kill);
        assert_eq!(s[1].every, Duration::from_millis(250));
        assert_eq!(s[2].every, Duration::from_secs(2));
        for bad in ["", "reload", "boom:1s", "kill:1ms", "kill:soon"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
