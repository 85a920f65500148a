//! What `herd reproduce` prints and writes: the list, each experiment's findings as text,
//! DIR/reproduce.csv (one row per quantity), DIR/reproduce.md and the charts.
use super::model::{ChartKind, Finding, Measured, Verdict};
use super::{Outcome, EXPERIMENTS};
use crate::report::plot::reproduce::{OrderStrip, ShareBars};
use crate::Error;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One row of reproduce.csv.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    experiment: &'a str,
    quantity: &'a str,
    expected: &'a str,
    observed: &'a str,
    verdict: Verdict,
    /// Why it cannot run here, or the likely reason it was not reproduced.
    note: &'a str,
}

/// `herd reproduce --list`.
pub fn list() -> String {
    let mut s = String::new();
    for e in EXPERIMENTS {
        let _ = writeln!(s, "{:<22} {}", e.name, e.title);
        let _ = writeln!(s, "{:<22} source: {}", "", e.source);
        if let Some(why) = (e.missing)() {
            let _ = writeln!(s, "{:<22} cannot run here: {why}", "");
        }
    }
    s
}

/// An experiment's findings, for the terminal.
pub fn text(e: &super::Experiment, findings: &[Finding]) -> String {
    let mut s = format!("== {}: {}\n", e.name, Verdict::overall(findings));
    for f in findings {
        let _ = writeln!(
            s,
            "   {:<15} {}: expected {}, observed {}",
            f.verdict.name(),
            f.quantity,
            f.expected,
            f.observed
        );
        if !f.note.is_empty() {
            let _ = writeln!(s, "   {:<15} ({})", "", f.note);
        }
    }
    s.trim_end().to_string()
}

/// One line per experiment: its verdict.
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut s = String::from("\nexperiment             verdict\n");
    for o in outcomes {
        let _ = writeln!(
            s,
            "{:<22} {}",
            o.experiment.name,
            Verdict::overall(&o.findings)
        );
    }
    s.trim_end().to_string()
}

/// Markdown cell text: no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(dir: &Path, outcomes: &[Outcome], charts: &[(String, PathBuf)]) -> String {
    let mut s =
        String::from("# herd reproduce\n\n| experiment | verdict | source |\n|---|---|---|\n");
    for o in outcomes {
        let e = o.experiment;
        let _ = writeln!(
            s,
            "| [`{}`](#{}) | {} | {} |",
            e.name,
            e.name,
            Verdict::overall(&o.findings),
            cell(e.source)
        );
    }
    for o in outcomes {
        let e = o.experiment;
        let _ = write!(
            s,
            "\n<a id=\"{}\"></a>\n## {}: {}\n\n**Source:** {}\n\n**Setup:** {}\n\n**Expected:** {}\n\n",
            e.name, e.name, e.title, e.source, e.setup, e.expected
        );
        s.push_str("| quantity | expected | observed | verdict | note |\n|---|---|---|---|---|\n");
        for f in &o.findings {
            let _ = writeln!(
                s,
                "| {} | {} | {} | **{}** | {} |",
                cell(&f.quantity),
                cell(&f.expected),
                cell(&f.observed),
                f.verdict,
                cell(&f.note)
            );
        }
        for (name, path) in charts.iter().filter(|(n, _)| n == e.name) {
            let file = path
                .file_name()
                .map_or(String::new(), |f| f.to_string_lossy().into());
            let _ = write!(s, "\n![{name}]({file})\n");
        }
        if dir.join(e.name).is_dir() {
            let _ = write!(s, "\nRaw rows: [`{}/`]({}/)\n", e.name, e.name);
        }
    }
    s
}

/// Write DIR/reproduce.csv, DIR/reproduce.md and the charts; the paths written.
pub fn write(dir: &Path, outcomes: &[Outcome]) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let csv_path = dir.join("reproduce.csv");
    let csv_err = |e| Error::Csv {
        path: csv_path.clone(),
        source: e,
    };
    let mut w = csv::Writer::from_path(&csv_path).map_err(csv_err)?;
    for o in outcomes {
        for f in &o.findings {
            w.serialize(CsvRow {
                experiment: o.experiment.name,
                quantity: &f.quantity,
                expected: &f.expected,
                observed: &f.observed,
                verdict: f.verdict,
                note: &f.note,
            })
            .map_err(csv_err)?;
        }
    }
    w.flush().map_err(|e| Error::file(&csv_path, e))?;
    written.push(csv_path.clone());

    let mut charts = Vec::new();
    for o in outcomes {
        if let Some(p) = chart(dir, o)? {
            charts.push((o.experiment.name.to_string(), p.clone()));
            written.push(p);
        }
    }
    let md = dir.join("reproduce.md");
    std::fs::write(&md, markdown(dir, outcomes, &charts)).map_err(|e| Error::file(&md, e))?;
    written.insert(1, md);
    Ok(written)
}

/// The experiment's chart as DIR/NAME.svg, when it has one and something was measured.
fn chart(dir: &Path, o: &Outcome) -> Result<Option<PathBuf>, Error> {
    let e = o.experiment;
    match e.chart {
        ChartKind::None => Ok(None),
        ChartKind::Strip => {
            let rows: Vec<(String, Vec<usize>)> = o
                .observed
                .0
                .iter()
                .filter_map(|(l, m)| match m {
                    Measured::Order(seq) => Some((l.clone(), seq.clone())),
                    Measured::Run { .. } => None,
                })
                .collect();
            if rows.is_empty() {
                return Ok(None);
            }
            let c = OrderStrip {
                stem: e.name.to_string(),
                title: e.title.to_string(),
                rows,
            };
            crate::report::plot::render_svg(&c, dir).map(Some)
        }
        ChartKind::Shares => {
            let runs: Vec<(String, Vec<f64>)> = o
                .observed
                .0
                .iter()
                .filter_map(|(l, m)| match m {
                    Measured::Run { workers, .. } => {
                        Some((l.clone(), super::model::ranked_shares(workers)))
                    }
                    Measured::Order(_) => None,
                })
                .collect();
            if runs.is_empty() {
                return Ok(None);
            }
            let c = ShareBars {
                stem: e.name.to_string(),
                title: e.title.to_string(),
                runs,
            };
            crate::report::plot::render_svg(&c, dir).map(Some)
        }
    }
}
