//! The latency distribution of each strategy at one worker count, from latency.csv: x is the
//! latency (log scale), y the fraction of connections at or below it, on a "nines" scale
//! (-log10(1 - p)) so that the tail up to p99.99 is as visible as the median. One line per
//! strategy, in its style ([`super::style`]): the repeat whose p99 is the median of the
//! repeats' p99s (the lower middle one of an even count), so the line is one measured run, not a
//! blend of several; markers at p50, p90, p99, p99.9 and p99.99.
use super::style::{styles, Style};
use super::{de, legend, log_ticks, num, titled, Chart, SIZE};
use crate::report::aggregate::Group;
use crate::report::results::{Results, Run};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Percentiles above this are left out: their nines coordinate is infinite at 100.
const TOP_PERCENTILE: f64 = 99.99;

struct Curve {
    style: Style,
    /// (latency µs, nines) points.
    points: Vec<(f64, f64)>,
}

/// The median repeat of a cell by p99 latency (the lower middle of an even count).
fn median_run<'a>(runs: &[&'a Run]) -> Option<&'a Run> {
    let mut by_p99: Vec<&Run> = runs
        .iter()
        .copied()
        .filter(|r| r.row.latency_p99_us.is_some())
        .collect();
    by_p99.sort_by(|a, b| {
        a.row
            .latency_p99_us
            .partial_cmp(&b.row.latency_p99_us)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    by_p99.get(by_p99.len().saturating_sub(1) / 2).copied()
}

pub struct CdfChart {
    stem: String,
    /// `4 workers`, or for `herd load` the URL loaded.
    what: String,
    subtitle: String,
    curves: Vec<Curve>,
    legend: Vec<(String, Style)>,
}

fn nines(p: f64) -> f64 {
    -(1.0 - p / 100.0).log10()
}

impl CdfChart {
    pub fn new(g: &Group<'_>, results: &Results, workers: u64, suffix: &str) -> Self {
        let strategies = g.strategies();
        let looks = styles(&strategies);
        let what = match &g.condition.target {
            None => format!("at {workers} workers"),
            Some(url) => format!("against {url}"),
        };
        let mut curves = Vec::new();
        let mut repeats = 0;
        for (s, style) in strategies.iter().zip(&looks) {
            let runs = g.cell(s, workers);
            repeats = repeats.max(runs.len());
            if let Some(r) = median_run(&runs) {
                let mut points: Vec<(f64, f64)> = results
                    .latency
                    .iter()
                    .filter(|l| l.run_id == r.row.run_id && l.metric == "latency")
                    .filter(|l| l.percentile <= TOP_PERCENTILE && l.value_us > 0.0)
                    .map(|l| (l.value_us, nines(l.percentile)))
                    .collect();
                points.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
                if !points.is_empty() {
                    curves.push(Curve {
                        style: *style,
                        points,
                    });
                }
            }
        }
        let stem = if g.condition.server_measured() {
            format!("latency_cdf-w{workers}{suffix}")
        } else {
            format!("latency_cdf{suffix}")
        };
        CdfChart {
            stem,
            what,
            subtitle: format!(
                "{}; {}; per strategy its median run by p99 (of {repeats} repeat(s)), connect() to full response",
                g.condition.label(),
                g.host_label()
            ),
            curves,
            legend: strategies
                .iter()
                .zip(looks)
                .map(|(s, st)| {
                    let name = if s.is_empty() { "herd load" } else { s };
                    (name.to_string(), st)
                })
                .collect(),
        }
    }
}

impl Chart for CdfChart {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        format!("Latency CDF {}", self.what)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(area, &self.title(), &self.subtitle)?;
        let (plot, side) = body.split_horizontally(SIZE.0 - 215);
        let xs = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0));
        let lo = xs.clone().fold(f64::INFINITY, f64::min);
        let hi = xs.fold(0.0, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > 0.0 {
            (lo / 1.3, hi * 1.3)
        } else {
            (1.0, 1000.0)
        };
        let top = nines(TOP_PERCENTILE);
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi, 8)),
                0.0..top + 0.1,
            )
            .map_err(de)?;
        // Explicit ticks, at most 8 on the log axis (1-2-5, or fewer per decade when the
        // range is wide), so that labels never run into each other; on the nines axis 0, 90,
        // 99, 99.9 and 99.99.
        chart
            .configure_mesh()
            .x_desc("latency, µs (log scale)")
            .y_desc("percentile (nines scale)")
            .y_labels(5)
            .y_label_formatter(&|v| {
                let p = 100.0 * (1.0 - 10f64.powf(-v));
                format!("{}", (p * 100.0).round() / 100.0)
            })
            .x_label_formatter(&|v| num(*v))
            .label_style((super::FONT, 14))
            .draw()
            .map_err(de)?;
        let marked = [50.0, 90.0, 99.0, 99.9, 99.99].map(nines);
        for c in &self.curves {
            c.style.draw_line(&mut chart, &c.points, 2)?;
            for p in c
                .points
                .iter()
                .filter(|p| marked.iter().any(|m| (p.1 - m).abs() < 1e-9))
            {
                c.style.draw_marker(chart.plotting_area(), *p)?;
            }
        }
        legend(&side, &self.legend)
    }
}
