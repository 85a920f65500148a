//! How the load generator drives a server: `herd run`, `herd load` and `herd merge`.
use super::{parse_duration, parse_rate, ServerArgs};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the load generator drives a server.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Connections in flight at once. Closed loop (the default): each completion starts the
    /// next connection. Open loop (--rate, --burst): the cap on connections in flight; a
    /// scheduled start that finds the cap reached waits and is counted late.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// How long the measurement lasts (e.g. 5s, 1m).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop the measurement after this many connections (at most; `--duration` still bounds it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Client threads (default: one per CPU, at most one per connection).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub client_threads: Option<u32>,
    /// A connection that has not completed after this long is abandoned and counted as a
    /// timeout.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Open loop: start this many connections per second on a fixed schedule, whatever the
    /// server does. Latency counts from each connection's intended start (no coordinated
    /// omission); starts the client makes late are reported as lateness.
    #[arg(long, value_name = "CONN_PER_S", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Open-loop arrivals: evenly spaced, or a Poisson process (exponential gaps).
    #[arg(long, value_enum, default_value_t = crate::load::pacing::Arrivals::Uniform)]
    pub arrivals: crate::load::pacing::Arrivals,
    /// Bursts: start N connections at once every --burst-interval, idle in between (the shape
    /// in which idle workers herd). N must not exceed --concurrency.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub burst: Option<u64>,
    /// Open loop: wake for scheduled starts only on multiples of this (e.g. 250us), starting
    /// every start due by then in one batch. Less client and server CPU per connection (fewer
    /// wakeups), at the price of batched arrivals and up to one quantum of lateness, which is
    /// measured: latency still counts from each exact intended start. 0s (the default): wake at
    /// each start. At most 10ms.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub pacing_quantum: Duration,
    /// Time from one burst's start to the next (e.g. 100ms).
    #[arg(long, value_parser = parse_duration)]
    pub burst_interval: Option<Duration>,
    /// Requests on each connection: above 1, all but the last ask for keep-alive, and each
    /// request's latency is recorded. A rate counts connections, not requests.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub requests_per_conn: u32,
    /// No live progress line (it is also off when stdout is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Address the server listens on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Load before the measurement starts, not counted (0s: none).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Append rows to DIR/runs.csv, DIR/workers.csv and DIR/latency.csv, histograms to
    /// DIR/hist/RUN_ID.hlog.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `herd load`: the generator alone against any HTTP/1.1 server.
#[derive(Debug, Clone, Args)]
pub struct LoadCmdArgs {
    /// The server: http://HOST[:PORT][/PATH] (plain HTTP/1.1; the host must resolve).
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Load before the measurement starts, not counted (0s: none).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Append rows to DIR/runs.csv, DIR/workers.csv and DIR/latency.csv, histograms to
    /// DIR/hist/RUN_ID.hlog.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `herd merge`: combine histogram logs.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// .hlog files written by `herd run --out` or `herd load --out`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}
