//! Charts from a results directory, each as PNG and SVG. Every chart kind is one file
//! implementing [`Chart`]; `herd plot` (`crate::commands::plot`) lists which charts a directory
//! gets, so a new chart is a new file and one line there. Text is drawn with DejaVu Sans
//! embedded in the binary, so charts render the same on a machine with no font installed; each
//! strategy's colour, marker and dash come from [`style`].
pub(crate) mod cdf;
pub(crate) mod lines;
pub(crate) mod reproduce;
pub(crate) mod series;
pub(crate) mod share;
pub(crate) mod style;
pub(crate) mod text;

use crate::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The family every chart's text is set in: the embedded DejaVu Sans, named with a generic
/// fallback so that an SVG viewer without it still picks a sans-serif face.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (1100, 680);

/// One chart, drawable on any plotters backend.
pub trait Chart {
    /// File name without extension.
    fn stem(&self) -> String;
    /// The title line; it is also in the SVG as text.
    fn title(&self) -> String;
    /// Draw the chart below the titles.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Any plotters error as text.
pub fn de(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A tick label: no more digits than a reader needs (25000, 12.5, 1.25, 0.125).
pub fn num(v: f64) -> String {
    let a = v.abs();
    let d = if a >= 100.0 || a == 0.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Ticks for a log axis over `lo..hi`, at most `max` of them: 1 to 9 per decade, or 1-2-5, or
/// 1-3, or powers of ten only, or every other power of ten, whichever is the densest that fits.
pub fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let pick = |mults: &[f64], every: i32| -> Vec<f64> {
        let mut out = Vec::new();
        let mut e = lo.log10().floor() as i32;
        while 10f64.powi(e) <= hi {
            if e.rem_euclid(every) == 0 {
                out.extend(
                    mults
                        .iter()
                        .map(|m| m * 10f64.powi(e))
                        .filter(|v| *v >= lo && *v <= hi),
                );
            }
            e += 1;
        }
        out
    };
    let mut last = Vec::new();
    const ALL: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    for (mults, every) in [
        (&ALL[..], 1),
        (&[1.0, 2.0, 5.0][..], 1),
        (&[1.0, 3.0][..], 1),
        (&[1.0][..], 1),
        (&[1.0][..], 2),
    ] {
        last = pick(mults, every);
        if last.len() <= max {
            return last;
        }
    }
    last
}

/// The embedded font, registered once per process under [`FONT`].
pub(crate) fn register_font() -> Result<(), Error> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| Error::Run("the embedded DejaVu Sans font did not load".into()))
}

/// A strategy's colour alone (the share charts, one strategy each): its [`style`].
pub fn colour(strategy: &str) -> RGBColor {
    style::styles(&[strategy.to_string()])[0].rgb()
}

/// Title and subtitle, then the area left for the chart.
pub fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    area.fill(&WHITE).map_err(de)?;
    let a = area
        .titled(title, (FONT, 24).into_font().color(&BLACK))
        .map_err(de)?;
    a.titled(
        subtitle,
        (FONT, 15).into_font().color(&RGBColor(80, 80, 80)),
    )
    .map_err(de)
}

/// A legend in its own column on the right, grouped by family (a grey heading each): a sample
/// of each entry's line (its colour, dash and marker) and its name.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, style::Style)],
) -> Result<(), String> {
    let mut sorted: Vec<&(String, style::Style)> = entries.iter().collect();
    sorted.sort_by_key(|(_, st)| st.family);
    let mut y = 30;
    let mut family = None;
    for (name, st) in sorted {
        if family != Some(st.family) {
            family = Some(st.family);
            let grey = RGBColor(110, 110, 110);
            area.draw(&Text::new(
                st.family.name(),
                (6, y - 6),
                (FONT, 12).into_font().color(&grey),
            ))
            .map_err(de)?;
            y += 16;
        }
        let (on, off) = match st.dash {
            style::Dash::Solid => (36, 0),
            style::Dash::Dashed => (9, 5),
            style::Dash::Dotted => (2, 4),
        };
        let mut x = 6;
        while x < 42 {
            let end = (x + on).min(42);
            area.draw(&PathElement::new(
                vec![(x, y), (end, y)],
                ShapeStyle::from(st.rgb()).stroke_width(2),
            ))
            .map_err(de)?;
            x = end + off.max(1);
        }
        st.draw_marker(area, (24, y))?;
        area.draw(&Text::new(
            name.clone(),
            (50, y - 8),
            (FONT, 14).into_font(),
        ))
        .map_err(de)?;
        y += 21;
    }
    Ok(())
}

/// Write `chart` as OUT/STEM.svg alone (small enough to commit).
pub fn render_svg(chart: &impl Chart, out: &Path) -> Result<PathBuf, Error> {
    register_font()?;
    let svg = out.join(format!("{}.svg", chart.stem()));
    let fail = |e: String| Error::Run(format!("drawing {}: {e}", svg.display()));
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        chart.draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(de(e)))?;
    }
    Ok(svg)
}

/// Write `chart` as OUT/STEM.png and OUT/STEM.svg.
pub fn render(chart: &impl Chart, out: &Path) -> Result<Vec<PathBuf>, Error> {
    let png = out.join(format!("{}.png", chart.stem()));
    let svg = out.join(format!("{}.svg", chart.stem()));
    let fail = |p: &Path, e: String| Error::Run(format!("drawing {}: {e}", p.display()));
    {
        let backend =
            text::GlyphText::new(BitMapBackend::new(&png, SIZE)).map_err(|e| fail(&png, e))?;
        let root = backend.into_drawing_area();
        chart.draw(&root).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, de(e)))?;
    }
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        chart.draw(&root).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, de(e)))?;
    }
    Ok(vec![png, svg])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_fit_and_do_not_crowd() {
        assert_eq!(
            log_ticks(30.0, 95.0, 8),
            vec![30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
        );
        assert_eq!(
            log_ticks(15.0, 25_000.0, 8),
            vec![30.0, 100.0, 300.0, 1e3, 3e3, 1e4]
        );
        assert_eq!(
            log_ticks(0.5, 60.0, 10),
            vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        );
        for (lo, hi) in [(1.0, 1e9), (0.01, 5.0), (200.0, 900.0)] {
            let t = log_ticks(lo, hi, 8);
            assert!(t.len() >= 2 && t.len() <= 8, "{lo}..{hi}: {t:?}");
        }
        assert!(log_ticks(0.0, 1.0, 8).is_empty());
    }
}
