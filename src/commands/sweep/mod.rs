//! `herd sweep`: a matrix of `herd run`s. Each cell is measured in-process by
//! [`crate::commands::run::measure`], the code `herd run` uses, with the configuration
//! `herd run` would build from the same flags. Within each repeat the cells run in a shuffled
//! order, so that drift over a long sweep (heat, other load) does not favour one strategy; each
//! run's rows are appended when it finishes, and `--resume` runs only the cells DIR/runs.csv
//! does not have yet.
mod meta;
mod plan;

pub use plan::Cell;

use crate::report::client::fmt;
use crate::sys::signal::interrupted;
use crate::Error;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// A validated `herd sweep`.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// Every cell of the matrix, each a validated `herd run`.
    pub cells: Vec<Cell>,
    /// How many times each cell is run.
    pub repeat: u32,
    pub out: PathBuf,
    /// Run only the cells DIR does not have yet.
    pub resume: bool,
    /// Seed for the shuffled order (default: random).
    pub seed: Option<u64>,
    /// The matrix as given, for meta.json (and its check on `--resume`).
    pub matrix: Matrix,
}

/// The sweep's flags as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub strategies: Vec<String>,
    pub workers: Vec<String>,
    pub concurrency: Vec<String>,
    pub rate: Vec<String>,
    pub work_us: Vec<String>,
    pub sleep_us: Vec<String>,
    /// `herd run`'s other flags, as `--flag=value`, passed to every run.
    pub run_flags: Vec<String>,
}

/// Run the sweep.
pub fn run(a: &SweepConfig) -> Result<(), Error> {
    crate::sys::signal::install_interrupt_flag()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    let cells = &a.cells;
    let runs_csv = a.out.join("runs.csv");
    // A sweep killed in the middle of a write may have left a last line cut short.
    for f in ["runs.csv", "workers.csv", "latency.csv", "listeners.csv"] {
        crate::report::csv::repair_torn_tail(&a.out.join(f))?;
    }
    let done = plan::done_counts(&a.out, cells)?;
    if !a.resume && done.iter().any(|&d| d > 0) {
        return Err(Error::Usage(format!(
            "--out {}: runs.csv already holds runs of this matrix; add --resume to finish that \
             sweep, or choose another --out",
            a.out.display()
        )));
    }
    if !a.resume && runs_csv.exists() {
        eprintln!(
            "note: {} already exists; this sweep's rows are appended to it",
            runs_csv.display()
        );
    }

    // The plan: for each repeat, the cells that do not have that many runs yet, shuffled.
    let seed = a.seed.unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut plan: Vec<(u32, &Cell)> = Vec::new();
    for r in 0..a.repeat {
        let mut todo: Vec<&Cell> = cells
            .iter()
            .zip(&done)
            .filter(|(_, &d)| d <= r)
            .map(|(c, _)| c)
            .collect();
        rng.shuffle(&mut todo);
        plan.extend(todo.into_iter().map(|c| (r, c)));
    }
    let already: u32 = done.iter().map(|&d| d.min(a.repeat)).sum();
    std::fs::create_dir_all(&a.out)
        .map_err(|e| Error::Usage(format!("--out {}: {e}", a.out.display())))?;
    let meta = meta::start(&a.out, a, seed, plan.len())?;
    eprintln!(
        "sweep: {} cells x {} repeats = {} runs; {} already in {}, {} to run",
        cells.len(),
        a.repeat,
        cells.len() * a.repeat as usize,
        already,
        a.out.display(),
        plan.len()
    );

    let bar = ProgressBar::new(plan.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta} | {msg}",
        )
        .map_err(|e| Error::Run(e.to_string()))?
        .progress_chars("=> "),
    );
    let mut failures = Vec::new();
    let mut stopped: Option<(i32, usize)> = None;
    for (i, (r, cell)) in plan.iter().enumerate() {
        if let Some(sig) = interrupted() {
            stopped = Some((sig, i));
            break;
        }
        let label = format!("repeat {} {}", r + 1, cell.label());
        bar.set_message(label.clone());
        match crate::commands::run::measure(&cell.run) {
            Ok(out) if out.interrupted.is_some() => {
                let row = &out.row;
                say(
                    &bar,
                    format!(
                        "[{}/{}] {label}: INTERRUPTED after {:.1} s ({:.0} conn/s so far, not recorded)",
                        i + 1,
                        plan.len(),
                        row.duration_s,
                        row.conn_per_s
                    ),
                );
                stopped = out.interrupted.map(|sig| (sig, i));
                break;
            }
            Err(Error::Interrupted { signal, .. }) => {
                say(
                    &bar,
                    format!(
                        "[{}/{}] {label}: INTERRUPTED before it was measured",
                        i + 1,
                        plan.len()
                    ),
                );
                stopped = Some((signal, i));
                break;
            }
            Ok(out) => {
                let row = &out.row;
                let line = format!(
                    "[{}/{}] {label}: {:.0} conn/s, p99 {} us, {} ctx switches/accept, {} errors",
                    i + 1,
                    plan.len(),
                    row.conn_per_s,
                    fmt(row.latency_p99_us, 0),
                    fmt(row.ctx_switches_per_accept, 2),
                    row.errors
                );
                say(&bar, line);
            }
            // Bad input is the same for every cell: stop at once. (An --out that turned
            // unwritable after the first runs is not bad input: see below.)
            Err(e @ Error::Usage(_)) if !(i > 0 && writes_out(&e, &a.out)) => {
                bar.abandon();
                return Err(e);
            }
            // So is an --out that cannot be written (full, read-only): the runs done are
            // whole in it, the one that failed was taken back.
            Err(e @ (Error::File { .. } | Error::Csv { .. } | Error::Usage(_)))
                if writes_out(&e, &a.out) =>
            {
                bar.abandon();
                say(
                    &bar,
                    format!("[{}/{}] {label}: not recorded: {e}", i + 1, plan.len()),
                );
                let _ = meta::finish(&a.out, meta, i - failures.len(), &[e.to_string()]);
                return Err(Error::Run(format!(
                    "stopped after {i} of {} runs: --out {} cannot be written ({e}); the rows of the runs before are intact and this run's were not kept; `herd sweep --resume` with the same flags runs the rest once it can",
                    plan.len(),
                    a.out.display()
                )));
            }
            Err(e) => {
                let line = format!("[{}/{}] {label}: FAILED: {e}", i + 1, plan.len());
                say(&bar, line.clone());
                failures.push(line);
            }
        }
        bar.inc(1);
    }
    if let Some((sig, done)) = stopped {
        bar.abandon();
        let name = crate::error::signal_name(sig);
        let ok = done.saturating_sub(failures.len());
        failures.push(format!(
            "interrupted by {name} after {done} of {} runs",
            plan.len()
        ));
        meta::finish(&a.out, meta, ok, &failures)?;
        return Err(Error::interrupted(
            sig,
            format!(
                "{done} of {} runs done, each whole in {} (the run in progress was stopped and not recorded); `herd sweep --resume` with the same flags runs the rest",
                plan.len(),
                a.out.display()
            ),
        ));
    }
    bar.finish_with_message("done");
    meta::finish(&a.out, meta, plan.len() - failures.len(), &failures)?;
    if !failures.is_empty() {
        return Err(Error::Run(format!(
            "{} of {} runs failed (listed above and in meta.json); `herd sweep --resume` with the \
             same flags runs them again",
            failures.len(),
            plan.len()
        )));
    }
    Ok(())
}

/// Whether `e` is a failure to write a file under `out`.
fn writes_out(e: &Error, out: &std::path::Path) -> bool {
    match e {
        Error::File { path, .. } | Error::Csv { path, .. } => path.starts_with(out),
        // ResultFiles::open's check, made again by each run.
        Error::Usage(m) => m.starts_with(&format!("--out {}:", out.display())),
        _ => false,
    }
}

/// A line above the progress bar, or on stderr when there is no bar (not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
