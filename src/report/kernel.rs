//! What the kernel told about the server from outside it ([`PhaseProbe`]): the accept-queue and
//! listen-counter columns of every run, and for `herd load --server-pid` the server-side columns
//! a foreign server can fill (context switches, CPU, per-worker CPU and connection shares).
//! Userspace counters (wakeups, EAGAINs, lock waits) exist only in herd's own server; a
//! foreign server's row leaves them unmeasured and says so in `server_source`.
use super::row::{per, ListenerRow, RunRow, WorkerRow};
use crate::load::stats::Stats;
use crate::metrics::fairness::{jain_index, max_share};
use crate::metrics::probe::PhaseProbe;
use crate::metrics::tree::{Role, ServerTasks};
use std::collections::BTreeMap;

/// The accept-queue and TcpExt columns.
pub fn fill_queue(row: &mut RunRow, p: &PhaseProbe) {
    if let Ok(q) = &p.queue {
        row.listeners = Some(q.listeners.len() as u64);
        row.listen_backlog = q.listeners.iter().map(|l| l.backlog as u64).max();
        row.accept_queue_samples = Some(q.samples);
        row.accept_queue_max = Some(q.max as u64);
        row.accept_queue_mean = Some(q.total_mean);
        row.accept_queue_busiest_mean = q.listeners.iter().map(|l| l.mean()).reduce(f64::max);
    }
    if let Ok(c) = &p.listen {
        row.listen_overflows = Some(c.overflows);
        row.listen_drops = Some(c.drops);
        row.reqq_full_drop = Some(c.reqq_full_drop);
        row.reqq_full_do_cookies = Some(c.reqq_full_do_cookies);
    }
}

/// One row per listener (listeners.csv).
pub fn listener_rows(row: &RunRow, p: &PhaseProbe) -> Vec<ListenerRow> {
    let Ok(q) = &p.queue else {
        return Vec::new();
    };
    q.listeners
        .iter()
        .map(|l| ListenerRow {
            run_id: row.run_id.clone(),
            strategy: row.strategy.clone(),
            workers: row.workers,
            inode: l.inode as u64,
            addr: l.addr.to_string(),
            port: l.port as u64,
            backlog: l.backlog as u64,
            samples: l.samples,
            queue_max: l.max as u64,
            queue_mean: l.mean(),
            holders: l
                .holders
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

/// Why a part of the probe measured nothing, one line each (for stderr).
pub fn probe_notes(p: &PhaseProbe) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = &p.queue {
        out.push(format!("accept-queue columns left empty: {e}"));
    }
    if let Err(e) = &p.listen {
        out.push(format!("listen-counter columns left empty: {e}"));
    }
    if let Some(s) = &p.server {
        for r in &s.roots_gone {
            out.push(format!("WARNING: server PID {r} exited during the measurement; its figures stop at its last sample"));
        }
        if !s.exited.is_empty() {
            let ids: Vec<String> = s.exited.iter().map(|(p, t)| format!("{p}/{t}")).collect();
            out.push(format!(
                "WARNING: {} server thread(s) exited during the measurement (pid/tid {}): what each did after its last sample (at most {} ms before) is lost",
                s.exited.len(),
                ids.join(" "),
                crate::metrics::probe::TREE_INTERVAL.as_millis()
            ));
        }
    }
    out
}

/// herd's own server: each worker's share of the workers' CPU.
pub fn fill_cpu_shares(row: &mut RunRow, workers: &mut [WorkerRow]) {
    row.server_source = Some("scoreboard".into());
    // Unknown for one worker (no schedstat) leaves every share unknown.
    let total: Option<f64> = workers.iter().map(|w| w.cpu_ms).sum();
    if let Some(total) = total.filter(|&t| t > 0.0) {
        for w in workers.iter_mut() {
            w.cpu_share = w.cpu_ms.map(|c| c / total);
        }
        row.max_worker_cpu_share = workers.iter().filter_map(|w| w.cpu_share).reduce(f64::max);
    }
}

/// Connections per worker from the response header: `--worker-header`'s values, or else herd
/// serve's `X-Herd-Worker` indices.
fn header_counts(c: &Stats) -> BTreeMap<u64, u64> {
    if !c.per_worker_id.is_empty() {
        return c.per_worker_id.clone();
    }
    c.per_worker
        .iter()
        .enumerate()
        .map(|(i, &n)| (i as u64, n))
        .collect()
}

/// The rows of one run that carry its per-worker connection shares: all of herd's own rows; of
/// a foreign server's, the worker processes when the header named them by PID, and the rows of
/// header values not matched to a process (herd serve's indices, short-lived workers).
pub fn share_rows<'a>(rows: &[&'a WorkerRow]) -> Vec<&'a WorkerRow> {
    let is = |w: &WorkerRow, r: &str| w.role.as_deref() == Some(r);
    let pid_mode = rows.iter().any(|w| is(w, "worker") && w.client_conns > 0);
    rows.iter()
        .copied()
        .filter(|w| w.role.is_none() || is(w, "header") || (pid_mode && is(w, "worker")))
        .collect()
}

/// `--worker-header` without `--server-pid`: one row per value the header took.
pub fn header_rows(row: &RunRow, c: &Stats) -> Vec<WorkerRow> {
    let total: u64 = c.per_worker_id.values().sum();
    c.per_worker_id
        .iter()
        .map(|(&k, &n)| WorkerRow {
            run_id: row.run_id.clone(),
            strategy: row.strategy.clone(),
            worker: k,
            client_conns: n,
            share: per(Some(n), total),
            role: Some("header".into()),
            ..Default::default()
        })
        .collect()
}

/// `herd load --server-pid`: the server-side columns from the kernel's accounting of the
/// server's tree, and per-worker rows (replacing the header-only ones).
pub fn fill_foreign(
    row: &mut RunRow,
    workers: &mut Vec<WorkerRow>,
    s: &ServerTasks,
    c: &Stats,
    header: &str,
) {
    let conns = c.conns_ok;
    let tps = s.ticks_per_s.max(1) as f64;
    let (vol, invol) = (
        s.total(|t| t.vol_ctx_switches),
        s.total(|t| t.invol_ctx_switches),
    );
    row.vol_ctx_switches = Some(vol);
    row.invol_ctx_switches = Some(invol);
    row.ctx_switches_per_accept = per(Some(vol + invol), conns);
    row.cpu_user_s = Some(s.total(|t| t.utime_ticks) as f64 / tps);
    row.cpu_sys_s = Some(s.total(|t| t.stime_ticks) as f64 / tps);
    row.cpu_us_per_conn = per(s.total_known(|t| t.cpu_ns), conns).map(|us| us / 1000.0);
    row.server_pids = Some(
        s.roots
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    );
    row.server_processes = Some(
        s.units
            .iter()
            .map(|u| u.pid)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64,
    );
    row.server_threads = Some(s.threads);
    row.server_threads_exited = Some(s.exited.len() as u64);
    let live = s.workers().filter(|u| !u.exited).count();
    row.workers = live as u64;

    // Per-worker CPU: the workers' own time (a master's is in the totals, not the shares).
    let worker_cpu: Option<u64> = s.workers().map(|u| u.delta.cpu_ns).sum();
    let counts = header_counts(c);
    let in_header: u64 = counts.values().sum();
    // The header names processes when most connections carry a PID of the tree.
    let by_pid: u64 = counts
        .iter()
        .filter(|(k, _)| s.units.iter().any(|u| u.pid == **k && u.tid == 0))
        .map(|(_, n)| n)
        .sum();
    let pid_mode = in_header > 0 && by_pid * 2 >= in_header;
    let mut rows: Vec<WorkerRow> = s
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            // The header named workers by PID: a worker it never named took 0.
            let conns_here = if pid_mode && u.tid == 0 {
                Some(counts.get(&u.pid).copied().unwrap_or(0))
            } else {
                None
            };
            WorkerRow {
                run_id: row.run_id.clone(),
                strategy: row.strategy.clone(),
                workers: row.workers,
                worker: i as u64,
                pid: u.pid,
                vol_ctx_switches: Some(u.delta.vol_ctx_switches),
                invol_ctx_switches: Some(u.delta.invol_ctx_switches),
                cpu_user_s: Some(u.delta.utime_ticks as f64 / tps),
                cpu_sys_s: Some(u.delta.stime_ticks as f64 / tps),
                cpu_ms: u.delta.cpu_ns.map(|n| n as f64 / 1e6),
                client_conns: conns_here.unwrap_or(0),
                share: conns_here.and_then(|n| per(Some(n), in_header)),
                role: Some(u.role.name().into()),
                tid: (u.tid != 0).then_some(u.tid),
                cpu_share: worker_cpu
                    .filter(|&w| u.role == Role::Worker && w > 0)
                    .and_then(|w| per(u.delta.cpu_ns, w)),
                started_in_phase: Some(u.started),
                exited_in_phase: Some(u.exited),
                ..Default::default()
            }
        })
        .collect();
    row.max_worker_cpu_share = rows.iter().filter_map(|w| w.cpu_share).reduce(f64::max);
    // Workers named by the header but not found as processes of the tree: indices (herd serve's
    // X-Herd-Worker), or processes that lived between two samples.
    let unmatched: Vec<(u64, u64)> = counts
        .iter()
        .filter(|(k, _)| !pid_mode || !s.units.iter().any(|u| u.pid == **k && u.tid == 0))
        .map(|(&k, &n)| (k, n))
        .collect();
    for &(k, n) in &unmatched {
        rows.push(WorkerRow {
            run_id: row.run_id.clone(),
            strategy: row.strategy.clone(),
            workers: row.workers,
            worker: k,
            client_conns: n,
            share: per(Some(n), in_header),
            role: Some("header".into()),
            // herd serve's per-index accept delays stay with their index.
            ..workers
                .iter()
                .find(|w| w.worker == k && !c.per_worker.is_empty() && c.per_worker_id.is_empty())
                .cloned()
                .unwrap_or_default()
        });
    }
    if in_header > 0 {
        // Every worker counts, those the header never named with zero connections.
        let mut shares: Vec<u64> = if pid_mode {
            s.workers()
                .filter(|u| u.tid == 0)
                .map(|u| counts.get(&u.pid).copied().unwrap_or(0))
                .chain(unmatched.iter().map(|&(_, n)| n))
                .collect()
        } else {
            counts.values().copied().collect()
        };
        if shares.len() < live {
            shares.resize(live, 0);
        }
        row.jain_fairness = jain_index(&shares);
        row.max_worker_share = max_share(&shares);
        row.worker_header = Some(header.to_string());
    }
    row.server_source = Some(
        if in_header > 0 {
            "procfs+header"
        } else {
            "procfs"
        }
        .into(),
    );
    *workers = rows;
}
