//! `herd chaos`: for each strategy and each schedule item, a segment: start `herd serve`, load
//! it in short closed-loop phases (`herd::load::run_phase`, the same client as `herd run`),
//! measure a baseline, apply the item's fault every INTERVAL for `--duration` from a second
//! thread while the phases go on, keep loading for a 1 s tail, then check that the server still
//! serves: every worker back and claimed, and a probe of 200 connections all answered. One row
//! per segment; recovery times as defined in [`timeline`].
mod inject;
pub mod schedule;
mod timeline;

use super::output::Output;
use crate::harness::ServerChild;
use crate::load::stats::{ErrorKind, Stats};
use crate::load::{run_phase, LoadConfig};
use crate::metrics::HostInfo;
use crate::report::chaos::{table, ChaosRow};
use crate::report::csv::Appender;
use crate::report::record::timestamp;
use crate::server::ReuseportReload;
use crate::strategy::{reuseport, StrategyKind, WorkerModel};
use crate::sys::affinity::Partition;
use crate::sys::clock::monotonic_ns;
use crate::Error;
use inject::{alive, apply_faults};
use schedule::{FaultKind, Item};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use timeline::{baseline, recovery_ns, Phase};

/// A validated `herd chaos`.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The strategies to test, each supported here.
    pub strategies: Vec<StrategyKind>,
    pub workers: u32,
    /// One segment per item, per strategy.
    pub schedule: Vec<Item>,
    /// Length of each segment's faulted part.
    pub duration: Duration,
    /// Load before the first fault.
    pub baseline: Duration,
    /// Length of one load phase: the resolution of the recovery time.
    pub phase: Duration,
    /// Connections in flight (closed loop).
    pub concurrency: u32,
    pub client_threads: Option<usize>,
    /// A connection not complete after this long is a timeout.
    pub timeout: Duration,
    /// The server's --graceful-timeout.
    pub graceful_timeout: Duration,
    /// The server's --reuseport-reload.
    pub reuseport_reload: ReuseportReload,
    /// The server's --worker-model.
    pub worker_model: WorkerModel,
    /// Requests on each connection of the load (keep-alive above 1).
    pub requests_per_conn: u32,
    pub addr: SocketAddr,
    /// Append one row per segment to DIR/chaos.csv.
    pub out: Option<PathBuf>,
    /// The server's --lock-watchdog (lock strategies).
    pub lock_watchdog: Option<Duration>,
    /// `--json`: one object per segment on stdout, the table on stderr.
    pub json: bool,
    /// `--server-cpus` (the server's, through `herd serve --server-cpus`) and `--client-cpus`.
    pub partition: Partition,
}

/// Load after the last fault, so that it can be seen to recover.
const TAIL: Duration = Duration::from_secs(1);
/// Connections of the final probe.
const PROBE: u64 = 200;

pub fn run(args: &ChaosConfig) -> Result<(), Error> {
    let mut out = match &args.out {
        Some(dir) => {
            let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(|e| usage(Error::file(dir, e)))?;
            crate::report::meta::note_invocation(dir, &args.partition)?;
            Some(Appender::open::<ChaosRow>(&dir.join("chaos.csv")).map_err(usage)?)
        }
        None => None,
    };
    let mut rows = Vec::new();
    let json = Output::new(args.json);
    for &s in &args.strategies {
        for item in &args.schedule {
            let row = segment(args, s, item)?;
            eprintln!(
                "herd chaos: {s} {}: {} faults, {} lost, serving after: {}",
                row.fault, row.faults_applied, row.errors, row.serving_after
            );
            let rounded = row.clone().rounded();
            if let Some(f) = out.as_mut() {
                f.append(&rounded)?;
                f.flush()?;
            }
            json.object(&rounded)?;
            rows.push(row);
        }
    }
    json.text(&table(&rows));
    Ok(())
}

/// Run load in phases of `phase` until `until_ns` (or the server is gone).
fn phases_until(
    cfg: &LoadConfig,
    phase: Duration,
    until_ns: u64,
    abort: &AtomicBool,
    stats: &mut Stats,
) -> Result<Vec<Phase>, Error> {
    let mut out = Vec::new();
    while monotonic_ns() < until_ns && !abort.load(Ordering::SeqCst) {
        let start = monotonic_ns();
        let r = run_phase(cfg, phase, None, abort)?;
        out.push(Phase::new(start, monotonic_ns(), &r.stats));
        stats.merge(&r.stats);
    }
    Ok(out)
}

fn segment(args: &ChaosConfig, strategy: StrategyKind, item: &Item) -> Result<ChaosRow, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let mut serve_args = vec![
        format!("--strategy={strategy}"),
        format!("--workers={}", args.workers),
        format!("--graceful-timeout={}ms", args.graceful_timeout.as_millis()),
        format!("--reuseport-reload={}", args.reuseport_reload),
        format!("--worker-model={}", args.worker_model),
        format!(
            "--max-requests-per-conn={}",
            args.requests_per_conn.max(100)
        ),
        format!("--addr={}", args.addr),
    ];
    if let Some(w) = args.lock_watchdog {
        serve_args.push(format!("--lock-watchdog={}us", w.as_micros()));
    }
    serve_args.extend(
        args.partition
            .server
            .as_ref()
            .map(|s| format!("--server-cpus={s}")),
    );
    let mut server = ServerChild::start(&exe, &serve_args, false)?;
    let mut cfg = LoadConfig::new(
        server.addr,
        args.concurrency as usize,
        args.client_threads,
        args.timeout,
    )
    .pinned(args.partition.client.clone(), args.client_threads);
    cfg.requests_per_conn = args.requests_per_conn;
    let abort = server.gone().clone();
    let applicable = match item.kind {
        k if k.needs_lock() => server.snapshot()?.lock_holder.is_some(),
        FaultKind::KillAcceptor => server.snapshot()?.acceptor.is_some(),
        _ => true,
    };

    let mut ignored = Stats::default();
    let base = phases_until(
        &cfg,
        args.phase,
        monotonic_ns() + args.baseline.as_nanos() as u64,
        &abort,
        &mut ignored,
    )?;
    let base_rate = baseline(&base);

    let master = server.pid();
    let start = monotonic_ns();
    let end = start + args.duration.as_nanos() as u64;
    let stop = AtomicBool::new(false);
    let mut stats = Stats::default();
    let (phases, times) = std::thread::scope(|sc| {
        let faults = sc.spawn(|| {
            apply_faults(
                master,
                item,
                applicable,
                args.workers as usize,
                start,
                end,
                &stop,
            )
        });
        let phases = phases_until(
            &cfg,
            args.phase,
            end + TAIL.as_nanos() as u64,
            &abort,
            &mut stats,
        );
        stop.store(true, Ordering::SeqCst);
        (phases, faults.join())
    });
    let phases = phases?;
    let times = fault_times(times, &format!("{strategy} {}", item.kind.name()))?;
    let elapsed_s = phases
        .last()
        .map_or(0.0, |p| p.end_ns.saturating_sub(start) as f64 / 1e9);

    let mut rec: Vec<u64> = times
        .iter()
        .filter_map(|&t| recovery_ns(&phases, base_rate, t))
        .collect();
    rec.sort_unstable();
    // Whole milliseconds: the clock reads are ns, but the recovery is an upper bound known to
    // one phase (`--phase`), which the table prints it at.
    let ms = |ns: u64| (ns as f64 / 1e6).round();

    let fin = final_state(&mut server, args.workers as usize);
    let (final_workers, restarts, reloads) = (fin.workers, fin.restarts, fin.reloads);
    let probe_ok = !abort.load(Ordering::SeqCst) && probe(&server, args, &abort);
    let stopped = server
        .stop(args.graceful_timeout + Duration::from_secs(3))
        .is_ok_and(|s| s.success());
    let e = |k: ErrorKind| stats.errors_of(k);
    let host = HostInfo::detect();
    Ok(ChaosRow {
        run_id: format!("{}-{}", std::process::id(), monotonic_ns()),
        timestamp: timestamp(),
        strategy: strategy.name().into(),
        workers: args.workers.into(),
        concurrency: args.concurrency.into(),
        fault: item.kind.name().into(),
        interval_s: item.every.as_secs_f64(),
        duration_s: args.duration.as_secs_f64(),
        faults_applied: times.len() as u64,
        requests_ok: stats.ok,
        errors: stats.errors_total(),
        err_refused: e(ErrorKind::Refused),
        err_reset: e(ErrorKind::Reset),
        err_timeout: e(ErrorKind::Timeout),
        err_short: e(ErrorKind::ShortResponse),
        err_other: stats.errors_other(),
        baseline_conn_per_s: base_rate,
        conn_per_s: if elapsed_s > 0.0 {
            stats.ok as f64 / elapsed_s
        } else {
            0.0
        },
        recovered: rec.len() as u64,
        unrecovered: (times.len() - rec.len()) as u64,
        // Nothing recovered: no recovery time (empty), not a time of 0.
        recovery_p50_ms: rec.get(rec.len().saturating_sub(1) / 2).map(|&n| ms(n)),
        recovery_max_ms: rec.last().map(|&n| ms(n)),
        worker_deaths: server.worker_exits().len() as u64,
        restarts,
        reloads,
        final_workers: final_workers as u64,
        serving_after: final_workers == args.workers as usize
            && fin.acceptor_ok
            && probe_ok
            && stopped,
        reuseport_reload: args.reuseport_reload.to_string(),
        tcp_migrate_req: reuseport::migrate_req().map_or(-1, i64::from),
        phase_ms: args.phase.as_secs_f64() * 1e3,
        kernel: host.kernel,
        nproc: host.nproc,
        herd_version: host.herd_version,
        server_cpus: args.partition.columns().0,
        client_cpus: args.partition.columns().1,
        worker_model: args.worker_model.name().into(),
        requests_per_conn: args.requests_per_conn.into(),
        acceptor_restarts: fin.acceptor.map(|a| a.0),
        handoff_lost: fin.acceptor.map(|a| a.1),
    })
}

/// The fault times of a joined fault thread. One that panicked applied an unknown number of
/// faults: that is an error, not a segment with 0 faults.
fn fault_times(joined: std::thread::Result<Vec<u64>>, what: &str) -> Result<Vec<u64>, Error> {
    joined.map_err(|_| {
        Error::Run(format!(
            "{what}: the fault thread panicked; how many faults it applied is unknown"
        ))
    })
}

/// How the server was at the end of a segment.
#[derive(Debug, Default)]
struct FinalState {
    /// Serving workers, all claimed and alive.
    workers: usize,
    restarts: u64,
    reloads: u64,
    /// A hand-off acceptor's restarts and the connections the dead ones held.
    acceptor: Option<(u64, u64)>,
    /// No hand-off acceptor, or one alive and claimed.
    acceptor_ok: bool,
}

/// Wait (up to 3 s) until `workers` workers serve, all claimed and alive, none drains, and a
/// hand-off acceptor (if any) is back; return what the scoreboard shows then.
fn final_state(server: &mut ServerChild, workers: usize) -> FinalState {
    let deadline = monotonic_ns() + 3_000_000_000;
    let mut last = FinalState::default();
    while monotonic_ns() < deadline {
        let Ok(snap) = server.snapshot() else { break };
        let live = snap
            .workers
            .iter()
            .filter(|w| w.pid != 0 && alive(w.pid as i32))
            .count();
        last = FinalState {
            workers: live,
            restarts: snap.workers.iter().map(|w| w.restarts).sum(),
            reloads: snap.reloads,
            acceptor: snap
                .acceptor
                .as_ref()
                .map(|a| (a.restarts, snap.handoff_lost)),
            acceptor_ok: snap
                .acceptor
                .as_ref()
                .is_none_or(|a| a.pid != 0 && alive(a.tid as i32)),
        };
        if live == workers
            && snap.workers.len() == workers
            && snap.draining == 0
            && last.acceptor_ok
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    last
}

/// PROBE connections, 4 at a time: all must complete.
fn probe(server: &ServerChild, args: &ChaosConfig, abort: &AtomicBool) -> bool {
    let cfg = LoadConfig::new(server.addr, 4, Some(1), args.timeout)
        .pinned(args.partition.client.clone(), Some(1));
    match run_phase(&cfg, Duration::from_secs(10), Some(PROBE), abort) {
        Ok(r) => r.stats.ok == PROBE && r.stats.errors_total() == 0,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_thread_that_panicked_is_an_error_not_zero_faults() {
        let joined = std::thread::spawn(|| -> Vec<u64> { panic!("boom") }).join();
        let e = fault_times(joined, "blocking kill")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("blocking kill: the fault thread panicked"),
            "{e}"
        );
        assert_eq!(fault_times(Ok(vec![1, 2]), "x").unwrap(), vec![1, 2]);
    }
}
