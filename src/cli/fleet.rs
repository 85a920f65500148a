//! `herd load --start-at TIME --run-id ID`: several client hosts (or processes) that start
//! together and write rows and histogram logs of one run, for `herd merge` to combine.
use crate::Error;
use clap::Args;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest `--start-at` may lie ahead: further is a typo, not a plan.
const MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// One client of a run that spans several clients.
#[derive(Debug, Clone, Default, Args)]
pub struct FleetArgs {
    /// Wait until this wall-clock time, then start (the warmup first, if any), so that clients
    /// on several hosts start together: RFC 3339 (2026-12-01T10:00:00.5Z) or Unix seconds
    /// (1764583200.5). The hosts' clocks must agree (NTP keeps them within a millisecond or so).
    #[arg(long, value_name = "TIME", value_parser = parse_wall_time)]
    pub start_at: Option<SystemTime>,
    /// The run's id in every row and as the histogram log's name, instead of a new one: give
    /// every client of one run the same id, and `herd merge` combines their rows.
    #[arg(long, value_name = "ID", value_parser = parse_run_id)]
    pub run_id: Option<String>,
}

impl FleetArgs {
    /// `--start-at` must lie ahead, by at most a day.
    pub fn check(&self) -> Result<(), Error> {
        let Some(t) = self.start_at else {
            return Ok(());
        };
        let now = SystemTime::now();
        let stamp = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
        match t.duration_since(now) {
            Err(_) => Err(Error::Usage(format!(
                "--start-at {}: already past (now {})",
                stamp(t),
                stamp(now)
            ))),
            Ok(ahead) if ahead > MAX_AHEAD => Err(Error::Usage(format!(
                "--start-at {}: more than a day ahead (now {})",
                stamp(t),
                stamp(now)
            ))),
            Ok(_) => Ok(()),
        }
    }
}

/// RFC 3339, or Unix seconds with an optional fraction (a leading `@`, as date(1) takes, too).
pub fn parse_wall_time(s: &str) -> Result<SystemTime, String> {
    let unix = s.strip_prefix('@').unwrap_or(s);
    if let Ok(secs) = unix.parse::<f64>() {
        if secs.is_finite() && secs > 0.0 {
            return Ok(UNIX_EPOCH + Duration::from_secs_f64(secs));
        }
        return Err("Unix seconds must be above 0".into());
    }
    humantime::parse_rfc3339_weak(s)
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-12-01T10:00:00Z, or Unix seconds)"))
}

/// A run id names files: letters, digits, `.`, `_` and `-`, at most 64.
pub fn parse_run_id(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if s.is_empty() || s.len() > 64 || !s.chars().all(ok) || s.starts_with('.') {
        return Err("letters, digits, `.`, `_` and `-` (at most 64, not starting with `.`)".into());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_parse_in_both_forms_and_the_past_is_refused() {
        let t = parse_wall_time("1764583200.5").unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_millis(1_764_583_200_500));
        assert_eq!(parse_wall_time("@1764583200.5").unwrap(), t);
        assert_eq!(parse_wall_time("2025-12-01T10:00:00.5Z").unwrap(), t);
        assert!(parse_wall_time("soon").is_err());
        assert!(parse_wall_time("-5").is_err());
        let past = FleetArgs {
            start_at: Some(t),
            run_id: None,
        };
        let e = past.check().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("already past"), "{e}");
        let soon = FleetArgs {
            start_at: Some(SystemTime::now() + Duration::from_secs(5)),
            run_id: None,
        };
        assert!(soon.check().is_ok());
        let later = FleetArgs {
            start_at: Some(SystemTime::now() + Duration::from_secs(90_000)),
            run_id: None,
        };
        assert!(later.check().is_err());
    }

    #[test]
    fn run_ids_are_file_names() {
        assert!(parse_run_id("fleet-1764583200.k3").is_ok());
        for bad in ["", "a/b", "..", ".x", "a b", &"x".repeat(65)] {
            assert!(parse_run_id(bad).is_err(), "{bad}");
        }
    }
}
