//! `herd reproduce`'s pictures: a wake order as a strip (one row per strategy, one cell per
//! connection, coloured by the worker that took it), and per-worker shares as bars (one panel
//! per run, workers ranked busiest first, a dashed line at an even share).
use super::{colour, de, num, titled, Chart, FONT};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Which worker took each connection, one row per labelled sequence.
pub struct OrderStrip {
    pub stem: String,
    pub title: String,
    pub rows: Vec<(String, Vec<usize>)>,
}

/// A worker's colour in the strip: a fixed palette, repeated.
fn worker_colour(w: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    P[w % P.len()]
}

impl Chart for OrderStrip {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(
            area,
            &self.title(),
            "idle workers, one connection at a time; each cell is one connection, its number \
             and colour the worker that took it",
        )?;
        let (w, _) = body.dim_in_pixel();
        let n = self
            .rows
            .iter()
            .map(|(_, s)| s.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let left = 190i32;
        let cellw = ((w as i32 - left - 20) / n as i32).clamp(8, 60);
        let cellh = 44i32;
        for (i, (label, seq)) in self.rows.iter().enumerate() {
            let y = 40 + i as i32 * (cellh + 30);
            body.draw(&Text::new(
                label.clone(),
                (10, y + cellh / 2 - 9),
                (FONT, 17).into_font(),
            ))
            .map_err(de)?;
            for (k, &wk) in seq.iter().enumerate() {
                let x = left + k as i32 * cellw;
                body.draw(&Rectangle::new(
                    [(x, y), (x + cellw - 2, y + cellh)],
                    worker_colour(wk).filled(),
                ))
                .map_err(de)?;
                body.draw(&Text::new(
                    wk.to_string(),
                    (x + cellw / 2 - 5, y + cellh / 2 - 8),
                    (FONT, 15).into_font().color(&WHITE),
                ))
                .map_err(de)?;
            }
        }
        Ok(())
    }
}

/// Each run's workers ranked by share of the accepted connections.
pub struct ShareBars {
    pub stem: String,
    pub title: String,
    /// Label, shares (0–1) busiest first.
    pub runs: Vec<(String, Vec<f64>)>,
}

impl Chart for ShareBars {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(
            area,
            &self.title(),
            "share of the accepted connections per worker, ranked busiest first; dashed: an \
             even share",
        )?;
        let panels = body.split_evenly((1, self.runs.len().max(1)));
        for ((label, shares), panel) in self.runs.iter().zip(panels.iter()) {
            let n = shares.len().max(1);
            let even = 100.0 / n as f64;
            let top = shares.iter().map(|s| s * 100.0).fold(even, f64::max) * 1.15;
            let mut chart = ChartBuilder::on(panel)
                .caption(label, (FONT, 18))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(60)
                .build_cartesian_2d(0.5f64..n as f64 + 0.5, 0.0f64..top)
                .map_err(de)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.min(16))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .x_desc("worker rank (1 = busiest)")
                .y_desc("share, %")
                .y_label_formatter(&|v| num(*v))
                .label_style((FONT, 13))
                .draw()
                .map_err(de)?;
            let c = colour(label.split(['/', '@']).next().unwrap_or(label));
            chart
                .draw_series(shares.iter().enumerate().map(|(k, s)| {
                    let x = k as f64 + 1.0;
                    Rectangle::new([(x - 0.38, 0.0), (x + 0.38, s * 100.0)], c.filled())
                }))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(0.5, even), (n as f64 + 0.5, even)],
                    6,
                    4,
                    ShapeStyle::from(BLACK).stroke_width(1),
                )))
                .map_err(de)?;
        }
        Ok(())
    }
}
