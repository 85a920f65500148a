use super::*;

#[test]
fn median_min_max() {
    let s = Stat::of([3.0, 1.0, 2.0]).unwrap();
    assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
    assert_eq!(Stat::of([1.0, 4.0]).unwrap().median, 2.5);
    assert!(Stat::of([f64::NAN]).is_none());
}

#[test]
fn runs_that_differ_in_anything_but_strategy_and_workers_are_not_grouped() {
    let run = |f: &dyn Fn(&mut RunRow)| {
        let mut row = RunRow {
            strategy: "blocking".into(),
            mode: "process".into(),
            workers: 4,
            concurrency: 8,
            requests_per_conn: 1,
            arrivals: "closed".into(),
            server_metrics: true,
            target: "http://127.0.0.1:1234/".into(),
            ..Default::default()
        };
        f(&mut row);
        Run { row, rate: None }
    };
    let results = Results {
        dir: "x".into(),
        runs: vec![
            run(&|_| {}),
            // Another port of its own herd serve, another strategy: the same condition.
            run(&|r| {
                r.target = "http://127.0.0.1:999/".into();
                r.strategy = "sysv-sem".into();
            }),
            run(&|r| r.requests_per_conn = 100),
            run(&|r| r.mode = "thread".into()),
            run(&|r| {
                r.server_metrics = false;
                r.target = "http://a/".into();
            }),
            run(&|r| {
                r.server_metrics = false;
                r.target = "http://b/".into();
            }),
            run(&|r| r.client_threads = 7),
        ],
        workers: vec![],
        latency: vec![],
    };
    let g = groups(&results);
    assert_eq!(g.len(), 6);
    assert_eq!(g.iter().map(|g| g.runs.len()).max(), Some(2));
    let slugs: std::collections::HashSet<String> = g.iter().map(|g| g.condition.slug()).collect();
    assert!(slugs.len() >= 5, "{slugs:?}");
    let load = g.iter().find(|g| !g.condition.server_measured()).unwrap();
    assert!(load.condition.label().contains("server not measured"));
}

#[test]
fn labelled_servers_on_ports_of_the_moment_are_one_comparison() {
    let row = |label: &str, port: u16| RunRow {
        strategy: label.into(),
        workers: 4,
        concurrency: 8,
        requests_per_conn: 1,
        target: format!("http://127.0.0.1:{port}/"),
        server_source: Some("procfs+header".into()),
        ..Default::default()
    };
    assert_eq!(target_key(&row("nginx", 8080)), "http://127.0.0.1/");
    assert_eq!(target_key(&row("", 8080)), "http://127.0.0.1:8080/");
    let results = Results {
        dir: "x".into(),
        runs: [
            row("nginx", 1),
            row("herd-blocking", 2),
            row("", 3),
            row("", 4),
        ]
        .into_iter()
        .map(|row| Run { row, rate: None })
        .collect(),
        workers: vec![],
        latency: vec![],
    };
    let g = groups(&results);
    // The two labelled servers together; each unlabelled URL alone.
    assert_eq!(
        g.len(),
        3,
        "{:?}",
        g.iter().map(|g| g.condition.label()).collect::<Vec<_>>()
    );
    let both = g.iter().find(|g| g.runs.len() == 2).unwrap();
    assert!(both.condition.server_measured());
    assert!(both.condition.label().contains("measured from /proc"));
}
