use super::*;

fn load_row() -> RunRow {
    RunRow {
        target: "http://127.0.0.1:8080/".into(),
        requests_per_conn: 1,
        requests_ok: 10,
        conns_ok: 10,
        ..Default::default()
    }
}

#[test]
fn a_load_summary_shows_no_server_figure_and_no_zero_for_the_unmeasured() {
    let s = summary(&load_row());
    assert!(!s.contains("0 workers") && !s.contains("strategy"), "{s}");
    assert!(s.contains("not measured"), "{s}");
    assert!(
        s.contains("accept delay (us)          n/a (needs herd serve"),
        "{s}"
    );
    assert!(s.contains("latency (us)               n/a"), "{s}");
    assert!(!s.contains("wakeups") && !s.contains("Jain"), "{s}");
}

#[test]
fn status_classes_show_and_error_statuses_warn() {
    assert!(!summary(&load_row()).contains("responses by status"));
    let r = RunRow {
        status_2xx: Some(8),
        status_3xx: Some(0),
        status_4xx: Some(2),
        status_5xx: Some(0),
        ..load_row()
    };
    let s = summary(&r);
    assert!(
        s.contains("responses by status        2xx 8  3xx 0  4xx 2  5xx 0  WARNING: 2 answered"),
        "{s}"
    );
}

#[test]
fn keep_alive_names_requests_and_connections() {
    let r = RunRow {
        requests_per_conn: 100,
        requests_ok: 148_500,
        conns_ok: 1_485,
        requests_per_s: 73_395.0,
        conn_per_s: 734.0,
        ..load_row()
    };
    let s = summary(&r);
    assert!(s.contains("requests                   148500 ok (100 per connection)"));
    assert!(
        s.contains("connections                1485 ok, 0 errors"),
        "{s}"
    );
    assert!(s.contains("throughput                 73395 req/s, 734 conn/s"));
    assert!(s.contains("latency per request (us)"), "{s}");
}

#[test]
fn unmeasured_server_figures_say_why() {
    let r = RunRow {
        server_metrics: true,
        strategy: "sysv-sem".into(),
        mode: "process".into(),
        workers: 2,
        accepted: Some(0),
        lock_acquires: Some(3),
        lock_wait_us_per_accept: None,
        vol_ctx_switches: Some(4),
        invol_ctx_switches: Some(1),
        ..load_row()
    };
    let s = summary(&r);
    assert!(
        s.contains("wakeups / accept           n/a (nothing accepted)"),
        "{s}"
    );
    assert!(
        s.contains("fairness                   n/a (nothing accepted)"),
        "{s}"
    );
    assert!(
        s.contains("lock wait / accept         n/a (nothing accepted)"),
        "{s}"
    );
    let waited = RunRow {
        accepted: Some(3),
        lock_wait_us_per_accept: Some(479.1),
        ..r.clone()
    };
    assert!(summary(&waited)
        .contains("lock wait / accept         479.1 us, summed over every worker waiting"));
    let unread = RunRow {
        accepted: Some(5),
        ctx_switches_per_accept: None,
        vol_ctx_switches: None,
        cpu_user_s: Some(0.5),
        cpu_sys_s: Some(0.25),
        ..r
    };
    let s = summary(&unread);
    assert!(
        s.contains("ctx switches / accept      n/a (a worker's /proc"),
        "{s}"
    );
    assert!(s.contains("worker CPU                 n/a (no /proc/PID/task/TID/schedstat"));
}

#[test]
fn the_summary_says_where_rows_went() {
    assert!(saved(None, "x").contains("no rows written"));
    let s = saved(Some(Path::new("/tmp/r")), "abc");
    assert!(s.contains("run abc appended to /tmp/r/"), "{s}");
}

#[test]
fn the_generator_fell_behind_only_past_one_percent_of_late_starts() {
    let open = |late: u64, share: f64| RunRow {
        arrivals: "uniform".into(),
        rate: 10_000.0,
        late_conns: late,
        late_share: Some(share),
        lateness_p99_us: Some(100.0),
        ..load_row()
    };
    // 6 late starts of 10,000 (the case that used to warn): said, not warned about.
    let s = summary(&open(6, 0.0006));
    assert!(
        s.contains("6 late (> 1 ms) = 0.06% of the scheduled starts"),
        "{s}"
    );
    assert!(!s.contains("fell behind"), "{s}");
    let s = summary(&open(250, 0.025));
    assert!(
        s.contains("fell behind its schedule: 2.5% of the starts began more than 1 ms late or never (over 1%"),
        "{s}"
    );
}
