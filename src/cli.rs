//! The command line. Doc comments here are the `--help` text.
use crate::server::{ServerConfig, MAX_WORKERS};
use crate::strategy::listen::ListenConfig;
use crate::strategy::StrategyKind;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// herd: measure the thundering herd of a prefork server, one accept strategy at a time.
#[derive(Debug, Parser)]
#[command(name = "herd", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the prefork server until SIGINT or SIGTERM. Prints `listening ADDR` when every
    /// worker is ready; SIGUSR1 prints the scoreboard.
    Serve(ServeArgs),
    /// One measured run: start `herd serve`, load it, print a summary and append CSV rows.
    Run(RunArgs),
    /// List the accept strategies and whether this kernel supports each.
    Strategies,
    /// Run the load generator alone against any HTTP/1.1 server (nginx, `herd serve`, ...):
    /// the same summary and CSV as `herd run`, without the server-side columns.
    Load(LoadCmdArgs),
    /// Combine histogram logs (`DIR/hist/*.hlog`, from several runs, processes or hosts) into
    /// one set of percentiles per metric.
    Merge(MergeArgs),
}

/// How the server is built; shared by `serve` and `run`.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Accept strategy.
    #[arg(long, value_enum, default_value_t = StrategyKind::Blocking)]
    pub strategy: StrategyKind,
    /// Worker processes (1 to 1024).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=MAX_WORKERS as i64))]
    pub workers: u32,
    /// listen(2) backlog (capped by net.core.somaxconn).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub backlog: u32,
    /// CPU time each request burns in the worker, in microseconds.
    #[arg(long, default_value_t = 0)]
    pub work_us: u64,
    /// Time each request blocks in the worker (a backend call), in microseconds.
    #[arg(long, default_value_t = 0)]
    pub sleep_us: u64,
    /// A connection whose client sends nothing for this long is dropped (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// On SIGTERM, how long workers may finish before they are killed.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub graceful_timeout: Duration,
    /// Requests served on one keep-alive connection before the server closes it.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_conn: u32,
}

impl ServerArgs {
    /// The validated configuration for a server bound to `addr`.
    pub fn config(&self, addr: SocketAddr) -> ServerConfig {
        ServerConfig {
            strategy: self.strategy,
            workers: self.workers as usize,
            listen: ListenConfig {
                addr,
                backlog: self.backlog as i32,
                io_timeout: self.read_timeout,
            },
            work: Duration::from_micros(self.work_us),
            sleep: Duration::from_micros(self.sleep_us),
            graceful_timeout: self.graceful_timeout,
            max_requests_per_conn: self.max_requests_per_conn,
        }
    }

    /// The same options as command-line arguments, for starting `herd serve`.
    pub fn to_args(&self) -> Vec<String> {
        let d = |d: Duration| format!("{}us", d.as_micros());
        vec![
            format!("--strategy={}", self.strategy),
            format!("--workers={}", self.workers),
            format!("--backlog={}", self.backlog),
            format!("--work-us={}", self.work_us),
            format!("--sleep-us={}", self.sleep_us),
            format!("--read-timeout={}", d(self.read_timeout)),
            format!("--graceful-timeout={}", d(self.graceful_timeout)),
            format!("--max-requests-per-conn={}", self.max_requests_per_conn),
        ]
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Address to listen on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
}

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

/// A connection rate: above 0 and at most 10 million per second (far beyond what one client
/// host can start; the bound keeps a schedule's bookkeeping finite).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e7 => Ok(r),
        Ok(_) => Err("must be above 0 and at most 10000000 connections per second".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// `5s`, `250ms`, `1m`, `1500us`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 5s, 250ms, 1m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_args_round_trip_through_serve() {
        let cli = Cli::parse_from([
            "herd",
            "run",
            "--strategy",
            "sysv-sem",
            "--workers",
            "16",
            "--work-us",
            "7",
            "--read-timeout",
            "250ms",
        ]);
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        let mut argv = vec!["herd".to_string(), "serve".to_string()];
        argv.extend(run.server.to_args());
        let Command::Serve(serve) = Cli::parse_from(argv).command else {
            panic!("not serve")
        };
        assert_eq!(serve.server.to_args(), run.server.to_args());
        assert_eq!(serve.server.read_timeout, Duration::from_millis(250));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }
}
