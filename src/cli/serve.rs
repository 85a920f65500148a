//! `herd serve`, and how the server is built: the options `herd serve` and `herd run` share.
use super::parse::{in_model, parse_duration, supported};
use crate::fault::{Fault, FaultConfig};
use crate::load::FD_RESERVE;
use crate::metrics::MAX_WORKERS;
use crate::server::{ReuseportReload, ServerConfig};
use crate::strategy::model::DEFAULT_WORKER_CONNECTIONS;
use crate::strategy::{EbpfPolicy, PerWakeup};
use crate::strategy::{ListenConfig, Mode, StrategyKind, StrategyOptions, WorkerModel};
use crate::Error;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the server is built; shared by `serve` and `run`.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Accept strategy.
    #[arg(long, value_enum, default_value_t = StrategyKind::Blocking)]
    pub strategy: StrategyKind,
    /// Workers: processes, or threads with `--mode thread` (1 to 1024).
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
    /// After a wakeup, accept until EAGAIN (nginx multi_accept): the same as
    /// `--accepts-per-wakeup unlimited`.
    #[arg(long, conflicts_with = "accepts_per_wakeup")]
    pub multi_accept: bool,
    /// Connections a worker accepts per wakeup before it waits again: 1 (the default; Unicorn,
    /// Envoy's default), N (Envoy's max_connections_to_accept_per_socket_event) or `unlimited`
    /// (until EAGAIN, nginx multi_accept); epoll, poll, select and accept-mutex strategies.
    #[arg(long, value_name = "N|unlimited", value_parser = PerWakeup::parse)]
    pub accepts_per_wakeup: Option<PerWakeup>,
    /// Event model: a worker holding connections that is woken for a new one waits this long
    /// (or until one of its connections closes) before it accepts, so that an idle worker takes
    /// it (Puma's wait_for_less_busy_worker, 5ms there); strategies with a shared socket.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub busy_delay: Option<Duration>,
    /// reuseport-ebpf: how the program picks the socket, `rr` (a strict rotation) or `least`
    /// (the worker with the fewest open connections; ties rotate). Default rr.
    #[arg(long, value_enum)]
    pub ebpf_policy: Option<EbpfPolicy>,
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
    /// reset, unless net.ipv4.tcp_migrate_req=1); `migrate` (reuseport-ebpf) does the same with
    /// the eBPF program moving what is queued to the new sockets (Linux 5.14).
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
    /// How each worker serves its connections: `sync`, one at a time (Apache prefork, gunicorn
    /// sync, uWSGI), or `event`, one non-blocking event loop over up to --worker-connections
    /// (nginx, Node's cluster, uvicorn). In the event model --work-us burns CPU inside the loop
    /// (every connection of the worker waits) and --sleep-us delays only that response.
    #[arg(long, value_enum, default_value_t = WorkerModel::Sync)]
    pub worker_model: WorkerModel,
    /// Event model: the most connections one worker holds open (nginx's worker_connections;
    /// default 512). A worker at its limit stops accepting until one of them closes.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub worker_connections: Option<u32>,
    /// TCP_DEFER_ACCEPT: hand a connection to accept() only once its client has sent data (or
    /// after this long, whole seconds), so idle connections cannot occupy sync workers
    /// (Apache's AcceptFilter, nginx's `deferred`), as many as the SYN queue holds: the
    /// backlog, capped by net.core.somaxconn.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub defer_accept: Option<Duration>,
    /// Lock strategies, process mode: the master kills (SIGKILL) a worker that has held the
    /// accept lock this long while connections wait (a frozen holder), so that the dead-holder
    /// recovery takes over.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_watchdog: Option<Duration>,
}

impl ServerArgs {
    /// The strategy options these flags ask for.
    fn strategy_options(&self) -> StrategyOptions {
        let d = StrategyOptions::default();
        StrategyOptions {
            per_wakeup: match self.multi_accept {
                true => PerWakeup::UntilEagain,
                false => self.accepts_per_wakeup.unwrap_or(d.per_wakeup),
            },
            accept_mutex_delay: self.accept_mutex_delay.unwrap_or(d.accept_mutex_delay),
            accept_mutex_backoff: self.accept_mutex_backoff,
            incoming_cpu: self.incoming_cpu,
            busy_delay: self.busy_delay,
            ebpf_policy: self.ebpf_policy.unwrap_or(d.ebpf_policy),
            ebpf_migrate: self.reuseport_reload == ReuseportReload::Migrate,
        }
    }

    /// The validated configuration for a server bound to `addr`: the strategy must be one this
    /// kernel supports, and each strategy flag must apply to it.
    pub fn config(&self, addr: SocketAddr) -> Result<ServerConfig, Error> {
        supported(self.strategy)?;
        if self.lock_watchdog.is_some() && self.mode == Mode::Thread {
            return Err(Error::Usage(
                "--lock-watchdog needs --mode process: a thread cannot be killed on its own".into(),
            ));
        }
        let worker_connections = self.check_model()?;
        let strategy_options = self.strategy_options();
        strategy_options.check(self.strategy).map_err(|e| {
            // Name the flag as it was given: `--multi-accept` is `--accepts-per-wakeup unlimited`.
            Error::Usage(match self.multi_accept {
                true => e.replacen("--accepts-per-wakeup", "--multi-accept", 1),
                false => e,
            })
        })?;
        if self.busy_delay.is_some() && self.worker_model != WorkerModel::Event {
            return Err(Error::Usage(
                "--busy-delay applies to --worker-model event (a sync worker holding a \
                 connection is not waiting for another)"
                    .into(),
            ));
        }
        for (option, support) in self.strategy.option_support() {
            let asked = match option {
                "--ebpf-policy least" => self.ebpf_policy == Some(EbpfPolicy::Least),
                _ => strategy_options.ebpf_migrate,
            };
            if asked {
                support.map_err(|why| Error::Usage(format!("{option}: {why}")))?;
            }
        }
        if self.strategy == StrategyKind::ReuseportEbpf
            && self.workers > crate::sys::bpf_prog::MAX_SOCKETS
        {
            return Err(Error::Usage(format!(
                "--workers {}: reuseport-ebpf handles at most {} (its program's unrolled scan)",
                self.workers,
                crate::sys::bpf_prog::MAX_SOCKETS
            )));
        }
        Ok(ServerConfig {
            strategy: self.strategy,
            workers: self.workers as usize,
            listen: ListenConfig {
                addr,
                backlog: self.backlog as i32,
                io_timeout: self.read_timeout,
                mode: self.mode,
                model: self.worker_model,
                defer_accept: self.defer_accept,
            },
            work: Duration::from_micros(self.work_us),
            sleep: Duration::from_micros(self.sleep_us),
            graceful_timeout: self.graceful_timeout,
            max_requests_per_conn: self.max_requests_per_conn,
            strategy_options,
            faults: FaultConfig {
                faults: self.faults.clone(),
                worker_nofile: self.worker_nofile,
            },
            reuseport_reload: self.reuseport_reload,
            trace: self.trace.clone(),
            tracer: None,
            worker_model: self.worker_model,
            worker_connections,
            stop_on_stdin_eof: false,
            lock_watchdog: self.lock_watchdog,
            cpus: None,
        })
    }

    /// The worker model must fit the strategy, and `--worker-connections` the model and the
    /// descriptor limit. Returns the connection limit.
    fn check_model(&self) -> Result<usize, Error> {
        let n = self
            .worker_connections
            .map_or(DEFAULT_WORKER_CONNECTIONS, |n| n as usize);
        match self.worker_model {
            WorkerModel::Sync if self.worker_connections.is_some() => Err(Error::Usage(
                "--worker-connections applies to --worker-model event".into(),
            )),
            WorkerModel::Sync => Ok(n),
            WorkerModel::Event => {
                in_model(self.strategy, WorkerModel::Event)?;
                // Processes each have their own descriptor table; threads share one.
                let tables = match self.mode {
                    Mode::Process => 1,
                    Mode::Thread => self.workers as u64,
                };
                let need = tables * n as u64 + FD_RESERVE;
                let limit = crate::sys::net::fd_limit().map_err(|e| Error::io("getrlimit", e))?;
                let limit = self.worker_nofile.map_or(limit, |w| w.min(limit));
                if need > limit && self.worker_connections.is_some() {
                    return Err(Error::Usage(format!(
                        "--worker-connections {n}: needs {need} file descriptors per process but the limit is {limit}"
                    )));
                }
                Ok(n)
            }
        }
    }

    /// The same options as command-line arguments, for starting `herd serve`.
    pub(crate) fn to_args(&self) -> Vec<String> {
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
        args.extend(
            self.accepts_per_wakeup
                .map(|n| format!("--accepts-per-wakeup={n}")),
        );
        args.extend(self.busy_delay.map(|b| format!("--busy-delay={}", d(b))));
        args.extend(self.ebpf_policy.map(|p| format!("--ebpf-policy={p}")));
        args.extend(self.faults.iter().map(|f| format!("--fault={f}")));
        args.extend(self.worker_nofile.map(|n| format!("--worker-nofile={n}")));
        args.push(format!("--reuseport-reload={}", self.reuseport_reload));
        args.push(format!("--mode={}", self.mode));
        if self.worker_model != WorkerModel::Sync {
            args.push(format!("--worker-model={}", self.worker_model));
        }
        args.extend(
            self.worker_connections
                .map(|n| format!("--worker-connections={n}")),
        );
        if let Some(t) = &self.trace {
            args.push(format!("--trace={}", t.display()));
        }
        args.extend(
            self.defer_accept
                .map(|w| format!("--defer-accept={}", d(w))),
        );
        args
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Address to listen on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = super::parse::parse_addr)]
    pub addr: SocketAddr,
    /// Stop gracefully (as on SIGTERM) when standard input reaches end of file: a driver that
    /// holds the other end of a pipe takes the server with it however it dies (herd's own
    /// drivers use it).
    #[arg(long)]
    pub stop_on_stdin_eof: bool,
    /// Pin the server to these CPUs (e.g. 0 or 0-3,8): the master and every worker, process or
    /// thread, in either worker model. Default: not pinned.
    #[arg(long, value_name = "LIST", value_parser = crate::sys::affinity::CpuSet::parse)]
    pub server_cpus: Option<crate::sys::affinity::CpuSet>,
}

impl ServeArgs {
    pub fn config(&self) -> Result<ServerConfig, Error> {
        let mut cfg = self.server.config(self.addr)?;
        cfg.stop_on_stdin_eof = self.stop_on_stdin_eof;
        super::cpus::check_host(self.server_cpus.as_ref(), None)?;
        cfg.cpus = self.server_cpus.clone();
        Ok(cfg)
    }
}
