//! The experiment tools: `herd chaos`, `herd order`, `herd series`.
use super::parse_duration;
use crate::metrics::MAX_WORKERS;
use crate::server::master::ReuseportReload;
use crate::strategy::{Mode, StrategyKind};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A parsed `--schedule`.
#[derive(Debug, Clone)]
pub struct Schedule(pub Vec<crate::chaos::schedule::Item>);

#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    /// Strategy to test, or `all`.
    #[arg(long, default_value = "all", value_parser = parse_strategy_choice)]
    pub strategy: StrategyChoice,
    /// Worker processes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=512))]
    pub workers: u32,
    /// Faults, `KIND:INTERVAL,...` with KIND `reload` (SIGHUP), `kill` (SIGKILL a random
    /// worker) or `kill-holder` (the accept-lock holder dies holding it). Each item is its own
    /// segment with a fresh server, the fault applied every INTERVAL for --duration.
    #[arg(long, default_value = "reload:1s,kill:1s,kill-holder:1s", value_parser = |s: &str| crate::chaos::schedule::parse(s).map(Schedule))]
    pub schedule: Schedule,
    /// Length of each segment's faulted part (a 1 s tail without faults follows).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load before the first fault, to measure the baseline rate.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub baseline: Duration,
    /// Length of one load phase: the resolution of the recovery time.
    #[arg(long, default_value = "50ms", value_parser = parse_duration)]
    pub phase: Duration,
    /// Connections in flight (closed loop).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// Client threads (default: one per CPU).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
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
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Append one row per strategy and fault kind to DIR/chaos.csv.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `herd order`: the order in which idle workers take connections.
#[derive(Debug, Clone, Args)]
pub struct OrderArgs {
    /// Accept strategy, or `all` for every strategy this kernel supports.
    #[arg(long, default_value = "all", value_parser = parse_strategy_choice)]
    pub strategy: StrategyChoice,
    /// Workers (1 to 1024).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=MAX_WORKERS as i64))]
    pub workers: u32,
    /// Connections to make, one after another.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub connections: u32,
    /// Workers as processes or threads.
    #[arg(long, value_enum, default_value_t = Mode::Process)]
    pub mode: Mode,
    /// Idle time after each response, so that the worker is back in its wait before the next
    /// connection (e.g. 20ms).
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    pub gap: Duration,
    /// Address the server listens on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
}

/// One strategy, or all of them (`--strategy all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyChoice {
    All,
    One(StrategyKind),
}

impl StrategyChoice {
    /// The strategies to run: one the kernel lacks is a usage error when asked for by name, and
    /// skipped with a message on stderr (prefixed with `cmd`) when part of `all`.
    pub fn supported_kinds(self, cmd: &str) -> Result<Vec<StrategyKind>, crate::Error> {
        match self {
            StrategyChoice::One(k) => {
                k.supported()
                    .map_err(|why| crate::Error::Usage(format!("--strategy {k}: {why}")))?;
                Ok(vec![k])
            }
            StrategyChoice::All => Ok(StrategyKind::ALL
                .iter()
                .copied()
                .filter(|k| match k.supported() {
                    Ok(()) => true,
                    Err(why) => {
                        eprintln!("{cmd}: skipping {k}: {why}");
                        false
                    }
                })
                .collect()),
        }
    }
}

fn parse_strategy_choice(s: &str) -> Result<StrategyChoice, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(StrategyChoice::All);
    }
    <StrategyKind as clap::ValueEnum>::from_str(s, true)
        .map(StrategyChoice::One)
        .map_err(|_| {
            let names: Vec<_> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            format!("expected `all` or one of {}", names.join(", "))
        })
}

#[derive(Debug, Clone, Args)]
pub struct SeriesArgs {
    /// The exponent x of e^x (|x| <= 700).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub x: f64,
    /// Number of terms N: x^0/0! to x^(N-1)/(N-1)!.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=crate::series::MAX_TERMS as i64))]
    pub terms: u32,
    /// How the master collects the results.
    #[arg(long, value_enum, default_value_t = crate::series::CollectKind::Epoll)]
    pub collect: crate::series::CollectKind,
    /// Worker processes; fewer than --terms makes a pool that takes indices from the master
    /// (default: one process per term).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::series::MAX_WORKERS as i64))]
    pub workers: Option<u32>,
    /// Give up (kill and reap every worker) if the terms have not all arrived after this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// CPU time each worker burns per term, in microseconds (a costlier sub-task).
    #[arg(long, default_value_t = 0)]
    pub work_us: u64,
    /// Mean time each worker sleeps per term, in microseconds (an I/O-bound sub-task; each
    /// term sleeps a fixed pseudo-random time in [0, 2 x this), so results arrive spread out).
    #[arg(long, default_value_t = 0)]
    pub sleep_us: u64,
    /// Append a row to DIR/series.csv.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only draw DIR/series.csv as DIR/series.png and DIR/series.svg.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Fault injection for tests: KIND:TERM, KIND one of kill, garbage, short, wrong-index,
    /// exit, hang.
    #[arg(long, hide = true)]
    pub fault: Option<crate::series::worker::Fault>,
}
