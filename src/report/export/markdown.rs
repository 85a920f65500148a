//! `herd report`: Markdown tables comparing the strategies of a results directory, one table
//! per load condition and worker count, each cell the median of the repeats. A value is bold
//! (best) or italic (worst) only in a column where lower (or higher) is better without dispute,
//! and only when its repeats do not overlap the next cell's: a difference smaller than the
//! spread of the repeats, or than the printed precision, is not marked.
use super::{Better, Column, COLUMNS};
use crate::report::aggregate::{groups, Group, Stat};
use crate::report::results::Results;
use crate::Error;
use std::fmt::Write;

/// In an open loop the rate sets the throughput: conn/s compares nothing.
fn better(c: &Column, g: &Group<'_>) -> Better {
    if c.head == "conn/s" && g.condition.arrivals != "closed" {
        Better::Neither
    } else {
        c.better
    }
}

/// One table: the strategies of `g` at `workers`. Columns no run measured are left out.
fn table(g: &Group<'_>, workers: u64) -> String {
    let strategies = g.strategies();
    let all: Vec<Vec<Option<Stat>>> = strategies
        .iter()
        .map(|s| {
            let runs = g.cell(s, workers);
            COLUMNS
                .iter()
                .map(|c| Stat::of(runs.iter().filter_map(|r| (c.metric)(&r.row))))
                .collect()
        })
        .collect();
    let shown: Vec<usize> = (0..COLUMNS.len())
        .filter(|&ci| all.iter().any(|row| row[ci].is_some()))
        .collect();
    let mut out = String::new();
    if g.condition.server_measured() {
        let plural = if workers == 1 { "" } else { "s" };
        let _ = writeln!(
            out,
            "### {workers} worker{plural}; {}\n",
            g.condition.label()
        );
    } else {
        let _ = writeln!(out, "### {}\n", g.condition.label());
    }
    let heads: Vec<&str> = shown.iter().map(|&ci| COLUMNS[ci].head).collect();
    let first = if g.condition.server_measured() {
        "strategy"
    } else {
        "server"
    };
    let _ = writeln!(out, "| {first} | runs | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|---:|{}", "---:|".repeat(shown.len()));
    for (si, s) in strategies.iter().enumerate() {
        let runs = g.cell(s, workers).len();
        let name = if s.is_empty() { "–" } else { s.as_str() };
        let mut row = format!("| {name} | {runs} |");
        for &ci in &shown {
            let c = &COLUMNS[ci];
            let col: Vec<Option<Stat>> = all.iter().map(|r| r[ci]).collect();
            let text = match all[si][ci] {
                None => "–".to_string(),
                Some(v) => {
                    let num = format!("{:.*}", c.decimals, v.median);
                    match mark(si, &col, better(c, g), c.decimals) {
                        Some(Mark::Best) => format!("**{num}**"),
                        Some(Mark::Worst) => format!("_{num}_"),
                        None => num,
                    }
                }
            };
            let _ = write!(row, " {text} |");
        }
        let _ = writeln!(out, "{row}");
    }
    out
}

#[derive(Debug, PartialEq)]
enum Mark {
    Best,
    Worst,
}

/// Whether cell `i` of a column is the best or the worst, by a margin: its repeats all lie
/// beyond every other cell's repeats (min–max ranges apart, so a difference inside the noise
/// is not marked) and the gap shows at the printed precision. Cells need two or more repeats:
/// one run has no spread to judge a difference by.
fn mark(i: usize, col: &[Option<Stat>], better: Better, decimals: usize) -> Option<Mark> {
    let me = col.get(i).copied().flatten()?;
    let others: Vec<Stat> = col
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .filter_map(|(_, s)| *s)
        .collect();
    if better == Better::Neither || others.is_empty() || me.n < 2 || others.iter().any(|s| s.n < 2)
    {
        return None;
    }
    let step = 10f64.powi(-(decimals as i32));
    let above = others.iter().all(|o| me.min - o.max >= step);
    let below = others.iter().all(|o| o.min - me.max >= step);
    match (better, above, below) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => Some(Mark::Best),
        (Better::Higher, _, true) | (Better::Lower, true, _) => Some(Mark::Worst),
        _ => None,
    }
}

/// The whole report as Markdown.
pub fn markdown(results: &Results, only: Option<u64>) -> Result<String, Error> {
    let groups = groups(results);
    let mut out = String::new();
    let _ = writeln!(out, "## herd results: {}\n", results.dir.display());
    let mut any = false;
    for g in &groups {
        let intro = if g.condition.server_measured() {
            "Each figure is the median of the repeats (`runs`); – where nothing was measured. \
             **Bold** marks the best and _italic_ the worst, only in columns where one side is \
             better (conn/s in a closed loop; latency, spurious wakeups, EAGAIN, context \
             switches, CPU and errors lower) and only when all of that strategy's repeats lie \
             beyond all of every other's: a difference within the spread of the repeats is not \
             marked. Wakeups per accept and Jain's index have no better side. Latency is \
             connect() to full response (per request with keep-alive); ctx switches are the \
             kernel's count for all workers."
        } else {
            "`herd load` against a server herd did not start: only the client's figures exist, \
             each the median of the repeats (`runs`). Latency is connect() to full response \
             (per request with keep-alive)."
        };
        let _ = writeln!(out, "{}. {intro}\n", g.host_label());
        for w in g
            .workers()
            .into_iter()
            .filter(|w| only.is_none_or(|o| o == *w))
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

    fn st(min: f64, median: f64, max: f64) -> Option<Stat> {
        Some(Stat {
            median,
            min,
            max,
            n: 3,
        })
    }

    #[test]
    fn marks_only_what_stands_clear_of_the_noise() {
        let col = [st(1.0, 1.1, 1.2), st(2.0, 2.1, 2.2), st(3.0, 3.1, 3.2)];
        assert_eq!(mark(2, &col, Better::Higher, 1), Some(Mark::Best));
        assert_eq!(mark(0, &col, Better::Higher, 1), Some(Mark::Worst));
        assert_eq!(mark(0, &col, Better::Lower, 1), Some(Mark::Best));
        assert_eq!(mark(1, &col, Better::Lower, 1), None);
        assert_eq!(mark(0, &col, Better::Neither, 1), None);
        // 24.6 vs 24.7 with repeats that overlap: noise, no mark.
        let close = [
            st(24.2, 24.6, 25.0),
            st(24.5, 24.7, 24.9),
            st(30.0, 31.0, 32.0),
        ];
        assert_eq!(mark(0, &close, Better::Lower, 1), None);
        assert_eq!(mark(2, &close, Better::Lower, 1), Some(Mark::Worst));
        // Apart, but not at the printed precision: 0.0001 vs 0.0004 both print 0.000.
        let tiny = [st(0.0, 0.0, 0.0), st(0.0004, 0.0004, 0.0004)];
        assert_eq!(mark(0, &tiny, Better::Lower, 3), None);
        assert_eq!(mark(1, &tiny, Better::Lower, 3), None);
        // One run per cell: no spread, no mark.
        let single = [
            Some(Stat {
                n: 1,
                ..st(1.0, 1.0, 1.0).unwrap()
            }),
            st(5.0, 5.0, 5.0),
        ];
        assert_eq!(mark(1, &single, Better::Lower, 1), None);
    }
}
