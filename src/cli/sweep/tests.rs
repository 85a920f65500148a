use crate::cli::{Cli, Command};
use clap::Parser;

#[test]
fn run_flags_pass_through_and_matrix_flags_do_not() {
    let cli = Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "1,2",
        "--duration",
        "300ms",
        "--warmup=0s",
        "--out",
        "x",
        "--repeat",
        "2",
        "--client-threads",
        "1",
    ])
    .unwrap();
    let Command::Sweep(s) = cli.command else {
        panic!("not sweep")
    };
    assert_eq!(s.sweep.workers, ["1", "2"]);
    assert_eq!(s.sweep.repeat, 2);
    let mut flags = s.run_flags.clone();
    flags.sort();
    assert_eq!(flags, ["--duration=300ms", "--threads=1", "--warmup=0s"]);
}

#[test]
fn short_flags_and_aliases_pass_through_by_their_long_names() {
    let cli = Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "2",
        "--out",
        "x",
        "-d",
        "300ms",
        "-t",
        "1",
        "-n",
        "2k",
        "-c",
        "4,8",
    ])
    .unwrap();
    let Command::Sweep(s) = cli.command else {
        panic!("not sweep")
    };
    let mut flags = s.run_flags.clone();
    flags.sort();
    assert_eq!(flags, ["--duration=300ms", "--requests=2k", "--threads=1"]);
    assert_eq!(s.sweep.concurrency, ["4", "8"]);
    let cfg = s.config().unwrap();
    let conns: Vec<_> = cfg.cells.iter().map(|c| c.run.load.concurrency).collect();
    assert!(conns.contains(&4) && conns.contains(&8), "{conns:?}");
    for c in &cfg.cells {
        assert_eq!(c.run.load.threads, 1);
        assert_eq!(c.run.max_conns, Some(2000));
        assert_eq!(c.run.duration, std::time::Duration::from_millis(300));
    }
    // The old long names are aliases, passed on under the new ones.
    let cli = Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "2",
        "--out",
        "x",
        "--client-threads",
        "1",
        "--concurrency",
        "3",
        "-R",
        "1k",
    ]);
    assert!(cli.is_err(), "--concurrency and --rate exclude each other");
    let cli = Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "2",
        "--out",
        "x",
        "--client-threads",
        "1",
        "-R",
        "1k,2.5k",
    ])
    .unwrap();
    let Command::Sweep(s) = cli.command else {
        panic!("not sweep")
    };
    assert_eq!(s.run_flags, ["--threads=1"]);
    let rates: Vec<_> = s
        .config()
        .unwrap()
        .cells
        .iter()
        .map(|c| c.rate.clone())
        .collect();
    assert!(rates.contains(&Some("2.5k".into())), "{rates:?}");
}

#[test]
fn all_in_the_event_model_keeps_the_strategies_with_an_event_form() {
    let cli = Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "2",
        "--out",
        "x",
        "--worker-model",
        "event",
    ])
    .unwrap();
    let Command::Sweep(s) = cli.command else {
        panic!("not sweep")
    };
    let cfg = s.config().unwrap();
    let kinds: Vec<_> = cfg.cells.iter().map(|c| c.run.server.strategy).collect();
    assert!(!kinds.is_empty());
    for c in &cfg.cells {
        assert_eq!(
            c.run.server.worker_model,
            crate::strategy::WorkerModel::Event
        );
        assert!(c.run.server.strategy.event_form().is_ok());
    }
    assert!(!kinds.contains(&crate::strategy::StrategyKind::Blocking));
}

#[test]
fn a_bad_run_flag_is_refused_by_clap() {
    assert!(Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "1",
        "--out",
        "x",
        "--duration",
        "soon"
    ])
    .is_err());
    assert!(Cli::try_parse_from([
        "herd",
        "sweep",
        "--workers",
        "1",
        "--out",
        "x",
        "--strategy",
        "blocking"
    ])
    .is_err());
}

#[test]
fn the_balancer_and_reliability_flags_pass_through_beside_short_flags() {
    let parse = |args: &[&str]| {
        let mut argv = vec![
            "herd",
            "sweep",
            "--workers",
            "2",
            "--out",
            "x",
            "-d",
            "300ms",
        ];
        argv.extend_from_slice(args);
        let Command::Sweep(s) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not sweep")
        };
        s
    };
    let s = parse(&[
        "--strategies",
        "epoll-exclusive",
        "--worker-model",
        "event",
        "--accepts-per-wakeup",
        "4",
        "--busy-delay",
        "1ms",
        "--defer-accept",
        "1s",
        "-c",
        "8",
    ]);
    let mut flags = s.run_flags.clone();
    flags.sort();
    assert_eq!(
        flags,
        [
            "--accepts-per-wakeup=4",
            "--busy-delay=1ms",
            "--defer-accept=1s",
            "--duration=300ms",
            "--worker-model=event"
        ]
    );
    let cfg = s.config().unwrap();
    assert_eq!(cfg.cells.len(), 1);
    let server = &cfg.cells[0].run.server;
    assert_eq!(
        server.strategy_options.label(server.strategy).as_deref(),
        Some("accepts-per-wakeup=4 busy-delay=1ms")
    );
    assert_eq!(
        server.listen.defer_accept,
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(cfg.cells[0].run.load.concurrency, 8);

    let s = parse(&["--strategies", "sysv-sem", "--lock-watchdog", "200ms"]);
    let cfg = s.config().unwrap();
    assert_eq!(
        cfg.cells[0].run.server.lock_watchdog,
        Some(std::time::Duration::from_millis(200))
    );
}
