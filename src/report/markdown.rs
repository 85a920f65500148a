//! `herd report`: Markdown tables comparing the strategies of a results directory, one table
//! per load condition and worker count, each cell the median of the repeats; in each column the
//! best value is bold and the worst italic.
use super::aggregate::{groups, Group, Stat};
use super::results::Results;
use super::row::RunRow;
use crate::Error;
use std::fmt::Write;

/// Which way is better for a column.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
    Neither,
}

struct Column {
    head: &'static str,
    better: Better,
    decimals: usize,
    metric: fn(&RunRow) -> f64,
}

const COLUMNS: &[Column] = &[
    Column {
        head: "conn/s",
        better: Better::Higher,
        decimals: 0,
        metric: |r| r.conn_per_s,
    },
    Column {
        head: "p50 µs",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.latency_p50_us,
    },
    Column {
        head: "p99 µs",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.latency_p99_us,
    },
    Column {
        head: "wakeups/accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.wakeups_per_accept,
    },
    Column {
        head: "spurious/accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.spurious_per_accept,
    },
    Column {
        head: "EAGAIN/accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.eagain_per_accept,
    },
    Column {
        head: "ctx switches/accept",
        better: Better::Lower,
        decimals: 3,
        metric: |r| r.ctx_switches_per_accept,
    },
    Column {
        head: "CPU µs/conn",
        better: Better::Lower,
        decimals: 1,
        metric: |r| r.cpu_us_per_conn,
    },
    Column {
        head: "Jain",
        better: Better::Higher,
        decimals: 3,
        metric: |r| r.jain_fairness,
    },
    Column {
        head: "errors",
        better: Better::Neither,
        decimals: 0,
        metric: |r| r.errors as f64,
    },
];

/// One table: the strategies of `g` at `workers`.
fn table(g: &Group<'_>, workers: u64) -> String {
    let strategies = g.strategies();
    let cells: Vec<Vec<Option<Stat>>> = strategies
        .iter()
        .map(|s| {
            let runs = g.cell(s, workers);
            COLUMNS
                .iter()
                .map(|c| Stat::of(runs.iter().map(|r| (c.metric)(&r.row))))
                .collect()
        })
        .collect();
    let mut out = String::new();
    let plural = if workers == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "### {workers} worker{plural}; {}\n",
        g.condition.label()
    );
    let heads: Vec<&str> = COLUMNS.iter().map(|c| c.head).collect();
    let _ = writeln!(out, "| strategy | runs | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|---:|{}", "---:|".repeat(COLUMNS.len()));
    for (si, s) in strategies.iter().enumerate() {
        let runs = g.cell(s, workers).len();
        let mut row = format!("| {s} | {runs} |");
        for (ci, c) in COLUMNS.iter().enumerate() {
            let text = match cells[si][ci] {
                None => "–".to_string(),
                Some(v) => {
                    let num = format!("{:.*}", c.decimals, v.median);
                    let col: Vec<f64> = cells
                        .iter()
                        .filter_map(|r| r[ci].map(|x| x.median))
                        .collect();
                    mark(&num, v.median, &col, c.better)
                }
            };
            let _ = write!(row, " {text} |");
        }
        let _ = writeln!(out, "{row}");
    }
    out
}

/// Bold for the best value of the column, italic for the worst (only when they differ).
fn mark(text: &str, v: f64, col: &[f64], better: Better) -> String {
    let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if better == Better::Neither || col.len() < 2 || lo == hi {
        return text.to_string();
    }
    let (best, worst) = match better {
        Better::Higher => (hi, lo),
        _ => (lo, hi),
    };
    if v == best {
        format!("**{text}**")
    } else if v == worst {
        format!("_{text}_")
    } else {
        text.to_string()
    }
}

/// The whole report as Markdown.
pub fn markdown(results: &Results, only: Option<u64>) -> Result<String, Error> {
    let groups = groups(results);
    let mut out = String::new();
    let _ = writeln!(out, "## herd results: {}\n", results.dir.display());
    let mut any = false;
    for g in &groups {
        let _ = writeln!(
            out,
            "{}. Each figure is the median of the repeats (`runs`); in each column **bold** is \
             the best strategy and _italic_ the worst. Latency is connect() to full response; \
             ctx switches are the kernel's count for all workers. The marks compare medians only: \
             look at the min–max bars of `herd plot` before calling a small difference real.\n",
            g.host_label()
        );
        for w in g
            .workers()
            .into_iter()
            .filter(|w| only.map_or(true, |o| o == *w))
        {
            out.push_str(&table(g, w));
            out.push('\n');
            any = true;
        }
    }
    if !any {
        return Err(Error::Usage(format!(
            "--workers {}: no runs with that many workers in {}",
            only.unwrap_or(0),
            results.dir.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_bold_worst_italic() {
        let col = [1.0, 2.0, 3.0];
        assert_eq!(mark("3", 3.0, &col, Better::Higher), "**3**");
        assert_eq!(mark("1", 1.0, &col, Better::Higher), "_1_");
        assert_eq!(mark("1", 1.0, &col, Better::Lower), "**1**");
        assert_eq!(mark("2", 2.0, &col, Better::Lower), "2");
        assert_eq!(mark("2", 2.0, &[2.0, 2.0], Better::Lower), "2");
    }
}
