//! How a strategy looks in every chart: its colour, and for a strategy run with non-default
//! flags (`reuseport-ebpf least`, `epoll-shared accepts-per-wakeup=4`: the results' label, see
//! `strategy_options` in the CSV schema) the same colour, a dashed line and a marker of its
//! own, so that it stands apart from the strategy run plainly and from its other variants.
use super::de;
use crate::report::aggregate::strategy_rank;
use crate::strategy::StrategyKind;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The strategy part of a label: `reuseport-ebpf` of `reuseport-ebpf least`.
fn base(name: &str) -> &str {
    name.split_once(' ').map_or(name, |(b, _)| b)
}

/// Whether `name` is a strategy run with flags (drawn dashed).
pub fn is_variant(name: &str) -> bool {
    name.split_once(' ')
        .is_some_and(|(b, _)| strategy_rank(b) < StrategyKind::ALL.len())
}

/// A colour per strategy, the same in every chart (Tableau 20: one colour for each of the
/// strategies, dark and light shades of ten hues).
pub fn colour(strategy: &str) -> RGBColor {
    const P: [(u8, u8, u8); 20] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
        (174, 199, 232),
        (255, 187, 120),
        (152, 223, 138),
        (255, 152, 150),
        (197, 176, 213),
        (196, 156, 148),
        (247, 182, 210),
        (199, 199, 199),
        (219, 219, 141),
        (158, 218, 229),
    ];
    // A strategy's own colour; `herd-S` (a `herd load --label`) takes S's; any other name (nginx,
    // gunicorn, ...) a colour from a hash of its name, stable from chart to chart.
    let known = |n: &str| Some(strategy_rank(n)).filter(|&i| i < StrategyKind::ALL.len());
    let i = known(base(strategy))
        .or_else(|| strategy.strip_prefix("herd-").and_then(known))
        .unwrap_or_else(|| {
            strategy.bytes().fold(0x811c_9dc5_u32, |h, b| {
                (h ^ b as u32).wrapping_mul(0x0100_0193)
            }) as usize
        });
    let (r, g, b) = P[i % P.len()];
    RGBColor(r, g, b)
}

/// The mark drawn at each point of a line chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

/// Circles for a strategy run plainly (and any other name); for a variant, one of three other
/// marks chosen by its flags.
pub fn marker(name: &str) -> Marker {
    let Some((_, flags)) = name.split_once(' ').filter(|_| is_variant(name)) else {
        return Marker::Circle;
    };
    let h = flags.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    [Marker::Triangle, Marker::Square, Marker::Cross][h as usize % 3]
}

/// Draw `m` at pixel (x, y) on `area`.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    m: Marker,
    (x, y): (i32, i32),
    c: RGBColor,
) -> Result<(), String> {
    match m {
        Marker::Circle => area.draw(&Circle::new((x, y), 4, c.filled())),
        Marker::Triangle => area.draw(&TriangleMarker::new((x, y), 6, c.filled())),
        Marker::Square => area.draw(&Rectangle::new(
            [(x - 4, y - 4), (x + 4, y + 4)],
            c.filled(),
        )),
        Marker::Cross => area.draw(&Cross::new((x, y), 5, ShapeStyle::from(c).stroke_width(2))),
    }
    .map_err(de)
}

/// A legend in its own column on the right: one coloured line (dashed for a variant), its
/// marker, and the name per entry.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
) -> Result<(), String> {
    for (i, (name, c)) in entries.iter().enumerate() {
        let y = 40 + 24 * i as i32;
        let style = ShapeStyle::from(c).stroke_width(3);
        let segments: Vec<Vec<(i32, i32)>> = match is_variant(name) {
            true => vec![
                vec![(8, y), (16, y)],
                vec![(20, y), (28, y)],
                vec![(32, y), (36, y)],
            ],
            false => vec![vec![(8, y), (36, y)]],
        };
        for seg in segments {
            area.draw(&PathElement::new(seg, style)).map_err(de)?;
        }
        draw_marker(area, marker(name), (22, y), *c)?;
        area.draw(&Text::new(
            name.clone(),
            (44, y - 8),
            ("sans-serif", 15).into_font(),
        ))
        .map_err(de)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_keeps_its_strategy_colour_and_gets_its_own_look() {
        assert_eq!(colour("reuseport-ebpf least"), colour("reuseport-ebpf"));
        assert!(is_variant("reuseport-ebpf least") && !is_variant("reuseport-ebpf"));
        assert!(!is_variant("nginx 1.22"));
        assert_eq!(marker("blocking"), Marker::Circle);
        assert_ne!(marker("epoll-shared accepts-per-wakeup=4"), Marker::Circle);
        // Every strategy its own colour.
        let mut seen: Vec<RGBColor> = StrategyKind::ALL.iter().map(|k| colour(k.name())).collect();
        seen.dedup();
        let n = seen.len();
        seen.sort_by_key(|c| (c.0, c.1, c.2));
        seen.dedup();
        assert_eq!(seen.len(), n);
        assert_eq!(n, StrategyKind::ALL.len());
    }
}
