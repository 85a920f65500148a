//! How the load generator drives a server (`herd run` and `herd load` share these options), and
//! `herd load` itself: the generator alone against any HTTP/1.1 server.
use super::parse::{count, count32, parse_duration, parse_rate};
use super::request::RequestArgs;
use crate::commands::load::LoadCommand;
use crate::load::pacing::{Arrivals, Shape};
use crate::load::{engine, url, LoadConfig};
use crate::Error;
use clap::Args;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the load generator drives a server.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Connections in flight at once. Closed loop (the default): each completion starts the
    /// next connection. Open loop (--rate, --burst): the cap on connections in flight; a
    /// scheduled start that finds the cap reached waits and is counted late. (Every count and
    /// rate takes an SI suffix: `10k`, `1.5M`.)
    #[arg(short = 'c', long = "connections", visible_alias = "concurrency", default_value = "32", value_name = "N", value_parser = count32(1, 100_000))]
    pub concurrency: u32,
    /// How long the measurement lasts (e.g. 5s, 1m).
    #[arg(short = 'd', long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop the measurement after this many connections (at most; `--duration` still bounds it).
    #[arg(short = 'n', long, value_name = "N", value_parser = count(1, u64::MAX))]
    pub requests: Option<u64>,
    /// Client threads (default: one per CPU, at most one per connection).
    #[arg(short = 't', long = "threads", visible_alias = "client-threads", value_name = "N", value_parser = count32(1, 256))]
    pub client_threads: Option<u32>,
    /// A connection that has not completed after this long is abandoned and counted as a
    /// timeout.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Open loop: start this many connections per second on a fixed schedule, whatever the
    /// server does. Latency counts from each connection's intended start (no coordinated
    /// omission); starts the client makes late are reported as lateness.
    #[arg(short = 'R', long, value_name = "CONN_PER_S", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Open-loop arrivals: evenly spaced, or a Poisson process (exponential gaps).
    #[arg(long, value_enum, default_value_t = Arrivals::Uniform)]
    pub arrivals: Arrivals,
    /// Bursts: start N connections at once every --burst-interval, idle in between (the shape
    /// in which idle workers herd). N must not exceed --connections.
    #[arg(long, value_name = "N", value_parser = count(1, 100_000))]
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
    #[arg(long, default_value = "1", value_name = "N", value_parser = count32(1, 1_000_000))]
    pub requests_per_conn: u32,
    /// Long-lived connections: the --connections open at the start and stay open
    /// for the whole measurement, each sending a request every INTERVAL (e.g. 100ms) on a fixed
    /// schedule, the connections' ticks spread evenly over the interval (websocket, gRPC and
    /// pooled-client traffic). A connection the server closes is opened again at once. Latency
    /// counts from each request's tick.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration)]
    pub long_lived: Option<Duration>,
    /// No live progress line (it is also off when stdout is not a terminal).
    #[arg(long)]
    pub quiet: bool,
    /// Sample the accept queue of every listening socket on the target port this often during
    /// the measurement (through sock_diag, as `ss -lnt` does); 0s: not at all. At most 1s.
    #[arg(long, default_value = "2ms", value_parser = parse_duration)]
    pub accept_queue_interval: Duration,
}

impl LoadArgs {
    /// The load `--rate`, `--burst`, `--requests-per-conn` ... ask for against `target`,
    /// checked (including the descriptor limit) before any work starts.
    pub fn config(&self, target: SocketAddr) -> Result<LoadConfig, Error> {
        let a = self;
        let mut cfg = LoadConfig::new(
            target,
            a.concurrency as usize,
            a.client_threads.map(|t| t as usize),
            a.timeout,
        );
        cfg.shape = match (a.rate, a.burst, a.burst_interval) {
            (Some(rate), None, _) => Shape::Open {
                rate,
                arrivals: a.arrivals,
            },
            (None, Some(n), Some(every)) => {
                if n > a.concurrency as u64 {
                    return Err(Error::Usage(format!(
                        "--burst {n}: more than --connections {} (the cap on connections in flight); raise --connections to at least {n}",
                        a.concurrency
                    )));
                }
                if every.is_zero() {
                    return Err(Error::Usage("--burst-interval must be above 0".into()));
                }
                Shape::Burst {
                    n,
                    interval_ns: every.as_nanos() as u64,
                }
            }
            (None, Some(_), None) => {
                return Err(Error::Usage("--burst needs --burst-interval".into()))
            }
            (Some(_), Some(_), _) => {
                return Err(Error::Usage("--rate and --burst exclude each other".into()))
            }
            (None, None, _) => Shape::Closed,
        };
        if let Some(every) = a.long_lived {
            cfg.shape = self.long_lived_shape(every)?;
        }
        cfg.requests_per_conn = a.requests_per_conn;
        if !a.pacing_quantum.is_zero()
            && matches!(cfg.shape, Shape::Closed | Shape::LongLived { .. })
        {
            return Err(Error::Usage(
                "--pacing-quantum paces an open loop: it needs --rate or --burst".into(),
            ));
        }
        if a.pacing_quantum > engine::MAX_QUANTUM {
            return Err(Error::Usage(format!(
                "--pacing-quantum {:?}: at most {:?} (the client's housekeeping tick wakes it that often anyway)",
                a.pacing_quantum,
                engine::MAX_QUANTUM
            )));
        }
        cfg.pacing_quantum_ns = a.pacing_quantum.as_nanos() as u64;
        cfg.progress = !a.quiet && std::io::stdout().is_terminal();
        cfg.check_fds()?;
        Ok(cfg)
    }

    /// `--accept-queue-interval`, checked.
    pub fn queue_interval(&self) -> Result<Duration, Error> {
        let d = self.accept_queue_interval;
        if d > Duration::from_secs(1) {
            return Err(Error::Usage(format!(
                "--accept-queue-interval {d:?}: at most 1s (a queue fills and drains in milliseconds)"
            )));
        }
        Ok(d)
    }
}

impl LoadArgs {
    /// `--long-lived INTERVAL`, checked against the flags it excludes.
    fn long_lived_shape(&self, every: Duration) -> Result<Shape, Error> {
        let clash = if self.rate.is_some() {
            Some("--rate")
        } else if self.burst.is_some() {
            Some("--burst")
        } else if self.requests_per_conn != 1 {
            Some("--requests-per-conn")
        } else if self.requests.is_some() {
            Some("--requests")
        } else {
            None
        };
        if let Some(flag) = clash {
            return Err(Error::Usage(format!(
                "--long-lived and {flag} exclude each other (long-lived connections send requests for the whole phase)"
            )));
        }
        if every.is_zero() || every >= self.duration {
            return Err(Error::Usage(format!(
                "--long-lived {every:?}: must be above 0 and below --duration {:?}",
                self.duration
            )));
        }
        Ok(Shape::LongLived {
            interval_ns: every.as_nanos() as u64,
        })
    }

    /// Long-lived: about how many requests one connection sends in the measurement.
    pub fn long_lived_requests(&self) -> Option<u64> {
        let every = self.long_lived?.as_nanos().max(1);
        Some((self.duration.as_nanos() / every) as u64 + 1)
    }
}

/// `herd load`: the generator alone against any HTTP/1.1 server.
#[derive(Debug, Clone, Args)]
pub struct LoadCmdArgs {
    /// The server: http://HOST[:PORT][/PATH] (plain HTTP/1.1; the host must resolve).
    #[arg(
        value_name = "URL",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    pub target: Option<String>,
    /// The server's URL, as the positional URL (kept for older command lines).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    /// Load before the measurement starts, not counted (0s: none).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Append rows to DIR/runs.csv, DIR/workers.csv and DIR/latency.csv, histograms to
    /// DIR/hist/RUN_ID.hlog.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The server's PID (repeatable): its processes and threads, found from it down again and
    /// again during the measurement, are measured from /proc as herd measures its own workers
    /// (context switches and CPU per connection, each worker's CPU share). Some process of its
    /// tree must hold a listening socket on the URL's port.
    #[arg(long = "server-pid", value_name = "PID", value_parser = clap::value_parser!(u64).range(1..))]
    pub server_pids: Vec<u64>,
    /// A response header naming the worker that served the connection by a number (its PID or
    /// an index): per-worker connection shares and Jain's index come from it. herd serve sends
    /// X-Herd-Worker, which is read without this flag.
    #[arg(long, value_name = "NAME")]
    pub worker_header: Option<String>,
    /// A name for the server, written in the rows' `strategy` column (e.g. nginx-reuseport),
    /// so that `herd plot` and `herd report` compare servers as they compare strategies.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub label: String,
    /// Print the run as one JSON object on stdout (the fields of its runs.csv row); the human
    /// summary goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// `--server-cpus` (pins the processes and threads of `--server-pid`) and `--client-cpus`.
    #[command(flatten)]
    pub partition: super::cpus::PartitionArgs,
    /// `--start-at`, `--run-id`: one client of a run over several.
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
}

impl LoadCmdArgs {
    /// The URL's form and the load flags are checked here; whether the host resolves is the
    /// command's first step.
    pub fn config(&self) -> Result<LoadCommand, Error> {
        let target = self.target.as_ref().or(self.url.as_ref());
        let url = target
            .ok_or_else(|| Error::Usage("a URL is needed (herd load http://HOST:PORT/)".into()))?;
        url::split(url)?;
        let placeholder = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut load = self.load.config(placeholder)?;
        load.request = self.request.spec()?;
        if let Some(h) = &self.worker_header {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if h.is_empty() || !h.chars().all(token) {
                return Err(Error::Usage(format!(
                    "--worker-header {h:?}: not an HTTP header name"
                )));
            }
            load.worker_header = Some(h.clone());
        }
        for &p in &self.server_pids {
            if !std::path::Path::new(&format!("/proc/{p}")).exists() {
                return Err(Error::Usage(format!("--server-pid {p}: no such process")));
            }
        }
        let partition = self.partition.config()?;
        if partition.server.is_some() && self.server_pids.is_empty() {
            return Err(Error::Usage(
                "--server-cpus needs --server-pid: herd load pins the server's processes and threads it is given"
                    .into(),
            ));
        }
        self.fleet.check()?;
        let threads = self.load.client_threads.map(|t| t as usize);
        Ok(LoadCommand {
            url: url.clone(),
            load: load.pinned(partition.client.clone(), threads),
            partition,
            start_at: self.fleet.start_at,
            run_id: self.fleet.run_id.clone(),
            warmup: self.warmup,
            duration: self.load.duration,
            max_conns: self.load.requests,
            out: self.out.clone(),
            server_pids: self.server_pids.clone(),
            queue_interval: self.load.queue_interval()?,
            label: self.label.clone(),
            json: self.json,
        })
    }
}
