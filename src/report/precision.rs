//! Each measured float rounded, before it is written, to the precision it has: no column is
//! written at full f64 precision (`0.00003910909482000039`) when the measurement behind it
//! resolves far less. docs/csv-schema.md lists the rule per column:
//!
//! - ratios of counts and rates (per accept, per connection, conn/s, shares, Jain's index):
//!   4 significant digits, finer than the spread between repeats of any of them;
//! - times from nanosecond clocks: durations in s to the µs, ms figures to the µs;
//! - CPU times from clock ticks (10 ms): to the tick; the host's busy percentage, from
//!   /proc/stat's idle ticks, to 0.1 %, and so are the client's, the server's, foreign and
//!   stolen shares of the host beside it;
//! - latency percentiles are histogram values in whole ns, written as µs with 3 decimals:
//!   already exact, left as they are; so are configured values (rate, intervals).
use super::chaos::ChaosRow;
use super::row::{RunRow, WorkerRow};
use super::series::SeriesRow;

/// `v` to `digits` significant digits.
pub fn sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    // Scale by an exact power of ten (a multiplier below 1, such as 0.1, is not exact).
    let p = digits - 1 - v.abs().log10().floor() as i32;
    if p >= 0 {
        let f = 10f64.powi(p);
        (v * f).round() / f
    } else {
        let f = 10f64.powi(-p);
        (v / f).round() * f
    }
}

/// `v` to `decimals` decimal places.
pub fn dec(v: f64, decimals: i32) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

fn sig4(v: Option<f64>) -> Option<f64> {
    v.map(|v| sig(v, 4))
}

fn dec_opt(v: Option<f64>, decimals: i32) -> Option<f64> {
    v.map(|v| dec(v, decimals))
}

impl RunRow {
    /// The row as written to runs.csv.
    pub fn rounded(self) -> Self {
        RunRow {
            duration_s: dec(self.duration_s, 6),
            conn_per_s: sig(self.conn_per_s, 4),
            requests_per_s: sig(self.requests_per_s, 4),
            wakeups_per_accept: sig4(self.wakeups_per_accept),
            spurious_per_accept: sig4(self.spurious_per_accept),
            eagain_per_accept: sig4(self.eagain_per_accept),
            lock_wait_us_per_accept: sig4(self.lock_wait_us_per_accept),
            ctx_switches_per_accept: sig4(self.ctx_switches_per_accept),
            cpu_user_s: dec_opt(self.cpu_user_s, 2),
            cpu_sys_s: dec_opt(self.cpu_sys_s, 2),
            cpu_us_per_conn: sig4(self.cpu_us_per_conn),
            jain_fairness: sig4(self.jain_fairness),
            max_worker_share: sig4(self.max_worker_share),
            client_cpu_us_per_conn: sig4(self.client_cpu_us_per_conn),
            host_cpu_busy_pct: dec_opt(self.host_cpu_busy_pct, 1),
            open_mean: sig4(self.open_mean),
            open_max_share: sig4(self.open_max_share),
            request_jain: sig4(self.request_jain),
            request_max_share: sig4(self.request_max_share),
            acceptor_cpu_us_per_conn: sig4(self.acceptor_cpu_us_per_conn),
            // Shares of the host's CPU time, from clock ticks and ns clocks: to 0.1 %, as
            // host_cpu_busy_pct.
            client_cpu_pct: dec_opt(self.client_cpu_pct, 1),
            server_cpu_pct: dec_opt(self.server_cpu_pct, 1),
            foreign_cpu_pct: dec_opt(self.foreign_cpu_pct, 1),
            steal_pct: dec_opt(self.steal_pct, 1),
            irq_cpu_pct: dec_opt(self.irq_cpu_pct, 1),
            late_share: sig4(self.late_share),
            latency_mean_us: sig4(self.latency_mean_us),
            latency_stdev_us: sig4(self.latency_stdev_us),
            ..self
        }
    }
}

impl WorkerRow {
    /// The row as written to workers.csv.
    pub fn rounded(self) -> Self {
        WorkerRow {
            share: sig4(self.share),
            lock_wait_us: dec_opt(self.lock_wait_us, 3),
            cpu_user_s: dec_opt(self.cpu_user_s, 2),
            cpu_sys_s: dec_opt(self.cpu_sys_s, 2),
            cpu_ms: dec_opt(self.cpu_ms, 3),
            busy_ms: dec_opt(self.busy_ms, 3),
            request_share: sig4(self.request_share),
            open_mean: sig4(self.open_mean),
            open_share: sig4(self.open_share),
            ..self
        }
    }
}

impl ChaosRow {
    /// The row as written to chaos.csv.
    pub fn rounded(self) -> Self {
        ChaosRow {
            baseline_conn_per_s: sig(self.baseline_conn_per_s, 4),
            conn_per_s: sig(self.conn_per_s, 4),
            ..self
        }
    }
}

impl SeriesRow {
    /// The row as written to series.csv. The result, e^x and the relative error keep every
    /// digit: they are what the run computes.
    pub fn rounded(self) -> Self {
        SeriesRow {
            wall_ms: dec(self.wall_ms, 3),
            spawn_ms: dec(self.spawn_ms, 3),
            collect_ms: dec(self.collect_ms, 3),
            reap_ms: dec(self.reap_ms, 3),
            syscalls_per_term: sig(self.syscalls_per_term, 4),
            wakeups_per_term: sig(self.wakeups_per_term, 4),
            collect_us_per_term: sig(self.collect_us_per_term, 4),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_significant_digits_and_decimals() {
        assert_eq!(sig(0.00003910909482000039, 4), 0.00003911);
        assert_eq!(sig(37463.2871, 4), 37460.0);
        assert_eq!(sig(57.5321, 4), 57.53);
        assert_eq!(sig(0.0, 4), 0.0);
        assert_eq!(dec(5.0012345678, 6), 5.001235);
        assert_eq!(dec(0.1 * 0.7, 2), 0.07);
    }

    #[test]
    fn a_written_row_has_no_float_longer_than_its_precision() {
        let r = RunRow {
            spurious_per_accept: Some(0.00003910909482000039),
            conn_per_s: 8851.123456789,
            duration_s: 5.000123456789,
            jain_fairness: Some(1.0 / 9.0),
            latency_p50_us: Some(24.607),
            ..Default::default()
        }
        .rounded();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(&r).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let data = text.lines().nth(1).unwrap();
        for field in data.split(',') {
            assert!(field.len() <= 10, "{field} in {data}");
        }
        assert!(
            data.contains(",0.00003911,") || data.contains(",3.911e-5,"),
            "{data}"
        );
        assert!(data.contains(",24.607,"), "{data}");
    }
}
