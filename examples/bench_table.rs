//! Turn the results of `cargo bench` (criterion's `target/criterion/**/new/estimates.json` and
//! the wakeup distributions the benches write to `target/criterion/herd-wakeup/`) into the
//! Markdown tables of docs/benchmarks.md. Run by `scripts/bench-table.sh`.
//!
//! Usage: `cargo run --release --example bench_table -- [CRITERION_DIR [DATA_DIR]]`
//! (default `target/criterion`). With DATA_DIR, the figures behind the tables are also written
//! there as CSV: `criterion.csv` (every benchmark's median and its 95% interval, ns) and
//! `wakeup.csv` (the wakeup distributions), which `scripts/bench-table.sh` commits under
//! `results/benchmarks/`.
//!
//! Ratios: an uncontended lock against the atomic floor; a handoff against the pthread mutex's
//! (a futex: the kernel's plainest sleep and wake).
//!
//! Every figure is criterion's median of the per-iteration times of its samples, with its 95%
//! confidence interval: on a machine shared with other work the median is less moved by the odd
//! disturbed sample than the mean. Ratios are of two medians of the same run.
use herd::strategy::StrategyKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Benchmark {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Wakeup {
    strategy: String,
    workers: u64,
    connections: u64,
    p50_ns: f64,
    p90_ns: f64,
    p99_ns: f64,
}

/// (group, function, value) → median estimate in ns.
type Results = BTreeMap<(String, String, String), Estimate>;

const LOCKS: &[&str] = &[
    "atomic",
    "try-lock",
    "pthread-mutex",
    "pthread-mutex-robust",
    "posix-sem",
    "sysv-sem",
    "fcntl",
    "flock",
];

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let mut results = Results::new();
    collect(&dir, &mut results)?;
    if results.is_empty() {
        anyhow::bail!(
            "no criterion results under {} (run `cargo bench`)",
            dir.display()
        );
    }
    locks(&results);
    accept_path(&results);
    let wakeups = wakeup(&dir.join("herd-wakeup"))?;
    series(&results);
    if let Some(data) = std::env::args_os().nth(2).map(PathBuf::from) {
        write_data(&data, &results, &wakeups)?;
    }
    Ok(())
}

/// The figures behind the tables, as CSV under `data`.
fn write_data(
    data: &Path,
    results: &Results,
    wakeups: &BTreeMap<(String, u64), Wakeup>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data)?;
    let mut c = String::from("group,function,value,median_ns,ci95_low_ns,ci95_high_ns\n");
    for ((g, f, v), e) in results {
        c.push_str(&format!(
            "{g},{f},{v},{:.1},{:.1},{:.1}\n",
            e.point_estimate, e.confidence_interval.lower_bound, e.confidence_interval.upper_bound
        ));
    }
    std::fs::write(data.join("criterion.csv"), c)?;
    let mut w = String::from("strategy,workers,connections,p50_ns,p90_ns,p99_ns\n");
    for x in wakeups.values() {
        w.push_str(&format!(
            "{},{},{},{:.0},{:.0},{:.0}\n",
            x.strategy, x.workers, x.connections, x.p50_ns, x.p90_ns, x.p99_ns
        ));
    }
    std::fs::write(data.join("wakeup.csv"), w)?;
    Ok(())
}

/// `herd series`: one whole farm per iteration.
fn series(r: &Results) {
    const FARMS: [(&str, &str); 2] = [
        ("per-term-64", "64 terms, one process per term"),
        ("pool-8x256", "256 terms, pool of 8"),
    ];
    const METHODS: [&str; 4] = ["sequential", "select", "poll", "epoll"];
    if !r.keys().any(|k| k.0 == "series") {
        return;
    }
    println!("`herd series` (`series`, one whole farm per iteration: fork, collect, reap):\n");
    println!("| farm | {} |", METHODS.join(" | "));
    println!("|---|---|---|---|---|");
    for (id, label) in FARMS {
        let cells: Vec<String> = METHODS
            .iter()
            .map(|m| with_ci(get(r, "series", id, m)))
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
    println!();
}

/// Every `new/benchmark.json` with its `new/estimates.json` below `dir`.
fn collect(dir: &Path, out: &mut Results) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries {
        let path = e?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let (b, e) = (path.join("benchmark.json"), path.join("estimates.json"));
            if b.exists() && e.exists() {
                let b: Benchmark = serde_json::from_slice(&std::fs::read(&b)?)?;
                let e: Estimates = serde_json::from_slice(&std::fs::read(&e)?)?;
                let key = (
                    b.group_id,
                    b.function_id.unwrap_or_default(),
                    b.value_str.unwrap_or_default(),
                );
                out.insert(key, e.median);
            }
        } else {
            collect(&path, out)?;
        }
    }
    Ok(())
}

fn get<'a>(r: &'a Results, group: &str, function: &str, value: &str) -> Option<&'a Estimate> {
    r.get(&(group.into(), function.into(), value.into()))
}

/// `12.3 µs [12.1, 12.6]`
fn with_ci(e: Option<&Estimate>) -> String {
    match e {
        Some(e) => {
            let unit = Unit::of(e.point_estimate);
            format!(
                "{} [{}, {}]",
                unit.show(e.point_estimate, true),
                unit.show(e.confidence_interval.lower_bound, false),
                unit.show(e.confidence_interval.upper_bound, false)
            )
        }
        None => "–".into(),
    }
}

fn ratio(num: Option<&Estimate>, den: Option<&Estimate>) -> String {
    ratio_of(num.map(|e| e.point_estimate), den.map(|e| e.point_estimate))
}

fn ratio_of(num: Option<f64>, den: Option<f64>) -> String {
    match (num, den) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}", n / d),
        _ => "–".into(),
    }
}

#[derive(Clone, Copy)]
struct Unit(&'static str, f64);

impl Unit {
    fn of(ns: f64) -> Unit {
        if ns < 1e3 {
            Unit("ns", 1.0)
        } else if ns < 1e6 {
            Unit("µs", 1e3)
        } else {
            Unit("ms", 1e6)
        }
    }

    /// Three significant digits, with or without the unit.
    fn show(self, ns: f64, unit: bool) -> String {
        let v = ns / self.1;
        let digits = if v >= 100.0 {
            0
        } else if v >= 10.0 {
            1
        } else {
            2
        };
        if unit {
            format!("{v:.digits$} {}", self.0)
        } else {
            format!("{v:.digits$}")
        }
    }
}

fn locks(r: &Results) {
    println!("Lock primitives (`locks_uncontended`, `locks_handoff`):\n");
    println!("| primitive | uncontended acquire + release | × atomic | handoff round trip, 2 processes | × pthread-mutex |");
    println!("|---|---|---|---|---|");
    let floor = get(r, "locks_uncontended", "atomic", "");
    let futex = get(r, "locks_handoff", "pthread-mutex", "");
    for name in LOCKS {
        let u = get(r, "locks_uncontended", name, "");
        let h = get(r, "locks_handoff", name, "");
        if u.is_none() && h.is_none() {
            continue;
        }
        println!(
            "| `{name}` | {} | {} | {} | {} |",
            with_ci(u),
            ratio(u, floor),
            with_ci(h),
            ratio(h, futex)
        );
    }
    println!();
}

/// The strategies found in `names`, in `StrategyKind::ALL` order, then any others.
fn ordered<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut found: Vec<String> = names.map(str::to_string).collect();
    found.sort();
    found.dedup();
    let rank = |n: &String| {
        StrategyKind::ALL
            .iter()
            .position(|s| s.name() == n)
            .unwrap_or(usize::MAX)
    };
    found.sort_by_key(rank);
    found
}

fn accept_path(r: &Results) {
    let names = ordered(
        r.keys()
            .filter(|k| k.0 == "accept_path")
            .map(|k| k.1.as_str()),
    );
    if names.is_empty() {
        return;
    }
    println!("Accept path, one connection on an idle server (`accept_path`):\n");
    println!("| strategy | 1 worker | 8 workers | 8 w / 1 w |");
    println!("|---|---|---|---|");
    for s in names {
        let one = get(r, "accept_path", &s, "1w");
        let eight = get(r, "accept_path", &s, "8w");
        println!(
            "| `{s}` | {} | {} | {} |",
            with_ci(one),
            with_ci(eight),
            ratio(eight, one)
        );
    }
    println!();
}

fn wakeup(dir: &Path) -> anyhow::Result<BTreeMap<(String, u64), Wakeup>> {
    let mut all: BTreeMap<(String, u64), Wakeup> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let path = e?.path();
            if path.extension().is_some_and(|x| x == "json") {
                let w: Wakeup = serde_json::from_slice(&std::fs::read(&path)?)?;
                all.insert((w.strategy.clone(), w.workers), w);
            }
        }
    }
    if all.is_empty() {
        return Ok(all);
    }
    println!("Wakeup latency, connect() call to the worker's accept() return, per connection (`wakeup`):\n");
    println!("| strategy | 1 w: p50 | p90 | p99 | 8 w: p50 | p90 | p99 | 8 w / 1 w (p50) | connections |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for s in ordered(all.keys().map(|k| k.0.as_str())) {
        let one = all.get(&(s.clone(), 1));
        let eight = all.get(&(s.clone(), 8));
        let cells = |w: Option<&Wakeup>| match w {
            Some(w) => [w.p50_ns, w.p90_ns, w.p99_ns]
                .map(|v| Unit::of(v).show(v, true))
                .join(" | "),
            None => "– | – | –".into(),
        };
        let count: u64 = one.iter().chain(eight.iter()).map(|w| w.connections).sum();
        println!(
            "| `{s}` | {} | {} | {} | {count} |",
            cells(one),
            cells(eight),
            ratio_of(eight.map(|w| w.p50_ns), one.map(|w| w.p50_ns))
        );
    }
    println!();
    Ok(all)
}
