//! Each worker's share of the accepted connections, for one strategy at one worker count. In
//! each run the workers are ranked by their share (busiest first), and the bar at rank k is the
//! median over the repeats of the k-th largest share, with a min–max bar: ranking first keeps
//! an imbalance visible even when a different worker is the busy one in each repeat. The title
//! gives Jain's fairness index (median of the repeats).
//!
//! The same chart shows, as its [`Measure`] says, the share of the requests answered or of the
//! connections held open (time-averaged): in the event model a worker holds many connections
//! at once, so these are the skew operators see.
use super::{colour, de, num, titled, Chart};
use crate::report::aggregate::{Group, Stat};
use crate::report::results::Results;
use crate::report::row::WorkerRow;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// What is shared among the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Accepted connections (`share`, `jain_fairness`).
    Connections,
    /// Requests answered (`request_share`, `request_jain`).
    Requests,
    /// Connections held open, time-averaged over the phase (`open_share`).
    Open,
}

impl Measure {
    fn stem(self) -> &'static str {
        match self {
            Measure::Connections => "share",
            Measure::Requests => "share-requests",
            Measure::Open => "share-open",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Measure::Connections => "accepted connections",
            Measure::Requests => "requests answered",
            Measure::Open => "connections held open (time-averaged)",
        }
    }

    fn of(self, w: &WorkerRow) -> Option<f64> {
        match self {
            Measure::Connections => w.share,
            Measure::Requests => w.request_share,
            Measure::Open => w.open_share,
        }
    }
}

/// Jain's index of shares (scale-free, so shares do as well as counts); 1 when all are 0.
fn jain(shares: &[f64]) -> f64 {
    let sum: f64 = shares.iter().sum();
    let sq: f64 = shares.iter().map(|x| x * x).sum();
    if shares.is_empty() || sq == 0.0 {
        1.0
    } else {
        sum * sum / (shares.len() as f64 * sq)
    }
}

pub struct ShareChart {
    measure: Measure,
    stem: String,
    strategy: String,
    workers: u64,
    subtitle: String,
    jain: Option<Stat>,
    /// Rank (0 = busiest) to the share in percent over the repeats.
    ranks: Vec<Stat>,
}

impl ShareChart {
    /// The chart of one cell; `None` when no run of it has per-worker shares (the server was
    /// not measured).
    pub fn new(
        g: &Group<'_>,
        results: &Results,
        strategy: &str,
        workers: u64,
        suffix: &str,
    ) -> Option<Self> {
        Self::of(Measure::Connections, g, results, strategy, workers, suffix)
    }

    /// The chart of `measure`'s shares.
    pub fn of(
        measure: Measure,
        g: &Group<'_>,
        results: &Results,
        strategy: &str,
        workers: u64,
        suffix: &str,
    ) -> Option<Self> {
        let runs = g.cell(strategy, workers);
        let mut per_run: Vec<Vec<f64>> = Vec::new();
        let mut jains = Vec::new();
        for r in &runs {
            let rows: Vec<_> = results
                .workers
                .iter()
                .filter(|w| w.run_id == r.row.run_id)
                .collect();
            let mut shares: Vec<f64> = crate::report::kernel::share_rows(&rows)
                .into_iter()
                .filter_map(|w| measure.of(w).map(|s| s * 100.0))
                .collect();
            jains.extend(match measure {
                Measure::Connections => r.row.jain_fairness,
                Measure::Requests => r.row.request_jain,
                Measure::Open => (!shares.is_empty()).then(|| jain(&shares)),
            });
            shares.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
            if !shares.is_empty() {
                per_run.push(shares);
            }
        }
        if per_run.is_empty() || !g.condition.server_measured() {
            return None;
        }
        let n = per_run.iter().map(Vec::len).max().unwrap_or(0);
        let ranks = (0..n)
            .filter_map(|k| Stat::of(per_run.iter().filter_map(|s| s.get(k).copied())))
            .collect();
        Some(ShareChart {
            measure,
            stem: format!(
                "{}-{}-w{workers}{suffix}",
                measure.stem(),
                strategy.replace(' ', "-").replace('=', "")
            ),
            strategy: strategy.to_string(),
            workers,
            subtitle: format!(
                "{}; {}; workers ranked by share in each run, median of {} repeat(s), bars min–max",
                g.condition.label(),
                g.host_label(),
                per_run.len()
            ),
            jain: Stat::of(jains),
            ranks,
        })
    }
}

impl Chart for ShareChart {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        let jain = match self.jain {
            Some(j) if j.n > 1 => format!("{:.3} ({:.3}–{:.3})", j.median, j.min, j.max),
            Some(j) => format!("{:.3}", j.median),
            None => "n/a".into(),
        };
        let what = match self.measure {
            Measure::Connections => "connections",
            Measure::Requests => "requests",
            Measure::Open => "open connections",
        };
        format!(
            "Per-worker share of {what}: {}, {} workers, Jain index {jain}",
            self.strategy, self.workers
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(area, &self.title(), &self.subtitle)?;
        let n = self.ranks.len().max(1);
        let even = 100.0 / n as f64;
        let top = self.ranks.iter().map(|s| s.max).fold(even, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.5f64..n as f64 + 0.5, 0.0f64..top)
            .map_err(de)?;
        let ticks = n.min(32);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(ticks)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("worker rank in its run (1 = busiest)")
            .y_desc(format!("share of {}, %", self.measure.what()))
            .y_label_formatter(&|v| num(*v))
            .label_style((super::FONT, 14))
            .draw()
            .map_err(de)?;
        let c = colour(&self.strategy);
        chart
            .draw_series(self.ranks.iter().enumerate().map(|(k, s)| {
                let x = k as f64 + 1.0;
                Rectangle::new(
                    [(x - 0.38, 0.0), (x + 0.38, s.median)],
                    c.mix(0.75).filled(),
                )
            }))
            .map_err(de)?;
        for (k, s) in self.ranks.iter().enumerate().filter(|(_, s)| s.n > 1) {
            let x = k as f64 + 1.0;
            for seg in [
                vec![(x, s.min), (x, s.max)],
                vec![(x - 0.15, s.min), (x + 0.15, s.min)],
                vec![(x - 0.15, s.max), (x + 0.15, s.max)],
            ] {
                chart
                    .draw_series(std::iter::once(PathElement::new(seg, BLACK)))
                    .map_err(de)?;
            }
        }
        // The even share is a reference, not a grid line: dashed, in black (no strategy's
        // family colour), over the bars, with its label in the legend.
        let reference = ShapeStyle::from(RGBColor(0, 0, 0)).stroke_width(2);
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                vec![(0.5, even), (n as f64 + 0.5, even)],
                8,
                5,
                reference,
            )))
            .map_err(de)?
            .label(format!("even share, {even:.1}% (100% / {n} workers)"))
            .legend(move |(x, y)| {
                DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, reference)
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((super::FONT, 14))
            .draw()
            .map_err(de)
    }
}
