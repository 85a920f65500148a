//! Options that change how one strategy, or one family of strategies, behaves. They come from
//! server flags and reach the strategy through [`super::StrategyKind::prepare`].
use super::StrategyKind;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// nginx's `accept_mutex_delay` default.
pub const DEFAULT_ACCEPT_MUTEX_DELAY: Duration = Duration::from_millis(500);

/// How many connections a worker accepts after one wakeup, before it waits again
/// (`--accepts-per-wakeup`): one (Unicorn's EPOLLEXCLUSIVE with maxevents=1, and every
/// strategy's default), up to N (Envoy's `max_connections_to_accept_per_socket_event`), or
/// until accept() fails with EAGAIN (`unlimited`, nginx's `multi_accept on`, which
/// `--multi-accept` still says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerWakeup {
    /// At most this many (at least 1).
    Limit(u32),
    /// Until EAGAIN.
    UntilEagain,
}

impl Default for PerWakeup {
    fn default() -> Self {
        PerWakeup::Limit(1)
    }
}

impl PerWakeup {
    /// Whether a wakeup that has accepted `taken` connections accepts another.
    #[inline]
    pub fn more_after(self, taken: u64) -> bool {
        match self {
            PerWakeup::Limit(n) => taken < u64::from(n),
            PerWakeup::UntilEagain => true,
        }
    }

    /// `4` or `unlimited`, as the flag takes it.
    pub fn parse(s: &str) -> Result<PerWakeup, String> {
        if s.eq_ignore_ascii_case("unlimited") {
            return Ok(PerWakeup::UntilEagain);
        }
        match s.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(PerWakeup::Limit(n)),
            _ => Err(format!(
                "{s}: expected a whole number >= 1 or `unlimited` (accept until EAGAIN)"
            )),
        }
    }
}

impl std::fmt::Display for PerWakeup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PerWakeup::Limit(n) => write!(f, "{n}"),
            PerWakeup::UntilEagain => f.write_str("unlimited"),
        }
    }
}

/// How `reuseport-ebpf`'s program picks the socket of a new connection (`--ebpf-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EbpfPolicy {
    /// A strict rotation over the sockets (a ticket counter in a map, modulo the sockets).
    #[default]
    Rr,
    /// The socket whose worker holds the fewest open connections (counts the workers keep in
    /// a memory-mapped BPF array); ties rotate.
    Least,
}

impl EbpfPolicy {
    pub fn name(self) -> &'static str {
        match self {
            EbpfPolicy::Rr => "rr",
            EbpfPolicy::Least => "least",
        }
    }
}

impl std::fmt::Display for EbpfPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyOptions {
    /// `--accepts-per-wakeup` (`--multi-accept`: until EAGAIN).
    pub per_wakeup: PerWakeup,
    /// `--accept-mutex-delay`: how long a worker without the accept mutex waits before trying
    /// again.
    pub accept_mutex_delay: Duration,
    /// `--accept-mutex-backoff`: a worker busy more than 7/8 of the time skips lock attempts.
    pub accept_mutex_backoff: bool,
    /// `--incoming-cpu`: SO_INCOMING_CPU on each reuseport socket (worker index % CPUs).
    pub incoming_cpu: bool,
    /// `--busy-delay` (event model): a worker holding connections waits this long, or until one
    /// of them closes, before it accepts (Puma's `wait_for_less_busy_worker`).
    pub busy_delay: Option<Duration>,
    /// `--ebpf-policy` (`reuseport-ebpf`).
    pub ebpf_policy: EbpfPolicy,
    /// `--reuseport-reload migrate`: load the `reuseport-ebpf` program as
    /// SELECT_OR_MIGRATE (Linux 5.14), so that it also places connections queued on a closing
    /// socket.
    pub ebpf_migrate: bool,
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions {
            per_wakeup: PerWakeup::default(),
            accept_mutex_delay: DEFAULT_ACCEPT_MUTEX_DELAY,
            accept_mutex_backoff: false,
            incoming_cpu: false,
            busy_delay: None,
            ebpf_policy: EbpfPolicy::default(),
            ebpf_migrate: false,
        }
    }
}

impl StrategyOptions {
    /// A flag given for a strategy it does not apply to is an error naming the flag, not
    /// something silently ignored.
    pub fn check(&self, strategy: StrategyKind) -> Result<(), String> {
        let d = StrategyOptions::default();
        let only = |flag: &str, given: bool, ok: &[StrategyKind]| {
            if given && !ok.contains(&strategy) {
                let names: Vec<_> = ok.iter().map(|k| k.name()).collect();
                Err(format!(
                    "{flag} applies to --strategy {}, not {strategy}",
                    names.join(", ")
                ))
            } else {
                Ok(())
            }
        };
        let having = |f: fn(StrategyKind) -> bool| -> Vec<StrategyKind> {
            StrategyKind::ALL
                .iter()
                .copied()
                .filter(|&k| f(k))
                .collect()
        };
        only(
            "--accepts-per-wakeup",
            self.per_wakeup != d.per_wakeup,
            &having(StrategyKind::takes_multi_accept),
        )?;
        if strategy == StrategyKind::EpollEt
            && self.per_wakeup != PerWakeup::UntilEagain
            && self.per_wakeup != d.per_wakeup
        {
            return Err(format!(
                "--accepts-per-wakeup {}: epoll-et accepts until EAGAIN (an edge-triggered \
                 registration is not reported again for what a wakeup leaves queued)",
                self.per_wakeup
            ));
        }
        only(
            "--busy-delay",
            self.busy_delay.is_some(),
            &having(StrategyKind::takes_busy_delay),
        )?;
        if let Some(b) = self.busy_delay {
            if b.is_zero() || b > Duration::from_secs(1) {
                return Err("--busy-delay must be between 1us and 1s".into());
            }
        }
        only(
            "--accept-mutex-delay",
            self.accept_mutex_delay != d.accept_mutex_delay,
            &[StrategyKind::AcceptMutex],
        )?;
        only(
            "--accept-mutex-backoff",
            self.accept_mutex_backoff,
            &[StrategyKind::AcceptMutex],
        )?;
        only(
            "--incoming-cpu",
            self.incoming_cpu,
            &[StrategyKind::Reuseport],
        )?;
        only(
            "--ebpf-policy",
            self.ebpf_policy != d.ebpf_policy,
            &[StrategyKind::ReuseportEbpf],
        )?;
        only(
            "--reuseport-reload migrate",
            self.ebpf_migrate,
            &[StrategyKind::ReuseportEbpf],
        )?;
        if self.accept_mutex_delay.is_zero() || self.accept_mutex_delay > Duration::from_secs(60) {
            return Err("--accept-mutex-delay must be between 1ms and 60s".into());
        }
        Ok(())
    }

    /// The options that differ from the defaults, as one short label for the CSV files and
    /// charts (`least`, `accepts-per-wakeup=4 busy-delay=5ms`). `None` when `strategy` runs
    /// as it does with no flag (`reuseport-ebpf` alone is its `rr` policy).
    pub fn label(&self, strategy: StrategyKind) -> Option<String> {
        let d = StrategyOptions::default();
        let mut parts: Vec<String> = Vec::new();
        if self.ebpf_policy != d.ebpf_policy {
            parts.push(self.ebpf_policy.name().into());
        }
        if self.per_wakeup != d.per_wakeup && strategy != StrategyKind::EpollEt {
            parts.push(format!("accepts-per-wakeup={}", self.per_wakeup));
        }
        if let Some(b) = self.busy_delay {
            parts.push(format!("busy-delay={}", humantime::format_duration(b)));
        }
        if self.accept_mutex_delay != d.accept_mutex_delay {
            let delay = humantime::format_duration(self.accept_mutex_delay);
            parts.push(format!("accept-mutex-delay={delay}"));
        }
        if self.accept_mutex_backoff {
            parts.push("accept-mutex-backoff".into());
        }
        if self.incoming_cpu {
            parts.push("incoming-cpu".into());
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

impl StrategyKind {
    /// Options of the strategy that this kernel (or user) may lack beyond the strategy itself,
    /// each with its support here: `reuseport-ebpf`'s `least` policy and migrating reload.
    pub fn option_support(self) -> Vec<(&'static str, Result<(), String>)> {
        match self {
            StrategyKind::ReuseportEbpf => vec![
                (
                    "--ebpf-policy least",
                    super::reuseport_ebpf::policy_supported(EbpfPolicy::Least),
                ),
                (
                    "--reuseport-reload migrate",
                    super::reuseport_ebpf::migrate_supported(),
                ),
            ],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_wakeup_parses_counts_and_unlimited() {
        assert_eq!(PerWakeup::parse("1"), Ok(PerWakeup::Limit(1)));
        assert_eq!(PerWakeup::parse("16"), Ok(PerWakeup::Limit(16)));
        assert_eq!(PerWakeup::parse("unlimited"), Ok(PerWakeup::UntilEagain));
        assert!(PerWakeup::parse("0").is_err() && PerWakeup::parse("x").is_err());
        assert!(PerWakeup::Limit(2).more_after(1) && !PerWakeup::Limit(2).more_after(2));
        assert!(PerWakeup::UntilEagain.more_after(1_000_000));
    }

    #[test]
    fn labels_name_what_differs() {
        let d = StrategyOptions::default();
        assert_eq!(d.label(StrategyKind::Blocking), None);
        assert_eq!(d.label(StrategyKind::ReuseportEbpf), None);
        let least = StrategyOptions {
            ebpf_policy: EbpfPolicy::Least,
            ..d.clone()
        };
        assert_eq!(
            least.label(StrategyKind::ReuseportEbpf).as_deref(),
            Some("least")
        );
        let o = StrategyOptions {
            per_wakeup: PerWakeup::Limit(4),
            busy_delay: Some(Duration::from_millis(5)),
            ..d
        };
        assert_eq!(
            o.label(StrategyKind::EpollShared).as_deref(),
            Some("accepts-per-wakeup=4 busy-delay=5ms")
        );
    }
}
