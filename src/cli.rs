//! The command line. Doc comments here are the `--help` text.
use crate::chaos::fault::{Fault, FaultConfig};
use crate::server::master::ReuseportReload;
use crate::server::{ServerConfig, MAX_WORKERS};
use crate::strategy::listen::ListenConfig;
use crate::strategy::{Mode, StrategyKind, StrategyOptions};
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
    /// Run a matrix of `herd run`s (strategies x workers x load), shuffled within each repeat,
    /// appending every run's rows to DIR as it finishes. Every other `herd run` flag (such as
    /// `--duration`) is passed to each run.
    Sweep(crate::sweep::SweepCli),
    /// Draw charts (PNG and SVG) from a results directory.
    Plot(crate::report::plot::PlotArgs),
    /// Print a Markdown table comparing the strategies of a results directory.
    Report(crate::report::markdown::ReportArgs),
    /// Apply faults (reloads, killed workers, dead lock holders) to `herd serve` under load and
    /// report per strategy what was lost, the time to recover and whether it still serves.
    Chaos(ChaosArgs),
    /// With every worker idle, make K connections one after another and print which worker
    /// took each, per strategy, with a verdict (FIFO rotation, same worker, sticky, irregular).
    Order(OrderArgs),
    /// The task farm: fork workers that compute the terms x^i/i! of e^x, collect them over
    /// pipes (sequentially, with select, poll or epoll), sum, and count the master's system
    /// calls and wakeups.
    Series(SeriesArgs),
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
    /// After a wakeup, accept until EAGAIN (nginx multi_accept); epoll, poll, select and
    /// accept-mutex strategies.
    #[arg(long)]
    pub multi_accept: bool,
    /// accept-mutex: how long a worker without the mutex waits before trying again (nginx
    /// accept_mutex_delay; default 500ms).
    #[arg(long, value_parser = parse_duration)]
    pub accept_mutex_delay: Option<Duration>,
    /// accept-mutex: a worker busy more than 7/8 of the time skips lock attempts (nginx's
    /// ngx_accept_disabled backoff).
    #[arg(long)]
    pub accept_mutex_backoff: bool,
    /// reuseport: set SO_INCOMING_CPU on socket i to i % CPUs (effective since Linux 6.1).
    #[arg(long)]
    pub incoming_cpu: bool,
    /// Fault injection, repeatable: `die-holding-lock:P` (a worker that has just taken the
    /// accept lock dies, SIGKILL, with probability P), `crash-after:N` (a worker exits abruptly
    /// after N connections).
    #[arg(long = "fault", value_name = "KIND:VALUE", value_parser = Fault::parse)]
    pub faults: Vec<Fault>,
    /// RLIMIT_NOFILE of each worker, set before its first accept (to provoke EMFILE).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub worker_nofile: Option<u64>,
    /// reuseport on SIGHUP: `keep` hands each socket to the new worker (nothing lost);
    /// `recreate` binds new sockets and shuts the old ones down (what is queued on them is
    /// reset, unless net.ipv4.tcp_migrate_req=1).
    #[arg(long, value_enum, default_value_t = ReuseportReload::Keep)]
    pub reuseport_reload: ReuseportReload,
    /// Workers as forked processes (the prefork server) or as threads of one process.
    #[arg(long, value_enum, default_value_t = Mode::Process)]
    pub mode: Mode,
    /// Write one CSV row per accepted connection to FILE (sequence, worker, accept time,
    /// accept-queue delay when the client sends X-Herd-Connect-Ns, wakeups since the
    /// worker's last accept). The file is truncated.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

impl ServerArgs {
    /// The strategy options these flags ask for.
    pub fn strategy_options(&self) -> StrategyOptions {
        let d = StrategyOptions::default();
        StrategyOptions {
            multi_accept: self.multi_accept,
            accept_mutex_delay: self.accept_mutex_delay.unwrap_or(d.accept_mutex_delay),
            accept_mutex_backoff: self.accept_mutex_backoff,
            incoming_cpu: self.incoming_cpu,
        }
    }

    /// The validated configuration for a server bound to `addr`.
    pub fn config(&self, addr: SocketAddr) -> ServerConfig {
        ServerConfig {
            strategy: self.strategy,
            workers: self.workers as usize,
            listen: ListenConfig {
                addr,
                backlog: self.backlog as i32,
                io_timeout: self.read_timeout,
                mode: self.mode,
            },
            work: Duration::from_micros(self.work_us),
            sleep: Duration::from_micros(self.sleep_us),
            graceful_timeout: self.graceful_timeout,
            max_requests_per_conn: self.max_requests_per_conn,
            strategy_options: self.strategy_options(),
            faults: FaultConfig {
                faults: self.faults.clone(),
                worker_nofile: self.worker_nofile,
            },
            reuseport_reload: self.reuseport_reload,
            trace: self.trace.clone(),
            tracer: None,
        }
    }

    /// The same options as command-line arguments, for starting `herd serve`.
    pub fn to_args(&self) -> Vec<String> {
        let d = |d: Duration| format!("{}us", d.as_micros());
        let mut args = vec![
            format!("--strategy={}", self.strategy),
            format!("--workers={}", self.workers),
            format!("--backlog={}", self.backlog),
            format!("--work-us={}", self.work_us),
            format!("--sleep-us={}", self.sleep_us),
            format!("--read-timeout={}", d(self.read_timeout)),
            format!("--graceful-timeout={}", d(self.graceful_timeout)),
            format!("--max-requests-per-conn={}", self.max_requests_per_conn),
        ];
        for (flag, on) in [
            ("--multi-accept", self.multi_accept),
            ("--accept-mutex-backoff", self.accept_mutex_backoff),
            ("--incoming-cpu", self.incoming_cpu),
        ] {
            if on {
                args.push(flag.to_string());
            }
        }
        if let Some(delay) = self.accept_mutex_delay {
            args.push(format!("--accept-mutex-delay={}", d(delay)));
        }
        args.extend(self.faults.iter().map(|f| format!("--fault={f}")));
        args.extend(self.worker_nofile.map(|n| format!("--worker-nofile={n}")));
        args.push(format!("--reuseport-reload={}", self.reuseport_reload));
        args.push(format!("--mode={}", self.mode));
        if let Some(t) = &self.trace {
            args.push(format!("--trace={}", t.display()));
        }
        args
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

/// Strategies for `herd chaos`: one name, or `all`.
#[derive(Debug, Clone)]
pub struct Strategies(pub Vec<StrategyKind>);

fn parse_strategies(s: &str) -> Result<Strategies, String> {
    use clap::ValueEnum;
    if s == "all" {
        return Ok(Strategies(StrategyKind::ALL.to_vec()));
    }
    StrategyKind::from_str(s, false)
        .map(|k| Strategies(vec![k]))
        .map_err(|_| format!("{s}: not a strategy (see `herd strategies`) nor `all`"))
}

/// A parsed `--schedule`.
#[derive(Debug, Clone)]
pub struct Schedule(pub Vec<crate::chaos::schedule::Item>);

#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    /// Strategy to test, or `all`.
    #[arg(long, default_value = "all", value_parser = parse_strategies)]
    pub strategy: Strategies,
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

/// One strategy, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyChoice {
    All,
    One(StrategyKind),
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
            "--fault",
            "crash-after:9",
            "--fault",
            "die-holding-lock:0.25",
            "--worker-nofile",
            "12",
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
        let cfg = serve.server.config("127.0.0.1:0".parse().unwrap());
        assert_eq!(
            cfg.faults.faults,
            vec![Fault::CrashAfter(9), Fault::DieHoldingLock(0.25)]
        );
        assert_eq!(cfg.faults.worker_nofile, Some(12));
    }

    #[test]
    fn strategy_flags_round_trip_through_serve() {
        let cli = Cli::parse_from([
            "herd",
            "run",
            "--strategy",
            "accept-mutex",
            "--multi-accept",
            "--accept-mutex-delay",
            "20ms",
            "--accept-mutex-backoff",
            "--incoming-cpu",
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
        let opts = serve.server.strategy_options();
        assert!(opts.multi_accept && opts.accept_mutex_backoff && opts.incoming_cpu);
        assert_eq!(opts.accept_mutex_delay, Duration::from_millis(20));
        // The defaults add no flags, so older command lines stay as they were.
        let plain = Cli::parse_from(["herd", "serve"]);
        let Command::Serve(plain) = plain.command else {
            panic!("not serve")
        };
        assert!(!plain
            .server
            .to_args()
            .iter()
            .any(|a| a.contains("accept-mutex") || a.contains("multi") || a.contains("incoming")));
        assert_eq!(plain.server.strategy_options(), StrategyOptions::default());
    }

    #[test]
    fn mode_and_trace_reach_serve() {
        let cli = Cli::parse_from(["herd", "run", "--mode", "thread", "--trace", "t.csv"]);
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        let mut argv = vec!["herd".to_string(), "serve".to_string()];
        argv.extend(run.server.to_args());
        let Command::Serve(serve) = Cli::parse_from(argv).command else {
            panic!("not serve")
        };
        let cfg = serve.server.config(serve.addr);
        assert_eq!(cfg.listen.mode, Mode::Thread);
        assert_eq!(cfg.trace.as_deref(), Some(std::path::Path::new("t.csv")));
        let Command::Order(o) =
            Cli::parse_from(["herd", "order", "--strategy", "sysv-sem"]).command
        else {
            panic!("not order")
        };
        assert_eq!(o.strategy, StrategyChoice::One(StrategyKind::SysvSem));
        assert!(Cli::try_parse_from(["herd", "order", "--strategy", "nope"]).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }
}
