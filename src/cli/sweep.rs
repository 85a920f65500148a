//! `herd sweep`'s command line. The matrix flags (`--strategies`, `--workers`, ...) are the
//! sweep's own; every other flag of `herd run` is taken from `herd run`'s own definition at
//! start-up and passed through, as given, to each run. So a flag added to `herd run` works in a
//! sweep with no change here, and is validated by clap before the first run starts. Each cell
//! becomes the configuration `herd run` would build from its argv.
use super::parse::{skip_other_models, strategy_list};
use super::run::RunArgs;
use super::{Cli, Command as HerdCommand};
use crate::commands::sweep::{Cell, Matrix, SweepConfig};
use crate::strategy::{StrategyKind, WorkerModel};
use crate::Error;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Command, FromArgMatches, Parser, ValueEnum};
use std::path::PathBuf;

/// The matrix and how it is run.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// Accept strategies: `all` (every one this kernel supports) or a comma-separated list.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Worker counts, comma-separated (e.g. 1,2,4,8,16,32,64).
    #[arg(long, required = true, value_delimiter = ',', value_name = "LIST")]
    pub workers: Vec<String>,
    /// Closed-loop connections in flight, comma-separated (default: `herd run`'s).
    #[arg(
        short = 'c',
        long = "connections",
        visible_alias = "concurrency",
        value_delimiter = ',',
        value_name = "LIST",
        conflicts_with = "rate"
    )]
    pub concurrency: Vec<String>,
    /// Open-loop arrival rates in connections/s, comma-separated (`10k` works); each is passed
    /// to `herd run --rate`.
    #[arg(short = 'R', long, value_delimiter = ',', value_name = "LIST")]
    pub rate: Vec<String>,
    /// CPU time each request burns, in microseconds, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub work_us: Vec<String>,
    /// Time each request blocks, in microseconds, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub sleep_us: Vec<String>,
    /// How many times each cell of the matrix is run (each repeat in a new shuffled order).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Results directory: runs.csv, workers.csv, latency.csv and meta.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Finish the sweep already in DIR: run only the cells it does not have yet.
    #[arg(long)]
    pub resume: bool,
    /// Seed for the shuffled order (default: random; the seed used is written to meta.json).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// The sweep's flags, and `herd run`'s other flags as given on the command line.
#[derive(Debug, Clone)]
pub struct SweepCli {
    pub sweep: SweepArgs,
    /// `--flag=value` arguments for each run, in the order clap knows them.
    pub run_flags: Vec<String>,
}

/// Ids of `herd run`'s arguments that the sweep replaces with its own.
const OWN: &[&str] = &[
    "strategy",
    "workers",
    "concurrency",
    "rate",
    "work_us",
    "sleep_us",
    "out",
    // A sweep writes CSV; each run's JSON would go nowhere.
    "json",
    // The sweep's own --repeat, not `herd run --repeat`.
    "repeat",
];

/// `herd run`'s arguments that a sweep passes through.
fn run_arguments() -> Vec<clap::Arg> {
    RunArgs::augment_args(Command::new("run"))
        .get_arguments()
        .filter(|a| !OWN.contains(&a.get_id().as_str()) && a.get_long().is_some())
        .cloned()
        .collect()
}

fn with_run_arguments(cmd: Command) -> Command {
    let mut cmd = cmd;
    for a in run_arguments() {
        cmd = cmd.arg(a.help_heading("Options of each run (see `herd run --help`)"));
    }
    cmd
}

/// The pass-through arguments present on the command line, as `--long=value` or `--long`.
fn pass_through(m: &ArgMatches) -> Vec<String> {
    let mut out = Vec::new();
    for a in run_arguments() {
        let id = a.get_id().as_str();
        let Some(long) = a.get_long() else { continue };
        if !matches!(m.value_source(id), Some(ValueSource::CommandLine)) {
            continue;
        }
        if a.get_action().takes_values() {
            for v in m.get_raw(id).into_iter().flatten() {
                out.push(format!("--{long}={}", v.to_string_lossy()));
            }
        } else if matches!(a.get_action(), clap::ArgAction::Count) {
            for _ in 0..m.get_count(id) {
                out.push(format!("--{long}"));
            }
        } else {
            out.push(format!("--{long}"));
        }
    }
    out
}

impl FromArgMatches for SweepCli {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(SweepCli {
            sweep: SweepArgs::from_arg_matches(m)?,
            run_flags: pass_through(m),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.sweep.update_from_arg_matches(m)?;
        self.run_flags = pass_through(m);
        Ok(())
    }
}

impl Args for SweepCli {
    fn augment_args(cmd: Command) -> Command {
        with_run_arguments(SweepArgs::augment_args(cmd))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        with_run_arguments(SweepArgs::augment_args_for_update(cmd))
    }
}

impl SweepCli {
    /// The `--worker-model` passed through to every run (`sync` when not given).
    fn worker_model(&self) -> WorkerModel {
        self.run_flags
            .iter()
            .rev()
            .filter_map(|f| f.strip_prefix("--worker-model="))
            .find_map(|v| WorkerModel::from_str(v, true).ok())
            .unwrap_or_default()
    }

    pub fn config(&self) -> Result<SweepConfig, Error> {
        let a = &self.sweep;
        let mut strategies = strategy_list("--strategies", &a.strategies, "herd sweep")?;
        // `all` in the event model: only the strategies that have an event form (one named
        // explicitly is refused with its reason when its cells are checked).
        let model = self.worker_model();
        if a.strategies
            .iter()
            .any(|s| s.trim().eq_ignore_ascii_case("all"))
        {
            strategies = skip_other_models(&strategies, model, "herd sweep");
        }
        Ok(SweepConfig {
            cells: cells(self, &strategies)?,
            repeat: a.repeat,
            out: a.out.clone(),
            resume: a.resume,
            seed: a.seed,
            matrix: Matrix {
                strategies: a.strategies.clone(),
                workers: a.workers.clone(),
                concurrency: a.concurrency.clone(),
                rate: a.rate.clone(),
                work_us: a.work_us.clone(),
                sleep_us: a.sleep_us.clone(),
                run_flags: self.run_flags.clone(),
            },
        })
    }
}

/// A list flag's values; empty when not given (the `herd run` default applies).
fn values<'a>(flag: &str, list: &'a [String]) -> Result<Vec<Option<&'a str>>, Error> {
    if list.is_empty() {
        return Ok(vec![None]);
    }
    let mut out: Vec<Option<&str>> = Vec::new();
    for v in list.iter().map(|v| v.trim()) {
        if v.is_empty() {
            return Err(Error::Usage(format!(
                "--{flag}: an empty value in the list"
            )));
        }
        if !out.contains(&Some(v)) {
            out.push(Some(v));
        }
    }
    Ok(out)
}

/// Every cell of the matrix, validated as `herd run` would validate it.
fn cells(cli: &SweepCli, strategies: &[StrategyKind]) -> Result<Vec<Cell>, Error> {
    let a = &cli.sweep;
    if strategies.is_empty() {
        return Err(Error::Usage(
            "--strategies: empty matrix (no strategy left to run)".into(),
        ));
    }
    if a.workers.iter().all(|w| w.trim().is_empty()) {
        return Err(Error::Usage("--workers: empty matrix".into()));
    }
    let (load_flag, loads) = if a.rate.is_empty() {
        ("connections", values("connections", &a.concurrency)?)
    } else {
        ("rate", values("rate", &a.rate)?)
    };
    let workers = values("workers", &a.workers)?;
    let works = values("work-us", &a.work_us)?;
    let sleeps = values("sleep-us", &a.sleep_us)?;
    let mut cells = Vec::new();
    for &s in strategies {
        for w in &workers {
            for l in &loads {
                for work in &works {
                    for sleep in &sleeps {
                        let mut argv = vec![
                            "herd".to_string(),
                            "run".to_string(),
                            format!("--strategy={s}"),
                        ];
                        let mut opt = |flag: &str, v: &Option<&str>| {
                            if let Some(v) = v {
                                argv.push(format!("--{flag}={v}"));
                            }
                        };
                        opt("workers", w);
                        opt(load_flag, l);
                        opt("work-us", work);
                        opt("sleep-us", sleep);
                        argv.push(format!("--out={}", a.out.display()));
                        argv.extend(cli.run_flags.iter().cloned());
                        let run = parse_run(&argv)?;
                        let rate = (load_flag == "rate").then(|| l.unwrap_or("").to_string());
                        cells.push(Cell { run, rate });
                    }
                }
            }
        }
    }
    Ok(cells)
}

fn parse_run(argv: &[String]) -> Result<crate::commands::run::RunConfig, Error> {
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: HerdCommand::Run(args),
        }) => args.config(),
        Ok(_) => Err(Error::Usage(
            "internal: a cell did not parse as `run`".into(),
        )),
        Err(e) => Err(Error::Usage(format!(
            "a run of this sweep would be refused: `{}`: {}",
            argv[1..].join(" "),
            e.render().to_string().trim()
        ))),
    }
}

#[cfg(test)]
mod tests;
