//! The command line: every clap definition and every flag check. Doc comments here are the
//! `--help` text. One file per subcommand; each turns its arguments into the plain
//! configuration its command in [`crate::commands`] runs (`XArgs::config`), and nothing below
//! this module names a clap type (a `ValueEnum` derive on a library enum aside). Bad input is
//! an [`crate::Error::Usage`] naming the flag: exit status 2, before any work starts.
mod chaos;
mod cpus;
mod docs;
mod fleet;
mod load;
mod merge;
mod order;
mod parse;
mod plot;
mod report;
mod reproduce;
mod request;
mod run;
mod series;
mod serve;
mod sweep;

pub use chaos::ChaosArgs;
pub use cpus::PartitionArgs;
pub use docs::{CompletionsArgs, ManArgs};
pub use load::{LoadArgs, LoadCmdArgs};
pub use merge::MergeArgs;
pub use order::OrderArgs;
pub use plot::PlotArgs;
pub use report::ReportArgs;
pub use reproduce::ReproduceArgs;
pub use run::RunArgs;
pub use series::SeriesArgs;
pub use serve::{ServeArgs, ServerArgs};
pub use sweep::SweepCli;

use clap::{Parser, Subcommand};

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
    Sweep(SweepCli),
    /// Draw charts (PNG and SVG) from a results directory.
    Plot(PlotArgs),
    /// Print a Markdown table comparing the strategies of a results directory.
    Report(ReportArgs),
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
    /// Rerun the field's published results (Cloudflare's wake order, SO_REUSEPORT's
    /// motivation, Node's cluster, uWSGI, herd's own headline...) and print, for each, the
    /// expected shape beside what herd observes here, with a verdict.
    Reproduce(ReproduceArgs),
    /// Print a shell completion script (`herd completions bash > ~/.local/share/bash-completion/completions/herd`).
    Completions(CompletionsArgs),
    /// Print the man page (`herd man | man -l -`), or write one per subcommand with --out DIR.
    Man(ManArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;
    use crate::strategy::{Mode, StrategyOptions};
    use clap::CommandFactory;
    use std::time::Duration;

    fn run_config(argv: &[&str]) -> crate::commands::run::RunConfig {
        let Command::Run(run) = Cli::parse_from(argv).command else {
            panic!("not run")
        };
        run.config().unwrap()
    }

    /// The server `herd serve` builds from the arguments `herd run` gives its child.
    fn through_serve(serve_args: &[String]) -> crate::server::ServerConfig {
        let mut argv = vec!["herd".to_string(), "serve".to_string()];
        argv.extend(serve_args.iter().cloned());
        let Command::Serve(serve) = Cli::parse_from(argv).command else {
            panic!("not serve")
        };
        serve.config().unwrap()
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_child_builds_the_server_run_asked_for() {
        let run = run_config(&[
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
            "--mode",
            "thread",
            "--trace",
            "/dev/null",
        ]);
        let serve = through_serve(&run.serve_args);
        // Field by field: every server setting survives the trip through argv.
        assert_eq!(format!("{serve:?}"), format!("{:?}", run.server));
        assert_eq!(serve.listen.io_timeout, Duration::from_millis(250));
        assert_eq!(serve.work, Duration::from_micros(7));
        assert_eq!(serve.listen.mode, Mode::Thread);
        assert_eq!(
            serve.faults.faults,
            vec![Fault::CrashAfter(9), Fault::DieHoldingLock(0.25)]
        );
        assert_eq!(serve.faults.worker_nofile, Some(12));
        assert_eq!(
            serve.trace.as_deref(),
            Some(std::path::Path::new("/dev/null"))
        );
    }

    #[test]
    fn the_worker_model_reaches_the_child_and_sync_adds_no_flag() {
        let run = run_config(&[
            "herd",
            "run",
            "--strategy",
            "accept-mutex",
            "--worker-model",
            "event",
            "--worker-connections",
            "64",
            "--long-lived",
            "100ms",
        ]);
        let serve = through_serve(&run.serve_args);
        assert_eq!(format!("{serve:?}"), format!("{:?}", run.server));
        assert_eq!(serve.worker_model, crate::strategy::WorkerModel::Event);
        assert_eq!(serve.worker_connections, 64);
        assert_eq!(run.load.shape.long_lived_ns(), Some(100_000_000));
        let plain = run_config(&["herd", "run"]);
        assert!(!plain.serve_args.iter().any(|a| a.contains("worker-")));
        // Long-lived connections outlasting the server's per-connection limit are refused.
        let Command::Run(r) =
            Cli::parse_from(["herd", "run", "--long-lived", "10ms", "--duration", "5s"]).command
        else {
            panic!("not run")
        };
        let e = r.config().unwrap_err();
        assert!(e.to_string().contains("--max-requests-per-conn"), "{e}");
    }

    #[test]
    fn strategy_flags_reach_the_child_and_defaults_add_none() {
        let run = run_config(&[
            "herd",
            "run",
            "--strategy",
            "accept-mutex",
            "--multi-accept",
            "--accept-mutex-delay",
            "20ms",
            "--accept-mutex-backoff",
        ]);
        let opts = through_serve(&run.serve_args).strategy_options;
        assert!(opts.per_wakeup == crate::strategy::PerWakeup::UntilEagain);
        assert!(opts.accept_mutex_backoff && !opts.incoming_cpu);
        assert_eq!(opts.accept_mutex_delay, Duration::from_millis(20));
        // The defaults add no flags, so older command lines stay as they were.
        let plain = run_config(&["herd", "run"]);
        assert!(!plain
            .serve_args
            .iter()
            .any(|a| a.contains("accept-mutex") || a.contains("multi") || a.contains("incoming")));
        assert_eq!(plain.server.strategy_options, StrategyOptions::default());
    }

    #[test]
    fn a_strategy_flag_for_another_strategy_is_refused_naming_the_flag() {
        let Command::Run(run) =
            Cli::parse_from(["herd", "run", "--strategy", "blocking", "--multi-accept"]).command
        else {
            panic!("not run")
        };
        let e = run.config().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("--multi-accept applies to"),
            "{e}"
        );
    }

    #[test]
    fn order_takes_one_strategy_or_all() {
        let Command::Order(o) =
            Cli::parse_from(["herd", "order", "--strategy", "sysv-sem"]).command
        else {
            panic!("not order")
        };
        let cfg = o.config().unwrap();
        assert_eq!(cfg.strategies, [crate::strategy::StrategyKind::SysvSem]);
        assert!(Cli::try_parse_from(["herd", "order", "--strategy", "nope"]).is_err());
    }
}
