//! The summary `herd run` and `herd load` print.
use super::client::{load_line, summary_lines};
use super::row::RunRow;

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
        _ => line(
            "strategy",
            format!("{} ({} mode, {} workers)", r.strategy, r.mode, r.workers),
        ),
    }
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
    s.push_str(&queue_lines(r));
    if r.server_source
        .as_deref()
        .is_some_and(|x| x.starts_with("procfs"))
    {
        s.push_str(&foreign_lines(r));
        return s;
    }
    if !r.server_metrics && r.workers == 0 {
        return s; // `herd load`: no server-side figures
    }
    let mut line = |k: &str, v: String| {
        s.push_str(&format!("  {k:<26} {v}\n"));
    };
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
            "{:.3}  (voluntary {}, involuntary {}; master included)",
            r.ctx_switches_per_accept, r.vol_ctx_switches, r.invol_ctx_switches
        ),
    );
    line(
        "server CPU",
        format!(
            "{:.1} us/conn  (user {:.2} s, sys {:.2} s)",
            r.cpu_us_per_conn, r.cpu_user_s, r.cpu_sys_s
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
                "Jain {:.3}, busiest worker {:.1}% of connections (from {h})",
                r.jain_fairness,
                r.max_worker_share * 100.0
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
