//! One metric against the worker count, one line per strategy: the median of the repeats, with
//! a bar from the minimum to the maximum. The x axis is logarithmic with a tick at every worker
//! count; points of different strategies are offset a little sideways so their bars do not
//! hide each other. The y axis is logarithmic where the values span more than a decade and a
//! half (the 1–5 range then stays readable beside 60), or where the spec asks for it. Each
//! strategy has its family's colour, its own marker and dash ([`super::style`]).
use super::style::{styles, Style};
use super::{de, legend, log_ticks, num, titled, Chart, SIZE};
use crate::report::aggregate::{Group, Metric, Stat};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What a metric chart shows.
pub struct MetricSpec {
    pub stem: &'static str,
    pub title: &'static str,
    pub y_label: &'static str,
    pub log_y: bool,
    pub metric: Metric,
}

/// The metric charts every results directory gets.
pub const METRICS: &[MetricSpec] = &[
    MetricSpec {
        stem: "conn_per_s",
        title: "Throughput vs workers",
        y_label: "connections per second",
        log_y: false,
        metric: |r| Some(r.conn_per_s),
    },
    MetricSpec {
        stem: "latency_p50",
        title: "Median latency (p50) vs workers",
        y_label: "p50 latency, µs (connect() to full response)",
        log_y: false,
        metric: |r| r.latency_p50_us,
    },
    MetricSpec {
        stem: "latency_p99",
        title: "Tail latency (p99) vs workers",
        y_label: "p99 latency, µs (connect() to full response)",
        log_y: false,
        metric: |r| r.latency_p99_us,
    },
    MetricSpec {
        stem: "wakeups_per_accept",
        title: "Userspace wakeups per accepted connection vs workers",
        y_label: "userspace wakeups / accept (returns from the wait; log scale)",
        log_y: true,
        metric: |r| r.wakeups_per_accept,
    },
    MetricSpec {
        stem: "spurious_per_accept",
        title: "Spurious wakeups per accepted connection vs workers",
        y_label: "woke and got no connection / accept",
        log_y: false,
        metric: |r| r.spurious_per_accept,
    },
    MetricSpec {
        stem: "eagain_per_accept",
        title: "EAGAIN per accepted connection vs workers",
        y_label: "accept() returning EAGAIN / accept",
        log_y: false,
        metric: |r| r.eagain_per_accept,
    },
    MetricSpec {
        stem: "ctx_switches_per_accept",
        title: "Context switches per accepted connection vs workers",
        y_label: "workers' context switches / accept (kernel's count)",
        log_y: false,
        metric: |r| r.ctx_switches_per_accept,
    },
    MetricSpec {
        stem: "cpu_us_per_conn",
        title: "Worker CPU time per connection vs workers",
        y_label: "workers' on-CPU µs / connection (schedstat)",
        log_y: false,
        metric: |r| r.cpu_us_per_conn,
    },
];

/// One line of the chart.
struct Line {
    name: String,
    points: Vec<(u64, Stat)>,
    style: Style,
}

/// Whether `values` call for a log axis: all positive and spanning more than 1.5 decades.
fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, 0f64);
    for v in values {
        if v <= 0.0 {
            return false;
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    hi > 0.0 && hi / lo > 10f64.powf(1.5)
}

pub struct MetricChart {
    stem: String,
    title: String,
    subtitle: String,
    y_label: String,
    log_y: bool,
    workers: Vec<u64>,
    lines: Vec<Line>,
}

impl MetricChart {
    /// The chart of `spec` for `g`; `None` when no run of `g` measured it (a chart of nothing
    /// would read as zeros) or the runs have no worker count (`herd load`).
    pub fn new(g: &Group<'_>, spec: &MetricSpec, suffix: &str) -> Option<Self> {
        if !g.condition.server_measured() {
            return None;
        }
        let names = g.strategies();
        let looks = styles(&names);
        let lines: Vec<Line> = names
            .into_iter()
            .zip(looks)
            .map(|(s, style)| Line {
                points: g.series(&s, spec.metric),
                name: s,
                style,
            })
            .collect();
        if lines.iter().all(|l| l.points.is_empty()) {
            return None;
        }
        let repeats = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|(_, s)| s.n))
            .max()
            .unwrap_or(0);
        let log_y = spec.log_y
            || spans_decades(
                lines
                    .iter()
                    .flat_map(|l| l.points.iter().flat_map(|(_, s)| [s.min, s.max])),
            );
        let y_label = if log_y && !spec.y_label.contains("log scale") {
            format!("{} (log scale)", spec.y_label)
        } else {
            spec.y_label.to_string()
        };
        Some(MetricChart {
            stem: format!("{}{suffix}", spec.stem),
            title: spec.title.to_string(),
            subtitle: format!(
                "{}; {}; median of {repeats} repeat(s), bars min–max",
                g.condition.label(),
                g.host_label()
            ),
            y_label,
            log_y,
            workers: g.workers(),
            lines,
        })
    }

    /// The y range: from 0 (or the smallest positive value on a log axis) to the largest.
    fn y_range(&self) -> (f64, f64) {
        let all = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().flat_map(|(_, s)| [s.min, s.max]));
        if self.log_y {
            let pos: Vec<f64> = all.filter(|v| *v > 0.0).collect();
            let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = pos.iter().copied().fold(0.0, f64::max);
            // At least 0.5 to 2, so that a flat line at 1 (no herd) reads as flat.
            if pos.is_empty() {
                (0.5, 2.0)
            } else {
                ((lo / 1.5).min(0.5), (hi * 1.5).max(2.0))
            }
        } else {
            let hi = all.fold(0.0, f64::max);
            (0.0, if hi > 0.0 { hi * 1.1 } else { 1.0 })
        }
    }

    fn x_range(&self) -> (f64, f64) {
        let lo = self.workers.first().copied().unwrap_or(1).max(1) as f64;
        let hi = self.workers.last().copied().unwrap_or(1).max(1) as f64;
        (lo / 1.4, hi * 1.4)
    }
}

/// Draw the lines and bars into a chart of any y coordinate.
fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
    log_y: bool,
) -> Result<(), String> {
    let n = lines.len() as f64;
    for (i, l) in lines.iter().enumerate() {
        let c = l.style.rgb();
        // Dodge: up to ±0.25 of a doubling on the log axis, so that strategies with the same
        // value (the locks at 2 wakeups per accept) show side by side, each by its marker.
        let dx = 2f64.powf(0.5 * (i as f64 - (n - 1.0) / 2.0) / n.max(1.0));
        let ok = |v: f64| !log_y || v > 0.0;
        let pts: Vec<(f64, Stat)> = l
            .points
            .iter()
            .filter(|(_, s)| ok(s.median))
            .map(|(w, s)| (*w as f64 * dx, *s))
            .collect();
        let medians: Vec<(f64, f64)> = pts.iter().map(|(x, s)| (*x, s.median)).collect();
        l.style.draw_line(chart, &medians, 2)?;
        for p in &medians {
            l.style.draw_marker(chart.plotting_area(), *p)?;
        }
        for (x, s) in pts.iter().filter(|(_, s)| s.n > 1 && ok(s.min)) {
            let (a, b) = (x / 1.015, x * 1.015);
            for seg in [
                vec![(*x, s.min), (*x, s.max)],
                vec![(a, s.min), (b, s.min)],
                vec![(a, s.max), (b, s.max)],
            ] {
                chart
                    .draw_series(std::iter::once(PathElement::new(seg, c)))
                    .map_err(de)?;
            }
        }
    }
    Ok(())
}

impl Chart for MetricChart {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(area, &self.title, &self.subtitle)?;
        let (plot, side) = body.split_horizontally(SIZE.0 - 215);
        let (xlo, xhi) = self.x_range();
        let (ylo, yhi) = self.y_range();
        let ticks: Vec<f64> = self.workers.iter().map(|&w| w as f64).collect();
        let x = (xlo..xhi).log_scale().with_key_points(ticks);
        let mut b = ChartBuilder::on(&plot);
        b.margin(12).x_label_area_size(50).y_label_area_size(80);
        let x_desc = "workers (log scale)";
        if self.log_y {
            let mut chart = b
                .build_cartesian_2d(
                    x,
                    (ylo..yhi)
                        .log_scale()
                        .with_key_points(log_ticks(ylo, yhi, 10)),
                )
                .map_err(de)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| num(*v))
                .label_style((super::FONT, 14))
                .draw()
                .map_err(de)?;
            draw_lines(&mut chart, &self.lines, true)?;
        } else {
            let mut chart = b
                .build_cartesian_2d(x, RangedCoordf64::from(ylo..yhi))
                .map_err(de)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(&self.y_label)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| num(*v))
                .label_style((super::FONT, 14))
                .draw()
                .map_err(de)?;
            draw_lines(&mut chart, &self.lines, false)?;
        }
        let entries: Vec<(String, Style)> = self
            .lines
            .iter()
            .map(|l| (l.name.clone(), l.style))
            .collect();
        legend(&side, &entries)
    }
}
