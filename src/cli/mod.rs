//! The command line. Doc comments here are the `--help` text. One file per group of
//! subcommands: the server's options ([`server`]), the load generator's ([`load`]) and the
//! experiment tools ([`tools`]).
mod load;
mod server;
mod tools;

pub use load::{LoadArgs, LoadCmdArgs, MergeArgs, RunArgs};
pub use server::{ServeArgs, ServerArgs};
pub use tools::{ChaosArgs, OrderArgs, Schedule, SeriesArgs, StrategyChoice};

use clap::{Parser, Subcommand};
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
    use crate::fault::Fault;
    use crate::strategy::{Mode, StrategyKind, StrategyOptions};
    use clap::CommandFactory;

    /// `herd run`'s parsed arguments, and the `herd serve` arguments its server flags become
    /// when `herd run` starts its child.
    fn through_serve(cli: Cli) -> (RunArgs, ServeArgs) {
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        let mut argv = vec!["herd".to_string(), "serve".to_string()];
        argv.extend(run.server.to_args());
        let Command::Serve(serve) = Cli::parse_from(argv).command else {
            panic!("not serve")
        };
        (run, serve)
    }

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
        let (run, serve) = through_serve(cli);
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
        let (run, serve) = through_serve(cli);
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
        let (_, serve) = through_serve(cli);
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
