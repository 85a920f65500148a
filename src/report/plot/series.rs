//! The `herd series` chart: for each collection method (and mode), the master's collection
//! time per term, system calls per term and wakeups per term against the number of workers,
//! on log-scaled worker axes, from DIR/series.csv (medians of repeated rows). Written as PNG
//! and SVG. Text uses the embedded DejaVu Sans, so a machine without font packages renders it.
use crate::report::series::SeriesRow;
use crate::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One line: (collect, mode) → points (workers, value).
type Lines = BTreeMap<(String, String), Vec<(f64, f64)>>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median of `metric` per (collect, mode, workers).
fn lines(rows: &[SeriesRow], metric: fn(&SeriesRow) -> f64) -> Lines {
    let mut groups: BTreeMap<(String, String, u32), Vec<f64>> = BTreeMap::new();
    for r in rows {
        let key = (r.collect.clone(), r.mode.clone(), r.workers);
        groups.entry(key).or_default().push(metric(r));
    }
    let mut out = Lines::new();
    for ((c, m, w), v) in groups {
        out.entry((c, m))
            .or_default()
            .push((f64::from(w), median(v)));
    }
    out
}

fn color(collect: &str) -> RGBColor {
    match collect {
        "sequential" => RGBColor(0x44, 0x44, 0x44),
        "select" => RGBColor(0xd6, 0x27, 0x28),
        "poll" => RGBColor(0x1f, 0x77, 0xb4),
        _ => RGBColor(0x2c, 0xa0, 0x2c),
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    data: &Lines,
) -> Result<(), String> {
    let pts = data.values().flatten();
    let (mut x0, mut x1, mut y1) = (f64::MAX, 1.0f64, 1e-9f64);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let x0 = if x0 == f64::MAX { 1.0 } else { x0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (super::FONT, 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), 0.0..y1 * 1.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("workers (log scale)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style((super::FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for ((collect, mode), points) in data {
        let c = color(collect);
        let style = if mode == "pool" {
            c.mix(0.55).stroke_width(2)
        } else {
            c.stroke_width(2)
        };
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))
            .map_err(|e| e.to_string())?
            .label(format!("{collect} ({mode})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((super::FONT, 12))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())
}

fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    rows: &[SeriesRow],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, body) = root.split_vertically(36);
    top.titled(
        "herd series: collecting N results over pipes (one process per term / pool)",
        (super::FONT, 20),
    )
    .map_err(|e| e.to_string())?;
    let areas = body.split_evenly((1, 3));
    panel(
        &areas[0],
        "collect time per term (µs)",
        &lines(rows, |r| r.collect_us_per_term),
    )?;
    panel(
        &areas[1],
        "master syscalls per term",
        &lines(rows, |r| r.syscalls_per_term),
    )?;
    panel(
        &areas[2],
        "master wakeups per term",
        &lines(rows, |r| r.wakeups_per_term),
    )?;
    root.present().map_err(|e| e.to_string())
}

/// Draw `rows` to `png` and `svg`.
pub fn draw(rows: &[SeriesRow], png: &Path, svg: &Path) -> Result<(), Error> {
    super::register_font()?;
    let size = (1500, 520);
    draw_on(BitMapBackend::new(png, size).into_drawing_area(), rows)
        .map_err(|e| Error::Run(format!("{}: {e}", png.display())))?;
    draw_on(SVGBackend::new(svg, size).into_drawing_area(), rows)
        .map_err(|e| Error::Run(format!("{}: {e}", svg.display())))
}

/// Read DIR/series.csv, write DIR/series.png and DIR/series.svg; returns the files written.
pub fn draw_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    draw_dir_to(dir, dir)
}

/// Read DIR/series.csv, write OUT/series.png and OUT/series.svg; returns the files written.
pub fn draw_dir_to(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, Error> {
    let csv_path = dir.join("series.csv");
    let usage = |e: String| Error::Usage(format!("--plot {}: {e}", dir.display()));
    let mut reader = csv::Reader::from_path(&csv_path)
        .map_err(|e| usage(format!("{}: {e}", csv_path.display())))?;
    let rows = reader
        .deserialize::<SeriesRow>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(format!("{}: {e}", csv_path.display())))?;
    if rows.is_empty() {
        return Err(usage(format!("{}: no rows", csv_path.display())));
    }
    let (png, svg) = (out.join("series.png"), out.join("series.svg"));
    draw(&rows, &png, &svg)?;
    Ok(vec![png, svg])
}
