//! Options that change how one strategy, or one family of strategies, behaves. They come from
//! server flags and reach the strategy through [`super::StrategyKind::prepare`].
use super::StrategyKind;
use std::time::Duration;

/// nginx's `accept_mutex_delay` default.
pub const DEFAULT_ACCEPT_MUTEX_DELAY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyOptions {
    /// `--multi-accept`: after a wakeup, accept until EAGAIN (nginx `multi_accept on`).
    pub multi_accept: bool,
    /// `--accept-mutex-delay`: how long a worker without the accept mutex waits before trying
    /// again.
    pub accept_mutex_delay: Duration,
    /// `--accept-mutex-backoff`: a worker busy more than 7/8 of the time skips lock attempts.
    pub accept_mutex_backoff: bool,
    /// `--incoming-cpu`: SO_INCOMING_CPU on each reuseport socket (worker index % CPUs).
    pub incoming_cpu: bool,
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions {
            multi_accept: false,
            accept_mutex_delay: DEFAULT_ACCEPT_MUTEX_DELAY,
            accept_mutex_backoff: false,
            incoming_cpu: false,
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
        let multi: Vec<StrategyKind> = StrategyKind::ALL
            .iter()
            .copied()
            .filter(|k| k.takes_multi_accept())
            .collect();
        only("--multi-accept", self.multi_accept, &multi)?;
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
        if self.accept_mutex_delay.is_zero() || self.accept_mutex_delay > Duration::from_secs(60) {
            return Err("--accept-mutex-delay must be between 1ms and 60s".into());
        }
        Ok(())
    }
}
