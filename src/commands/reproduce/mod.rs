//! `herd reproduce`: the field's published results, rerun here, expected beside observed. Each
//! experiment is one module: where its claim was published, the original setup, the expected
//! shape as a predicate over herd's own rows, and the herd runs it needs, measured through the
//! same code `herd run`, `herd order` and `herd load` use. The verdict of each quantity is
//! `reproduced`, `not reproduced` or `cannot run here` (with the reason), and DIR gets
//! reproduce.csv, reproduce.md, the charts, and each experiment's raw rows in DIR/NAME/.
pub mod model;
mod output;

mod herd_headline;
pub mod nginx;
mod nginx_sharding;
mod node_cluster;
mod one_worker;
mod reuseport_motivation;
mod shared_queue;
mod uwsgi;
mod wake_order;

pub use model::{Experiment, Finding, Step, Verdict};

use crate::commands::load::LoadCommand;
use crate::commands::order::OrderConfig;
use crate::commands::run::RunConfig;
use crate::sys::signal::interrupted;
use crate::Error;
use indicatif::{ProgressBar, ProgressStyle};
use model::{Measured, Observed};
use std::path::PathBuf;

/// Every experiment, in the order `all` runs them.
pub const EXPERIMENTS: &[&Experiment] = &[
    &wake_order::EXPERIMENT,
    &one_worker::EXPERIMENT,
    &shared_queue::EXPERIMENT,
    &reuseport_motivation::EXPERIMENT,
    &node_cluster::EXPERIMENT,
    &uwsgi::EXPERIMENT,
    &nginx_sharding::EXPERIMENT,
    &herd_headline::EXPERIMENT,
];

/// The experiment named `name`.
pub fn find(name: &str) -> Option<&'static Experiment> {
    EXPERIMENTS.iter().copied().find(|e| e.name == name)
}

/// A validated `herd reproduce`.
#[derive(Debug, Clone)]
pub struct ReproduceConfig {
    /// `--list`: print the experiments and stop.
    pub list: bool,
    pub plan: Vec<Planned>,
    pub out: PathBuf,
    pub quick: bool,
}

/// One experiment to run: its steps, each validated as the command it stands for, or the
/// reason it cannot run here.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: &'static str,
    pub work: Result<Vec<Prepared>, String>,
}

impl Planned {
    pub fn experiment(&self) -> &'static Experiment {
        find(self.name).expect("planned experiments come from the registry")
    }
}

/// A step with the configuration of the command it stands for.
#[derive(Debug, Clone)]
pub enum Prepared {
    Run {
        label: &'static str,
        cfg: Box<RunConfig>,
    },
    Order {
        label: &'static str,
        cfg: OrderConfig,
    },
    Nginx {
        label: &'static str,
        conf: nginx::NginxConf,
        load: Box<LoadCommand>,
    },
}

impl Prepared {
    fn label(&self) -> &'static str {
        match self {
            Prepared::Run { label, .. }
            | Prepared::Order { label, .. }
            | Prepared::Nginx { label, .. } => label,
        }
    }
}

/// One experiment's outcome.
pub struct Outcome {
    pub experiment: &'static Experiment,
    pub findings: Vec<Finding>,
    pub observed: Observed,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

pub fn run(cfg: &ReproduceConfig) -> Result<(), Error> {
    if cfg.list {
        print!("{}", output::list());
        return Ok(());
    }
    crate::sys::signal::install_interrupt_flag()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    std::fs::create_dir_all(&cfg.out)
        .map_err(|e| Error::Usage(format!("--out {}: {e}", cfg.out.display())))?;
    let steps: usize = cfg
        .plan
        .iter()
        .map(|p| p.work.as_ref().map_or(0, Vec::len))
        .sum();
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps | {msg}")
            .map_err(|e| Error::Run(e.to_string()))?
            .progress_chars("=> "),
    );
    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let mut outcomes = Vec::new();
    let mut failed = 0;
    for p in &cfg.plan {
        let e = p.experiment();
        let findings_observed = match &p.work {
            Err(reason) => (vec![cannot_run(e, reason)], Observed::default()),
            Ok(steps) => {
                let mut obs = Observed::default();
                let mut notes = Vec::new();
                for s in steps {
                    if let Some(sig) = interrupted() {
                        bar.abandon();
                        return Err(Error::interrupted(
                            sig,
                            format!("during {}: nothing written", e.name),
                        ));
                    }
                    bar.set_message(format!("{} / {}", e.name, s.label()));
                    match measure(&exe, s) {
                        Ok(m) => obs.insert(s.label(), m),
                        Err(err) => {
                            failed += 1;
                            let line = format!("{} / {}: failed: {err}", e.name, s.label());
                            say(&bar, line.clone());
                            notes.push(line);
                        }
                    }
                    bar.inc(1);
                }
                let mut findings = (e.judge)(&obs);
                for f in findings
                    .iter_mut()
                    .filter(|f| f.observed.starts_with("no "))
                {
                    f.note = notes.join("; ");
                }
                (findings, obs)
            }
        };
        let (findings, observed) = findings_observed;
        say(&bar, output::text(e, &findings));
        outcomes.push(Outcome {
            experiment: e,
            findings,
            observed,
        });
    }
    bar.finish_and_clear();
    let written = output::write(&cfg.out, &outcomes)?;
    println!("{}", output::summary(&outcomes));
    for w in written {
        println!("wrote {}", w.display());
    }
    if failed > 0 {
        return Err(Error::Run(format!(
            "{failed} step(s) failed; their quantities are marked `not reproduced` with the error"
        )));
    }
    Ok(())
}

/// The one finding of an experiment that cannot run here.
pub fn cannot_run(e: &Experiment, reason: &str) -> Finding {
    Finding {
        quantity: "(all)".into(),
        expected: e.expected.into(),
        observed: "not run".into(),
        verdict: Verdict::CannotRun,
        note: reason.into(),
    }
}

fn measure(exe: &std::path::Path, step: &Prepared) -> Result<Measured, Error> {
    match step {
        Prepared::Run { cfg, .. } => {
            let out = crate::commands::run::measure(cfg)?;
            if let Some(sig) = out.interrupted {
                return Err(Error::interrupted(sig, "the run was cut short"));
            }
            Ok(Measured::Run {
                row: Box::new(out.row),
                workers: out.workers,
            })
        }
        Prepared::Nginx { conf, load, .. } => {
            let out = nginx::measure(*conf, load)?;
            if let Some(sig) = out.interrupted {
                return Err(Error::interrupted(sig, "the load was cut short"));
            }
            Ok(Measured::Run {
                row: Box::new(out.row),
                workers: out.workers,
            })
        }
        Prepared::Order { cfg, .. } => {
            let kind = cfg.strategies[0];
            Ok(Measured::Order(crate::commands::order::sequence(
                exe, kind, cfg,
            )?))
        }
    }
}

/// A line above the progress bar (or on stderr when the bar is hidden).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
