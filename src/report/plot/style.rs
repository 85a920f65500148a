//! How each strategy is drawn: a colour family per kind of strategy, and within it a shade, a
//! marker and a dash per member, so that no two lines of a chart look alike and opposite
//! behaviours never share a look.
//!
//! | family | hue | members |
//! |---|---|---|
//! | locks | blues | sysv-sem, pthread-mutex, fcntl, flock, posix-sem, accept-mutex, any `*lock*`, `*sem*`, `*mutex*` |
//! | readiness (epoll) | reds, oranges | epoll-*, poll, select, io-uring, any `*poll*`, `*select*`, `*uring*` |
//! | reuseport | greens | reuseport, reuseport-*, any `*reuseport*` |
//! | hand-off | purples | any `handoff*` / `hand-off*` |
//! | baselines | greys, browns | blocking (checked first: it holds `lock`), and every other name (nginx, gunicorn, `herd load --label`s) |
//!
//! The family comes from the name (`herd-S`, a `herd load --label`, is drawn as S), so a new
//! strategy lands in its family with no change here. Within a family, the strategies herd
//! knows take fixed places in [`StrategyKind::ALL`] order (the same look in every chart);
//! other names follow in name order. Member i gets shade i mod 4, marker i mod 7 and dash
//! i mod 3: the triple repeats only after 84 members.
use crate::report::aggregate::strategy_rank;
use crate::strategy::StrategyKind;
use plotters::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Locks,
    Readiness,
    Reuseport,
    Handoff,
    Baseline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    OpenCircle,
    OpenSquare,
    Cross,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Style {
    pub family: Family,
    pub colour: (u8, u8, u8),
    pub marker: Marker,
    pub dash: Dash,
}

const MARKERS: [Marker; 7] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::OpenCircle,
    Marker::OpenSquare,
    Marker::Cross,
];
const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];

impl Family {
    /// Four shades, dark to light, all readable on white.
    fn shades(self) -> [(u8, u8, u8); 4] {
        match self {
            Family::Locks => [
                (8, 69, 148),
                (33, 113, 181),
                (66, 146, 198),
                (107, 174, 214),
            ],
            Family::Readiness => [(165, 15, 21), (222, 45, 38), (241, 105, 19), (253, 141, 60)],
            Family::Reuseport => [(0, 109, 44), (35, 139, 69), (65, 171, 93), (116, 196, 118)],
            Family::Handoff => [
                (84, 39, 143),
                (106, 81, 163),
                (128, 125, 186),
                (158, 154, 200),
            ],
            Family::Baseline => [(37, 37, 37), (140, 81, 10), (99, 99, 99), (191, 129, 45)],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Locks => "locks",
            Family::Readiness => "epoll & readiness",
            Family::Reuseport => "reuseport",
            Family::Handoff => "hand-off",
            Family::Baseline => "baselines",
        }
    }

    /// The family of a strategy or server name, by what the name says; a strategy run with
    /// flags (`blocking accepts-per-wakeup=4`) by its strategy's name alone.
    pub fn of(name: &str) -> Family {
        let name = name.strip_prefix("herd-").unwrap_or(name);
        let n = match name.split_once(' ') {
            Some((s, _)) if strategy_rank(s) < StrategyKind::ALL.len() => s,
            _ => name,
        }
        .to_ascii_lowercase();
        let has = |keys: &[&str]| keys.iter().any(|k| n.contains(k));
        // `blocking` holds `lock`; `uwsgi-nolock`, `nginx-mutex-off` name a lock they go without.
        if n == "blocking" || has(&["nolock", "no-lock", "mutex-off", "lock-off"]) {
            Family::Baseline
        } else if has(&["handoff", "hand-off"]) {
            Family::Handoff
        } else if has(&["reuseport"]) {
            Family::Reuseport
        } else if has(&["epoll", "poll", "select", "uring"]) {
            Family::Readiness
        } else if has(&["sem", "mutex", "lock", "fcntl"]) {
            Family::Locks
        } else {
            Family::Baseline
        }
    }
}

/// A strategy's place among the known members of its family, in herd's order.
fn known_index(name: &str) -> Option<usize> {
    let name = name.strip_prefix("herd-").unwrap_or(name);
    let rank = strategy_rank(name);
    let me = StrategyKind::ALL.get(rank)?;
    let family = Family::of(me.name());
    Some(
        StrategyKind::ALL[..rank]
            .iter()
            .filter(|k| Family::of(k.name()) == family)
            .count(),
    )
}

fn style_at(family: Family, i: usize) -> Style {
    Style {
        family,
        colour: family.shades()[i % 4],
        marker: MARKERS[i % MARKERS.len()],
        dash: DASHES[i % DASHES.len()],
    }
}

/// The styles of the names in one chart, in the order given: known strategies at their fixed
/// places, other names after the known members of their family, in name order.
pub fn styles(names: &[String]) -> Vec<Style> {
    let known_in = |f: Family| {
        StrategyKind::ALL
            .iter()
            .filter(|k| Family::of(k.name()) == f)
            .count()
    };
    let mut unknown: Vec<&String> = names.iter().filter(|n| known_index(n).is_none()).collect();
    unknown.sort();
    unknown.dedup();
    names
        .iter()
        .map(|n| {
            let f = Family::of(n);
            let i = known_index(n).unwrap_or_else(|| {
                let before = unknown
                    .iter()
                    .filter(|u| Family::of(u) == f && **u < n)
                    .count();
                known_in(f) + before
            });
            style_at(f, i)
        })
        .collect()
}

impl Style {
    pub fn rgb(&self) -> RGBColor {
        RGBColor(self.colour.0, self.colour.1, self.colour.2)
    }

    /// A line through `points` (chart coordinates) in this style's dash, `width` px wide.
    pub fn draw_line<DB: DrawingBackend, X, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
        points: &[(f64, f64)],
        width: u32,
    ) -> Result<(), String>
    where
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        let st = ShapeStyle::from(self.rgb()).stroke_width(width);
        let pts = points.iter().copied();
        let r = match self.dash {
            Dash::Solid => chart.draw_series(LineSeries::new(pts, st)).map(drop),
            Dash::Dashed => chart
                .draw_series(DashedLineSeries::new(pts, 9, 5, st))
                .map(drop),
            Dash::Dotted => chart
                .draw_series(DashedLineSeries::new(pts, 2, 4, st))
                .map(drop),
        };
        r.map_err(super::de)
    }

    /// This style's marker at `at`, on any drawing area (chart or pixel coordinates).
    pub fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
        &self,
        area: &DrawingArea<DB, CT>,
        at: CT::From,
    ) -> Result<(), String> {
        let c = self.rgb();
        let fill = c.filled();
        let open = ShapeStyle::from(c).stroke_width(2);
        let e = EmptyElement::at(at);
        let r = match self.marker {
            Marker::Circle => area.draw(&(e + Circle::new((0, 0), 4, fill))),
            Marker::Square => area.draw(&(e + Rectangle::new([(-4, -4), (4, 4)], fill))),
            Marker::Triangle => {
                area.draw(&(e + Polygon::new(vec![(0, -5), (5, 4), (-5, 4)], fill)))
            }
            Marker::Diamond => {
                area.draw(&(e + Polygon::new(vec![(0, -6), (5, 0), (0, 6), (-5, 0)], fill)))
            }
            Marker::OpenCircle => area.draw(&(e + Circle::new((0, 0), 4, open))),
            Marker::OpenSquare => area.draw(&(e + Rectangle::new([(-4, -4), (4, 4)], open))),
            Marker::Cross => area.draw(&(e + Cross::new((0, 0), 5, open))),
        };
        r.map_err(super::de)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Servers compared from outside, and strategies run with flags (their `strategy_options`
    /// label), beside every strategy herd knows.
    const COMING: [&str; 7] = [
        "nginx",
        "gunicorn",
        "reuseport-ebpf least",
        "handoff-least accepts-per-wakeup=4",
        "epoll-shared accepts-per-wakeup=4",
        "blocking accepts-per-wakeup=4",
        "epoll-exclusive busy-delay=1ms",
    ];

    #[test]
    fn no_two_strategies_look_alike() {
        let mut names: Vec<String> = StrategyKind::ALL.iter().map(|k| k.name().into()).collect();
        names.extend(COMING.iter().map(|s| s.to_string()));
        names.sort();
        names.dedup();
        let st = styles(&names);
        for (i, a) in st.iter().enumerate() {
            for (j, b) in st.iter().enumerate().skip(i + 1) {
                let look = |s: &Style| (s.colour, s.marker, s.dash);
                assert_ne!(look(a), look(b), "{} and {}", names[i], names[j]);
            }
        }
        // A known strategy looks the same in every chart, whatever else is drawn.
        let alone = styles(&["epoll-et".to_string()]);
        let i = names.iter().position(|n| n == "epoll-et").unwrap();
        assert_eq!(alone[0], st[i]);
    }

    #[test]
    fn families_by_name_place_new_strategies() {
        for (name, f) in [
            ("sysv-sem", Family::Locks),
            ("accept-mutex", Family::Locks),
            ("flock", Family::Locks),
            ("fcntl", Family::Locks),
            ("epoll-shared", Family::Readiness),
            ("poll", Family::Readiness),
            ("select", Family::Readiness),
            ("io-uring", Family::Readiness),
            ("reuseport-cbpf", Family::Reuseport),
            ("reuseport-ebpf", Family::Reuseport),
            ("handoff-p2c", Family::Handoff),
            ("blocking", Family::Baseline),
            ("nginx", Family::Baseline),
            ("nginx-mutex-off", Family::Baseline),
            ("uwsgi-nolock", Family::Baseline),
            ("uwsgi-thunder-lock", Family::Locks),
            ("herd-epoll-et", Family::Readiness),
        ] {
            assert_eq!(Family::of(name), f, "{name}");
        }
        // Every strategy herd knows has a family other than the catch-all, but blocking.
        for k in StrategyKind::ALL {
            let f = Family::of(k.name());
            assert!(f != Family::Baseline || k.name() == "blocking", "{k}");
        }
        // A strategy run with flags (`S flags`, its strategy_options label) is in S's family
        // and looks unlike S: also `blocking`, whose name holds `lock`.
        let v = styles(&["reuseport-ebpf least".into(), "reuseport-ebpf".into()]);
        assert_eq!(v[0].family, Family::Reuseport);
        assert_ne!(v[0], v[1]);
        assert_eq!(
            Family::of("blocking accepts-per-wakeup=4"),
            Family::Baseline
        );
        assert_eq!(Family::of("handoff-rr busy-delay=1ms"), Family::Handoff);
        // The balancers each have a look of their own in their family.
        let b = ["handoff-rr", "handoff-least", "handoff-p2c"].map(String::from);
        let st = styles(&b);
        assert!(st.iter().all(|s| s.family == Family::Handoff));
        assert!(st[0] != st[1] && st[1] != st[2] && st[0] != st[2]);
        // `herd-S` is drawn as S.
        assert_eq!(
            styles(&["herd-poll".into()])[0],
            styles(&["poll".into()])[0]
        );
    }
}
