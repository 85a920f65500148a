//! `herd chaos`: faults applied to `herd serve` under load.
use super::parse::{count32, parse_duration, parse_strategy_choice, StrategyChoice};
use crate::commands::chaos::schedule::{FaultKind, Item};
use crate::commands::chaos::ChaosConfig;
use crate::load::LoadConfig;
use crate::server::ReuseportReload;
use crate::strategy::WorkerModel;
use crate::Error;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A parsed `--schedule`.
#[derive(Debug, Clone)]
pub struct Schedule(pub Vec<Item>);

#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    /// Strategy to test, or `all`.
    #[arg(long, default_value = "all", value_parser = parse_strategy_choice)]
    pub strategy: StrategyChoice,
    /// Worker processes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=512))]
    pub workers: u32,
    /// Faults, `KIND:INTERVAL,...` with KIND `reload` (SIGHUP), `kill` (SIGKILL a random
    /// worker), `kill-holder` (the accept-lock holder dies holding it), `kill-acceptor` (SIGKILL
    /// a hand-off strategy's acceptor), `freeze` (SIGSTOP a random worker) or `freeze-holder`
    /// (the lock holder stops holding it); a frozen worker
    /// is thawed when the next is frozen and at the end of the faulted part. Each item is its own
    /// segment with a fresh server, the fault applied every INTERVAL for --duration.
    #[arg(long, default_value = "reload:1s,kill:1s,kill-holder:1s", value_parser = parse_schedule)]
    pub schedule: Schedule,
    /// Length of each segment's faulted part (a 1 s tail without faults follows).
    #[arg(short = 'd', long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load before the first fault, to measure the baseline rate.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub baseline: Duration,
    /// Length of one load phase: the resolution of the recovery time.
    #[arg(long, default_value = "50ms", value_parser = parse_duration)]
    pub phase: Duration,
    /// Connections in flight (closed loop).
    #[arg(short = 'c', long = "connections", visible_alias = "concurrency", default_value = "32", value_name = "N", value_parser = count32(1, 100_000))]
    pub concurrency: u32,
    /// Client threads (default: one per CPU).
    #[arg(short = 't', long = "threads", visible_alias = "client-threads", value_name = "N", value_parser = count32(1, 256))]
    pub client_threads: Option<u32>,
    /// A connection not complete after this long is abandoned and counted as a timeout.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The server's --graceful-timeout (how long a draining worker may take).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub graceful_timeout: Duration,
    /// The server's --reuseport-reload.
    #[arg(long, value_enum, default_value_t = ReuseportReload::Keep)]
    pub reuseport_reload: ReuseportReload,
    /// Address the server listens on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = super::parse::parse_addr)]
    pub addr: SocketAddr,
    /// How each worker serves (`sync` or `event`, see `herd serve --help`); with `all`, the
    /// strategies without a form in the model are skipped.
    #[arg(long, value_enum, default_value_t = WorkerModel::Sync)]
    pub worker_model: WorkerModel,
    /// Requests on each connection of the load (above 1: keep-alive; all but the last ask for
    /// keep-alive, and a connection the server closes early is followed by a new one).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub requests_per_conn: u32,
    /// Append one row per strategy and fault kind to DIR/chaos.csv.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The server's --lock-watchdog: kill a worker that holds the accept lock this long while
    /// connections wait (lock strategies; the others run without it).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_watchdog: Option<Duration>,
    /// Print one JSON object per segment on stdout (the fields of its chaos.csv row); the
    /// table and progress lines go to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub partition: super::cpus::PartitionArgs,
}

impl ChaosArgs {
    pub fn config(&self) -> Result<ChaosConfig, Error> {
        let partition = self.partition.config()?;
        let client_threads = self.client_threads.map(|t| t as usize);
        LoadConfig::new(
            self.addr,
            self.concurrency as usize,
            client_threads,
            self.timeout,
        )
        .check_fds()?;
        Ok(ChaosConfig {
            strategies: self
                .strategy
                .supported_kinds("herd chaos", self.worker_model)?,
            worker_model: self.worker_model,
            requests_per_conn: self.requests_per_conn,
            workers: self.workers,
            schedule: self.schedule.0.clone(),
            duration: self.duration,
            baseline: self.baseline,
            phase: self.phase,
            concurrency: self.concurrency,
            client_threads,
            timeout: self.timeout,
            graceful_timeout: self.graceful_timeout,
            reuseport_reload: self.reuseport_reload,
            addr: self.addr,
            out: self.out.clone(),
            lock_watchdog: self.lock_watchdog,
            json: self.json,
            partition,
        })
    }
}

fn parse_schedule(s: &str) -> Result<Schedule, String> {
    parse(s).map(Schedule)
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
            "kill-acceptor" => FaultKind::KillAcceptor,
            "freeze" => FaultKind::Freeze,
            "freeze-holder" => FaultKind::FreezeHolder,
            _ => {
                return Err(format!(
                    "{part}: unknown fault {kind} (reload, kill, kill-holder, kill-acceptor, \
                     freeze, freeze-holder)"
                ))
            }
        };
        let every = parse_duration(every).map_err(|e| format!("{part}: {e}"))?;
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
        let s = parse("reload:1s, kill:250ms,kill-holder:2,kill-acceptor:1s").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[3].kind, FaultKind::KillAcceptor);
        assert_eq!(s[1].kind, FaultKind::Kill);
        assert_eq!(s[1].every, Duration::from_millis(250));
        assert_eq!(s[2].every, Duration::from_secs(2));
        for bad in ["", "reload", "boom:1s", "kill:1ms", "kill:soon"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
