//! Charts from a results directory, each as PNG and SVG. Every chart kind is one file
//! implementing [`Chart`]; `herd plot` (`crate::commands::plot`) lists which charts a directory
//! gets, so a new chart is a new file and one line there. Text is drawn with DejaVu Sans embedded in the binary, so
//! charts render the same on a machine with no font installed.
pub(crate) mod cdf;
pub(crate) mod lines;
pub(crate) mod series;
pub(crate) mod share;
pub(crate) mod style;
pub(crate) mod text;

pub use style::{colour, is_variant, legend, marker, Marker};

use crate::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

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

/// The sans-serif font, registered once per process.
pub(crate) fn register_font() -> Result<(), Error> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| Error::Run("the embedded DejaVu Sans font did not load".into()))
}

/// Title and subtitle, then the area left for the chart.
pub fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    area.fill(&WHITE).map_err(de)?;
    let a = area
        .titled(title, ("sans-serif", 24).into_font().color(&BLACK))
        .map_err(de)?;
    a.titled(
        subtitle,
        ("sans-serif", 15).into_font().color(&RGBColor(80, 80, 80)),
    )
    .map_err(de)
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
