//! The sweep's matrix: its cells, each as the `herd run` arguments it stands for, and which of
//! them a results directory already holds.
//!
//! Each cell's [`RunArgs`] is made by parsing the argv `herd run` would get, so a cell is
//! validated, defaulted and measured exactly as `herd run` would be.
use super::args::SweepCli;
use crate::cli::{Cli, Command, RunArgs};
use crate::report::results::read_records;
use crate::strategy::StrategyKind;
use crate::Error;
use clap::{Parser, ValueEnum};
use std::path::Path;

/// One point of the matrix.
#[derive(Debug, Clone)]
pub struct Cell {
    pub args: RunArgs,
    /// The open-loop rate, as given, when the sweep varies `--rate`.
    pub rate: Option<String>,
}

impl Cell {
    /// A short label for progress lines.
    pub fn label(&self) -> String {
        let s = &self.args.server;
        let load = match &self.rate {
            Some(r) => format!("rate {r}/s"),
            None => format!("c{}", self.args.load.concurrency),
        };
        format!(
            "{} w{} {load} work {}us sleep {}us",
            s.strategy, s.workers, s.work_us, s.sleep_us
        )
    }

    /// The runs.csv columns that identify this cell, with their values.
    fn key(&self) -> Vec<(&'static str, String)> {
        let s = &self.args.server;
        let mut k = vec![
            ("strategy", s.strategy.name().to_string()),
            ("workers", s.workers.to_string()),
            ("work_us", s.work_us.to_string()),
            ("sleep_us", s.sleep_us.to_string()),
        ];
        match &self.rate {
            Some(r) => k.push(("rate", r.clone())),
            None => k.push(("concurrency", self.args.load.concurrency.to_string())),
        }
        k
    }
}

/// The strategies a sweep runs: unknown names are a usage error; those this kernel lacks are
/// skipped with a message on stderr.
pub fn strategies(names: &[String]) -> Result<Vec<StrategyKind>, Error> {
    let mut picked: Vec<StrategyKind> = Vec::new();
    for name in names.iter().map(|n| n.trim()) {
        if name.eq_ignore_ascii_case("all") {
            picked.extend(StrategyKind::ALL.iter().copied());
            continue;
        }
        let kind = StrategyKind::from_str(name, true).map_err(|_| {
            let known: Vec<_> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            Error::Usage(format!(
                "--strategies: unknown strategy `{name}` (known: all, {})",
                known.join(", ")
            ))
        })?;
        picked.push(kind);
    }
    let mut out = Vec::new();
    for k in picked {
        if out.contains(&k) {
            continue;
        }
        match k.supported() {
            Ok(()) => out.push(k),
            Err(why) => eprintln!("skipping {k}: {why}"),
        }
    }
    Ok(out)
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
pub fn cells(cli: &SweepCli, strategies: &[StrategyKind]) -> Result<Vec<Cell>, Error> {
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
        ("concurrency", values("concurrency", &a.concurrency)?)
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
                        let args = parse_run(&argv)?;
                        let rate = (load_flag == "rate").then(|| l.unwrap_or("").to_string());
                        cells.push(Cell { args, rate });
                    }
                }
            }
        }
    }
    Ok(cells)
}

fn parse_run(argv: &[String]) -> Result<RunArgs, Error> {
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Run(args),
        }) => Ok(args),
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

/// How many runs of each cell DIR/runs.csv already holds. The repeat index of a run is its
/// order among the rows of its cell, so no column is needed for it: a run's row is appended
/// in one write when the run finishes, so a killed sweep leaves no half-done cell behind.
pub fn done_counts(dir: &Path, cells: &[Cell]) -> Result<Vec<u32>, Error> {
    let path = dir.join("runs.csv");
    if !path.exists() {
        return Ok(vec![0; cells.len()]);
    }
    let (headers, records) = read_records(&path)?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut counts = vec![0u32; cells.len()];
    for (i, cell) in cells.iter().enumerate() {
        let key = cell.key();
        let mut idx = Vec::new();
        for (name, v) in &key {
            let c = col(name).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: no `{name}` column, so the cells already done cannot be told apart",
                    path.display()
                ))
            })?;
            idx.push((c, v));
        }
        counts[i] = records
            .iter()
            .filter(|(_, r)| {
                idx.iter()
                    .all(|(c, v)| r.get(*c).is_some_and(|x| same(x, v)))
            })
            .count() as u32;
    }
    Ok(counts)
}

/// Equal as numbers when both are numbers, else as text.
fn same(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}
