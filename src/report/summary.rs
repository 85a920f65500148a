//! The summary `herd run` and `herd load` print.
use super::client::{load_line, summary_lines};
use super::row::RunRow;

/// The summary `herd run` prints.
pub fn summary(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
    line(
        "strategy",
        format!("{} ({} mode, {} workers)", r.strategy, r.mode, r.workers),
    );
    line("load", load_line(r));
    line("measured", format!("{:.2} s", r.duration_s));
    line(
        "connections",
        format!(
            "{} ok, {} errors (refused {}, reset {}, timeout {}, short {}, other {})",
            r.requests_ok,
            r.errors,
            r.err_refused,
            r.err_reset,
            r.err_timeout,
            r.err_short,
            r.err_other
        ),
    );
    line("throughput", format!("{:.0} conn/s", r.conn_per_s));
    line(
        "latency (us)",
        format!(
            "p50 {:.0}  p90 {:.0}  p99 {:.0}  p99.9 {:.0}  max {:.0}",
            r.latency_p50_us,
            r.latency_p90_us,
            r.latency_p99_us,
            r.latency_p999_us,
            r.latency_max_us
        ),
    );
    s.push_str(&summary_lines(r));
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
    line(
        "connect (us)",
        format!("p50 {:.0}  p99 {:.0}", r.connect_p50_us, r.connect_p99_us),
    );
    line(
        "accept delay (us)",
        format!(
            "p50 {:.0}  p99 {:.0}",
            r.accept_delay_p50_us, r.accept_delay_p99_us
        ),
    );
    if !r.server_metrics && r.workers == 0 {
        return s; // `herd load`: no server-side figures
    }
    line("accepted (server)", format!("{}", r.accepted));
    line(
        "wakeups / accept",
        format!(
            "{:.3}  (spurious {:.3}, EAGAIN {:.3})",
            r.wakeups_per_accept, r.spurious_per_accept, r.eagain_per_accept
        ),
    );
    line(
        "ctx switches / accept",
        format!(
            "{:.3}  (voluntary {}, involuntary {})",
            r.ctx_switches_per_accept, r.vol_ctx_switches, r.invol_ctx_switches
        ),
    );
    if r.lock_acquires > 0 {
        line(
            "lock wait / accept",
            format!("{:.1} us", r.lock_wait_us_per_accept),
        );
    }
    line(
        "worker CPU",
        format!(
            "{:.1} us/conn  (user {:.2} s, sys {:.2} s)",
            r.cpu_us_per_conn, r.cpu_user_s, r.cpu_sys_s
        ),
    );
    line(
        "fairness",
        format!(
            "Jain {:.3}, busiest worker {:.1}%",
            r.jain_fairness,
            r.max_worker_share * 100.0
        ),
    );
    s.push_str(&super::skew::summary_lines(r));
    s
}
