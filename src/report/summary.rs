//! The summary `herd run` and `herd load` print. A figure that was not measured is printed as
//! `n/a` with the reason, or its line is left out; it is never shown as 0.
use super::client::{fmt, load_line, percentiles, summary_lines};
use super::row::RunRow;
use std::path::Path;

/// The summary `herd run` prints.
pub fn summary(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
    match &r.server_pids {
        Some(pids) if r.mode.is_empty() => line(
            "server",
            format!(
                "{} PID {pids}: {} workers alive at the end",
                r.strategy, r.workers
            ),
        ),
        _ if r.server_metrics => line(
            "strategy",
            format!(
                "{}{} ({} mode, {} workers)",
                r.strategy,
                r.strategy_options
                    .as_deref()
                    .map(|o| format!(" {o}"))
                    .unwrap_or_default(),
                r.mode,
                r.workers
            ),
        ),
        _ => line(
            "server",
            format!("{} (any HTTP server: its side is not measured)", r.target),
        ),
    }
    line("load", load_line(r));
    line("measured", format!("{:.2} s", r.duration_s));
    let errors = format!(
        "{} errors (refused {}, reset {}, timeout {}, short {}, other {})",
        r.errors, r.err_refused, r.err_reset, r.err_timeout, r.err_short, r.err_other
    );
    let long_lived = r.arrivals == "long-lived";
    if r.requests_per_conn > 1 || long_lived {
        // `requests_ok` counts requests, `conns_ok` connections; errors end a connection.
        let per_conn = if long_lived {
            "long-lived connections".to_string()
        } else {
            format!("{} per connection", r.requests_per_conn)
        };
        line("requests", format!("{} ok ({per_conn})", r.requests_ok));
        line("connections", format!("{} ok, {errors}", r.conns_ok));
        line(
            "throughput",
            format!("{:.0} req/s, {:.0} conn/s", r.requests_per_s, r.conn_per_s),
        );
    } else {
        line("connections", format!("{} ok, {errors}", r.requests_ok));
        line("throughput", format!("{:.0} conn/s", r.conn_per_s));
    }
    if let Some(st) = status_line(r) {
        line("responses by status", st);
    }
    let per = if r.requests_per_conn > 1 || long_lived {
        "latency per request (us)"
    } else {
        "latency (us)"
    };
    line(
        per,
        percentiles(
            &[
                ("p50", r.latency_p50_us),
                ("p90", r.latency_p90_us),
                ("p99", r.latency_p99_us),
                ("p99.9", r.latency_p999_us),
                ("max", r.latency_max_us),
            ],
            "no response completed",
        ),
    );
    s.push_str(&summary_lines(r));
    s.push_str(&super::noise::summary_lines(r));
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
    line(
        "connect (us)",
        percentiles(
            &[("p50", r.connect_p50_us), ("p99", r.connect_p99_us)],
            "no connection was established",
        ),
    );
    line(
        "accept delay (us)",
        percentiles(
            &[
                ("p50", r.accept_delay_p50_us),
                ("p99", r.accept_delay_p99_us),
            ],
            "needs herd serve on this host: its X-Herd-Accept-Ns on this host's clock",
        ),
    );
    s.push_str(&queue_lines(r));
    if r.server_source
        .as_deref()
        .is_some_and(|x| x.starts_with("procfs"))
    {
        s.push_str(&foreign_lines(r));
        return s;
    }
    if !r.server_metrics {
        return s;
    }
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
    line("accepted (server)", fmt(r.accepted.map(|a| a as f64), 0));
    let nothing = "nothing accepted";
    line(
        "wakeups / accept",
        match r.wakeups_per_accept {
            Some(w) => format!(
                "{w:.3}  (spurious {}, EAGAIN {})",
                fmt(r.spurious_per_accept, 3),
                fmt(r.eagain_per_accept, 3)
            ),
            None => format!("n/a ({nothing})"),
        },
    );
    line(
        "ctx switches / accept",
        match (r.ctx_switches_per_accept, r.vol_ctx_switches) {
            (Some(c), Some(v)) => format!(
                "{c:.3}  (voluntary {v}, involuntary {})",
                fmt(r.invol_ctx_switches.map(|i| i as f64), 0)
            ),
            (None, Some(_)) => format!("n/a ({nothing})"),
            _ => "n/a (a worker's /proc/PID/task/TID/status could not be read)".into(),
        },
    );
    if r.lock_acquires.unwrap_or(0) > 0 {
        line(
            "lock wait / accept",
            match r.lock_wait_us_per_accept {
                Some(w) => {
                    format!("{w:.1} us, summed over every worker waiting (several wait at once)")
                }
                None => format!("n/a ({nothing})"),
            },
        );
    }
    let ticks = match (r.cpu_user_s, r.cpu_sys_s) {
        (Some(u), Some(s)) => format!("(user {u:.2} s, sys {s:.2} s)"),
        _ => "(user and sys n/a: /proc/PID/task/TID/stat could not be read)".into(),
    };
    line(
        "worker CPU",
        match r.cpu_us_per_conn {
            Some(c) => format!("{c:.1} us/conn  {ticks}"),
            None if r.accepted == Some(0) => format!("n/a ({nothing})  {ticks}"),
            None => format!("n/a (no /proc/PID/task/TID/schedstat on this kernel)  {ticks}"),
        },
    );
    if let Some(h) = r.handoffs {
        line(
            "hand-off acceptor",
            format!(
                "{h} handed over, {} wakeups, {} us CPU/conn (in the figures above); {} restarts, {} lost",
                fmt(r.acceptor_wakeups.map(|w| w as f64), 0),
                fmt(r.acceptor_cpu_us_per_conn, 1),
                fmt(r.acceptor_restarts.map(|n| n as f64), 0),
                fmt(r.handoff_lost.map(|n| n as f64), 0)
            ),
        );
    }
    line(
        "fairness",
        match (r.jain_fairness, r.max_worker_share) {
            (Some(j), Some(m)) => format!("Jain {j:.3}, busiest worker {:.1}%", m * 100.0),
            _ => format!("n/a ({nothing})"),
        },
    );
    s.push_str(&super::skew::summary_lines(r));
    s
}

/// The accept-queue and listen-counter lines, when measured.
fn queue_lines(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<26} {v}\n"));
    if let (Some(max), Some(mean), Some(n)) = (r.accept_queue_max, r.accept_queue_mean, r.listeners)
    {
        line(
            "accept queue",
            format!(
                "max {max}, mean {mean:.2} waiting; {n} listener(s), backlog {}, {} samples",
                r.listen_backlog.unwrap_or(0),
                r.accept_queue_samples.unwrap_or(0)
            ),
        );
    }
    if let (Some(o), Some(d)) = (r.listen_overflows, r.listen_drops) {
        line(
            "listen drops (netns)",
            format!(
                "ListenOverflows {o}, ListenDrops {d}, TCPReqQFullDrop {}, TCPReqQFullDoCookies {}",
                r.reqq_full_drop.unwrap_or(0),
                r.reqq_full_do_cookies.unwrap_or(0)
            ),
        );
    }
    s
}

/// A server measured from outside (`herd load --server-pid`): the kernel's figures only.
fn foreign_lines(r: &RunRow) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<26} {v}\n"));
    line(
        "server tree",
        format!(
            "{} processes, {} threads ({} exited during the phase)",
            r.server_processes.unwrap_or(0),
            r.server_threads.unwrap_or(0),
            r.server_threads_exited.unwrap_or(0)
        ),
    );
    line(
        "ctx switches / conn",
        format!(
            "{}  (voluntary {}, involuntary {}; master included)",
            fmt(r.ctx_switches_per_accept, 3),
            fmt(r.vol_ctx_switches.map(|v| v as f64), 0),
            fmt(r.invol_ctx_switches.map(|v| v as f64), 0)
        ),
    );
    line(
        "server CPU",
        format!(
            "{} us/conn  (user {} s, sys {} s)",
            fmt(r.cpu_us_per_conn, 1),
            fmt(r.cpu_user_s, 2),
            fmt(r.cpu_sys_s, 2)
        ),
    );
    if let Some(c) = r.max_worker_cpu_share {
        line(
            "busiest worker CPU",
            format!("{:.1}% of the workers' CPU", c * 100.0),
        );
    }
    match &r.worker_header {
        Some(h) => line(
            "fairness",
            format!(
                "Jain {}, busiest worker {}% of connections (from {h})",
                fmt(r.jain_fairness, 3),
                fmt(r.max_worker_share.map(|m| m * 100.0), 1)
            ),
        ),
        None => line(
            "fairness",
            "not measured (no response named its worker: --worker-header)".into(),
        ),
    }
    line(
        "wakeups, EAGAIN, locks",
        "not measured (only herd's own server counts them)".into(),
    );
    s
}

/// Complete responses by status class, `2xx 100  3xx 0  4xx 2  5xx 0`, with a warning when
/// any is 4xx or 5xx (they count as completed requests, as in wrk); `None` for rows from
/// before the columns.
fn status_line(r: &RunRow) -> Option<String> {
    let classes = [
        ("2xx", r.status_2xx?),
        ("3xx", r.status_3xx?),
        ("4xx", r.status_4xx?),
        ("5xx", r.status_5xx?),
    ];
    let mut text: Vec<String> = classes.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let failed = classes[2].1 + classes[3].1;
    if failed > 0 {
        text.push(format!(
            "WARNING: {failed} answered with an error status (counted as completed requests)"
        ));
    }
    Some(text.join("  "))
}

/// Where a run's rows went: the files under `out`, or that none were written.
pub fn saved(out: Option<&Path>, run_id: &str) -> String {
    match out {
        Some(dir) => format!(
            "  {:<26} run {run_id} appended to {}/{{runs,workers,latency}}.csv, histograms in {}\n",
            "saved",
            dir.display(),
            dir.join("hist").join(format!("{run_id}.hlog")).display()
        ),
        None => format!(
            "  {:<26} nothing: no rows written (give --out DIR to keep them)\n",
            "saved"
        ),
    }
}

#[cfg(test)]
mod tests;
