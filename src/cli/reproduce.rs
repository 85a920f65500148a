//! `herd reproduce`: published results rerun here. Each experiment's `herd run` steps are
//! parsed exactly as `herd run` would parse them, and its `herd order` steps checked as
//! `herd order` would, before anything runs.
use super::cpus::PartitionArgs;
use super::{Cli, Command as HerdCommand};
use crate::commands::load::LoadCommand;
use crate::commands::order::OrderConfig;
use crate::commands::reproduce::{self, Planned, Prepared, ReproduceConfig, Step, EXPERIMENTS};
use crate::commands::run::RunConfig;
use crate::strategy::{Mode, WorkerModel};
use crate::Error;
use clap::{Args, Parser};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Args)]
pub struct ReproduceArgs {
    /// The experiments to run (see --list), or `all`.
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub names: Vec<String>,
    /// List the experiments, each with its source, and stop.
    #[arg(long, conflicts_with = "names")]
    pub list: bool,
    /// Results directory: reproduce.csv, reproduce.md, the charts, and each experiment's raw
    /// rows in DIR/NAME/.
    #[arg(long, value_name = "DIR", default_value = "target/herd-reproduce")]
    pub out: PathBuf,
    /// Shorter runs and fewer connections (about a minute for `all`): the same shapes, with
    /// less evidence.
    #[arg(long)]
    pub quick: bool,
    /// `--server-cpus`/`--client-cpus`, passed to every `herd run` step and, for nginx, to
    /// its load (the server set pins nginx's processes); the `herd order` steps (one idle
    /// connection at a time) are not pinned.
    #[command(flatten)]
    pub partition: PartitionArgs,
}

impl ReproduceArgs {
    pub fn config(&self) -> Result<ReproduceConfig, Error> {
        let names = self.selected()?;
        self.partition.config()?;
        // One experiment asked for alone must run: if it cannot, say why with status 2.
        let alone = names.len() == 1 && !self.names.iter().any(|n| n == "all");
        let mut plan = Vec::new();
        for name in names {
            let work = self.prepare(name);
            if let (true, Err(why)) = (alone, &work) {
                return Err(Error::Usage(format!("{name}: cannot run here: {why}")));
            }
            plan.push(Planned { name, work });
        }
        Ok(ReproduceConfig {
            list: self.list,
            plan,
            out: self.out.clone(),
            quick: self.quick,
        })
    }

    /// The experiments named, in the registry's order, each once.
    fn selected(&self) -> Result<Vec<&'static str>, Error> {
        let valid = || {
            EXPERIMENTS
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut want = Vec::new();
        for n in &self.names {
            if n == "all" {
                want.extend(EXPERIMENTS.iter().map(|e| e.name));
            } else if let Some(e) = reproduce::find(n) {
                want.push(e.name);
            } else {
                return Err(Error::Usage(format!(
                    "NAME {n:?}: no such experiment; valid: all, {}",
                    valid()
                )));
            }
        }
        Ok(EXPERIMENTS
            .iter()
            .map(|e| e.name)
            .filter(|n| want.contains(n))
            .collect())
    }

    /// The experiment's steps as configurations, or why it cannot run here.
    fn prepare(&self, name: &'static str) -> Result<Vec<Prepared>, String> {
        let e = reproduce::find(name).ok_or_else(|| format!("unknown experiment {name}"))?;
        if let Some(why) = (e.missing)() {
            return Err(why);
        }
        let raw = self.out.join(name);
        (e.steps)(self.quick)
            .into_iter()
            .map(|s| prepare_step(s, &raw, &self.partition))
            .collect()
    }
}

fn prepare_step(step: Step, raw: &Path, cpus: &PartitionArgs) -> Result<Prepared, String> {
    let client = cpus
        .client_cpus
        .as_ref()
        .map(|c| format!("--client-cpus={c}"));
    match step {
        Step::Run { label, args } => {
            let mut argv = vec!["herd".to_string(), "run".to_string()];
            argv.extend(args);
            argv.push(format!("--out={}", raw.display()));
            argv.extend(cpus.serve_arg());
            argv.extend(client);
            Ok(Prepared::Run {
                label,
                cfg: Box::new(parse_run(&argv)?),
            })
        }
        Step::Nginx { label, conf, args } => {
            let mut argv = vec![
                "herd".to_string(),
                "load".to_string(),
                // A placeholder: nginx's port is known once it listens.
                "http://127.0.0.1:9/".to_string(),
            ];
            argv.extend(args);
            argv.push(format!("--out={}", raw.display()));
            argv.extend(client);
            let mut load = parse_load(&argv)?;
            // nginx's PID is known once it runs: its set is applied then (as --server-pid's).
            load.partition.server = cpus.server_cpus.clone();
            Ok(Prepared::Nginx {
                label,
                conf,
                load: Box::new(load),
            })
        }
        Step::Order {
            label,
            strategy,
            workers,
            connections,
            gap,
        } => {
            strategy
                .supported()
                .map_err(|why| format!("{strategy} is not supported by this kernel: {why}"))?;
            Ok(Prepared::Order {
                label,
                cfg: OrderConfig {
                    strategies: vec![strategy],
                    workers,
                    connections,
                    mode: Mode::Process,
                    worker_model: WorkerModel::Sync,
                    gap,
                    addr: ([127, 0, 0, 1], 0).into(),
                    json: false,
                },
            })
        }
    }
}

/// A `herd load` as `herd load` would build it.
fn parse_load(argv: &[String]) -> Result<LoadCommand, String> {
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: HerdCommand::Load(args),
        }) => args
            .config()
            .map_err(|e| format!("`{}` is refused here: {e}", argv[1..].join(" "))),
        Ok(_) => Err("internal: a step did not parse as `load`".into()),
        Err(e) => Err(format!(
            "`{}` is refused here: {}",
            argv[1..].join(" "),
            e.render().to_string().trim()
        )),
    }
}

/// A `herd run` as `herd run` would build it; a refusal (say, a strategy this kernel lacks)
/// is the reason the experiment cannot run here.
fn parse_run(argv: &[String]) -> Result<RunConfig, String> {
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: HerdCommand::Run(args),
        }) => args
            .config()
            .map_err(|e| format!("`{}` is refused here: {e}", argv[1..].join(" "))),
        Ok(_) => Err("internal: a step did not parse as `run`".into()),
        Err(e) => Err(format!(
            "`{}` is refused here: {}",
            argv[1..].join(" "),
            e.render().to_string().trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(names: &[&str], quick: bool) -> ReproduceArgs {
        ReproduceArgs {
            names: names.iter().map(|n| n.to_string()).collect(),
            list: false,
            out: PathBuf::from("target/test-reproduce"),
            quick,
            partition: PartitionArgs::default(),
        }
    }

    #[test]
    fn every_step_of_every_experiment_parses_as_its_command() {
        for quick in [false, true] {
            let a = args(&["all"], quick);
            for e in EXPERIMENTS {
                if (e.missing)().is_some() {
                    continue;
                }
                let steps = a
                    .prepare(e.name)
                    .unwrap_or_else(|why| panic!("{}: {why}", e.name));
                assert!(!steps.is_empty(), "{}", e.name);
                let mut labels: Vec<_> = steps.iter().map(|s| format!("{s:?}")).collect();
                labels.dedup();
                assert_eq!(labels.len(), steps.len());
            }
        }
    }

    #[test]
    fn names_select_in_registry_order_and_all_expands() {
        let a = args(&["uwsgi-serialize", "wake-order", "wake-order"], true);
        assert_eq!(a.selected().unwrap(), ["wake-order", "uwsgi-serialize"]);
        assert_eq!(
            args(&["all"], true).selected().unwrap().len(),
            EXPERIMENTS.len()
        );
        let e = args(&["wake-order", "bogus"], true).selected().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("\"bogus\""), "{e}");
    }

    #[test]
    fn the_cpu_partition_reaches_every_run_and_the_nginx_load() {
        use crate::sys::affinity::CpuSet;
        let mut a = args(&["one-worker", "nginx-sharding"], true);
        a.partition = PartitionArgs {
            server_cpus: Some(CpuSet::parse("0").unwrap()),
            client_cpus: None,
        };
        let server = Some(CpuSet::parse("0").unwrap());
        let mut seen = 0;
        for name in ["one-worker", "nginx-sharding"] {
            let Ok(steps) = a.prepare(name) else { continue };
            for s in steps {
                match s {
                    Prepared::Run { cfg, .. } => {
                        assert!(cfg.serve_args.contains(&"--server-cpus=0".to_string()));
                        assert_eq!(cfg.partition.server, server);
                    }
                    Prepared::Nginx { load, .. } => assert_eq!(load.partition.server, server),
                    Prepared::Order { .. } => continue,
                }
                seen += 1;
            }
        }
        assert!(seen >= 2);
    }

    #[test]
    fn steps_write_their_rows_under_the_experiment() {
        let a = args(&["one-worker"], true);
        let cfg = a.config().unwrap();
        let Ok(steps) = &cfg.plan[0].work else {
            panic!("one-worker cannot run")
        };
        for s in steps {
            if let Prepared::Run { cfg, .. } = s {
                assert_eq!(
                    cfg.out.as_deref(),
                    Some(Path::new("target/test-reproduce/one-worker"))
                );
            }
        }
    }
}
