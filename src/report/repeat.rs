//! `herd run --repeat N`: a line per run, then the median and the min–max of each headline
//! figure over the runs (a figure no run measured is left out; one some runs lack is taken
//! over the runs that have it, and says how many).
use super::client::fmt;
use super::row::RunRow;

type Get = fn(&RunRow) -> Option<f64>;

/// The headline figures: label, value, decimals.
const FIGURES: &[(&str, Get, usize)] = &[
    ("throughput (conn/s)", |r| Some(r.conn_per_s), 0),
    ("latency p50 (us)", |r| r.latency_p50_us, 1),
    ("latency p99 (us)", |r| r.latency_p99_us, 1),
    ("latency p99.9 (us)", |r| r.latency_p999_us, 1),
    ("lateness p99 (us)", |r| r.lateness_p99_us, 1),
    ("errors", |r| Some(r.errors as f64), 0),
    ("ctx switches / accept", |r| r.ctx_switches_per_accept, 3),
    ("wakeups / accept", |r| r.wakeups_per_accept, 3),
    ("worker CPU (us/conn)", |r| r.cpu_us_per_conn, 1),
    ("client CPU (us/conn)", |r| r.client_cpu_us_per_conn, 1),
    ("Jain fairness", |r| r.jain_fairness, 3),
    ("host CPUs busy (%)", |r| r.host_cpu_busy_pct, 1),
    ("foreign CPU (%)", |r| r.foreign_cpu_pct, 1),
];

/// The median of `v` (the mean of the middle two for an even count); `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(s[n / 2]),
        _ => Some((s[n / 2 - 1] + s[n / 2]) / 2.0),
    }
}

/// One run's line while the repeats go on.
pub fn one_line(i: usize, n: usize, r: &RunRow) -> String {
    format!(
        "  run {i}/{n} {}: {:.0} conn/s, latency p50 {} us, p99 {} us, {} errors",
        r.run_id,
        r.conn_per_s,
        fmt(r.latency_p50_us, 1),
        fmt(r.latency_p99_us, 1),
        r.errors
    )
}

/// The median and min–max of each headline figure over `rows`.
pub fn summary(rows: &[RunRow]) -> String {
    let mut s = format!(
        "  {:<26} {:>12}   {}\n",
        format!("{} runs", rows.len()),
        "median",
        "min – max"
    );
    for (label, get, d) in FIGURES {
        let v: Vec<f64> = rows.iter().filter_map(get).collect();
        let Some(m) = median(&v) else { continue };
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let of = if v.len() < rows.len() {
            format!("  ({} of {} runs)", v.len(), rows.len())
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  {label:<26} {m:>12.d$}   {lo:.d$} – {hi:.d$}{of}\n",
            d = *d
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ranges_over_the_runs_that_measured_a_figure() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let rows: Vec<RunRow> = [100.0, 300.0, 200.0]
            .iter()
            .enumerate()
            .map(|(i, &c)| RunRow {
                conn_per_s: c,
                latency_p99_us: (i > 0).then_some(c / 10.0),
                ..Default::default()
            })
            .collect();
        let s = summary(&rows);
        assert!(s.contains("3 runs"), "{s}");
        assert!(
            s.contains("throughput (conn/s)                 200   100 – 300"),
            "{s}"
        );
        assert!(
            s.contains("latency p99 (us)                   25.0   20.0 – 30.0  (2 of 3 runs)"),
            "{s}"
        );
        assert!(
            !s.contains("wakeups"),
            "unmeasured figures are left out: {s}"
        );
    }
}
