//! A point-in-time copy of every worker's counters, userspace and kernel, as the master prints
//! it on SIGUSR1 and `herd run` reads it. A run's figures are the difference of two snapshots
//! taken while the load generator is quiet, so they cover exactly the measured connections.
use super::procfs;
use super::scoreboard::{Scoreboard, Slot};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerSample {
    pub worker: usize,
    pub pid: u64,
    pub tid: u64,
    pub generation: u64,
    pub accepted: u64,
    pub wakeups: u64,
    pub spurious_wakeups: u64,
    pub eagain: u64,
    pub lock_acquires: u64,
    pub lock_wait_ns: u64,
    pub lock_recovered: u64,
    pub accept_err_no_fds: u64,
    pub accept_err_connaborted: u64,
    pub accept_err_other: u64,
    pub conn_errors: u64,
    pub bad_requests: u64,
    pub busy_ns: u64,
    /// The kernel's counts for the worker's thread (/proc/PID/task/TID): `None` when they
    /// could not be read (slot not started, thread gone, /proc hidden), never a made-up 0.
    pub vol_ctx_switches: Option<u64>,
    pub invol_ctx_switches: Option<u64>,
    pub utime_ticks: Option<u64>,
    pub stime_ticks: Option<u64>,
    /// `None` also when the kernel has no schedstat.
    pub cpu_ns: Option<u64>,
    /// Unexpected deaths of this slot's workers that the master restarted (cumulative since
    /// the server started, not a difference: a restart changes the generation anyway).
    #[serde(default)]
    pub restarts: u64,
    /// Requests answered with `200` (a difference, as `accepted`).
    #[serde(default)]
    pub requests: u64,
    /// Connections open in the worker when the snapshot was taken (a gauge, not a difference).
    #[serde(default)]
    pub open: u64,
    /// The integral of open connections over time, connection-nanoseconds (a difference:
    /// over a snapshot interval, its mean number open times the interval's length).
    #[serde(default)]
    pub open_ns: u64,
    /// The most connections open at once since the previous snapshot of this server (any
    /// snapshot: `herd run` takes one at the phase's start).
    #[serde(default)]
    pub open_max: u64,
    /// A hand-off acceptor's connections handed to a worker (a difference, as `accepted`).
    #[serde(default)]
    pub handoffs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// CLOCK_MONOTONIC when the snapshot was taken.
    pub t_ns: u64,
    /// Clock ticks per second of `utime_ticks` and `stime_ticks`.
    pub ticks_per_s: u64,
    /// The serving workers (active slots) only: not the old generation still draining after a
    /// reload, not slots that are free. A slot whose worker died and awaits its restart is
    /// listed with pid 0.
    pub workers: Vec<WorkerSample>,
    /// Pid of the worker holding the accept lock (0: nobody); absent for strategies without a
    /// lock. Filled in by the master.
    #[serde(default)]
    pub lock_holder: Option<u64>,
    /// Reloads (SIGHUP) so far.
    #[serde(default)]
    pub reloads: u64,
    /// Old-generation or removed workers still finishing their connections.
    #[serde(default)]
    pub draining: u64,
    /// In a difference of two snapshots, the nanoseconds between them (0 in a snapshot).
    #[serde(default)]
    pub span_ns: u64,
    /// The server's worker model (`sync` or `event`) and, in the event model, its
    /// `--worker-connections`. Filled in by the master.
    #[serde(default)]
    pub worker_model: String,
    #[serde(default)]
    pub worker_connections: u64,
    /// A hand-off strategy's acceptor (its own process or thread, not a worker): its counts,
    /// with `restarts` the times the master restarted it. `None` for other strategies. Filled
    /// in by the master.
    #[serde(default)]
    pub acceptor: Option<WorkerSample>,
    /// Connections a hand-off acceptor had taken from the kernel but not handed to a worker
    /// when it died, over the server's life (cumulative, not a difference).
    #[serde(default)]
    pub handoff_lost: u64,
}

impl WorkerSample {
    /// Read slot `worker` and, when it is occupied, its thread's /proc counters; its open
    /// connections as of `now_ns` in snapshot epoch `epoch`.
    pub fn read_at(worker: usize, slot: &Slot, now_ns: u64, epoch: u64) -> Self {
        let o = slot.read_open(now_ns, epoch);
        WorkerSample {
            requests: Slot::read(&slot.requests),
            open: o.open,
            open_ns: o.open_ns,
            open_max: o.open_max,
            ..Self::read(worker, slot)
        }
    }

    /// Read slot `worker`'s counters and, when it is occupied, its thread's /proc counters.
    pub fn read(worker: usize, slot: &Slot) -> Self {
        let r = Slot::read;
        let (pid, tid) = (r(&slot.pid), r(&slot.tid));
        let k = (pid != 0)
            .then(|| procfs::thread_stat(pid, tid).ok())
            .flatten();
        WorkerSample {
            worker,
            pid,
            tid,
            generation: r(&slot.generation),
            accepted: r(&slot.accepted),
            wakeups: r(&slot.wakeups),
            spurious_wakeups: r(&slot.spurious),
            eagain: r(&slot.eagain),
            lock_acquires: r(&slot.lock_acquires),
            lock_wait_ns: r(&slot.lock_wait_ns),
            lock_recovered: r(&slot.lock_recovered),
            accept_err_no_fds: r(&slot.err_no_fds),
            accept_err_connaborted: r(&slot.err_connaborted),
            accept_err_other: r(&slot.err_other),
            conn_errors: r(&slot.conn_errors),
            bad_requests: r(&slot.bad_requests),
            busy_ns: r(&slot.busy_ns),
            vol_ctx_switches: k.map(|k| k.vol_ctx_switches),
            invol_ctx_switches: k.map(|k| k.invol_ctx_switches),
            utime_ticks: k.map(|k| k.utime_ticks),
            stime_ticks: k.map(|k| k.stime_ticks),
            cpu_ns: k.and_then(|k| k.cpu_ns),
            restarts: 0,
            handoffs: r(&slot.handoffs),
            ..Default::default()
        }
    }

    /// What happened between `before` and `self`. A worker that was restarted in between
    /// (another generation) counts from zero.
    pub fn since(&self, before: &WorkerSample) -> WorkerSample {
        if before.generation != self.generation || before.tid != self.tid {
            return self.clone();
        }
        let d = |a: u64, b: u64| a.saturating_sub(b);
        // A kernel count is known over the interval only if it was read at both ends.
        let k = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        WorkerSample {
            worker: self.worker,
            pid: self.pid,
            tid: self.tid,
            generation: self.generation,
            accepted: d(self.accepted, before.accepted),
            wakeups: d(self.wakeups, before.wakeups),
            spurious_wakeups: d(self.spurious_wakeups, before.spurious_wakeups),
            eagain: d(self.eagain, before.eagain),
            lock_acquires: d(self.lock_acquires, before.lock_acquires),
            lock_wait_ns: d(self.lock_wait_ns, before.lock_wait_ns),
            lock_recovered: d(self.lock_recovered, before.lock_recovered),
            accept_err_no_fds: d(self.accept_err_no_fds, before.accept_err_no_fds),
            accept_err_connaborted: d(self.accept_err_connaborted, before.accept_err_connaborted),
            accept_err_other: d(self.accept_err_other, before.accept_err_other),
            conn_errors: d(self.conn_errors, before.conn_errors),
            bad_requests: d(self.bad_requests, before.bad_requests),
            busy_ns: d(self.busy_ns, before.busy_ns),
            vol_ctx_switches: k(self.vol_ctx_switches, before.vol_ctx_switches),
            invol_ctx_switches: k(self.invol_ctx_switches, before.invol_ctx_switches),
            utime_ticks: k(self.utime_ticks, before.utime_ticks),
            stime_ticks: k(self.stime_ticks, before.stime_ticks),
            cpu_ns: k(self.cpu_ns, before.cpu_ns),
            restarts: self.restarts,
            requests: d(self.requests, before.requests),
            open: self.open,
            open_ns: d(self.open_ns, before.open_ns),
            open_max: self.open_max,
            handoffs: d(self.handoffs, before.handoffs),
        }
    }
}

impl Snapshot {
    /// Read every active slot of `board`, then start a new snapshot epoch (the next
    /// snapshot's `open_max` covers the time from this one).
    pub fn take(board: &Scoreboard) -> Self {
        let t_ns = crate::sys::clock::monotonic_ns();
        let epoch = board.epoch().load(std::sync::atomic::Ordering::Acquire);
        let snap = Snapshot {
            t_ns,
            ticks_per_s: crate::sys::clock::clock_ticks_per_sec(),
            workers: board
                .active_slots()
                .map(|i| WorkerSample {
                    restarts: board.restarts(i),
                    ..WorkerSample::read_at(i, board.slot(i), t_ns, epoch)
                })
                .collect(),
            ..Default::default()
        };
        board
            .epoch()
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        snap
    }

    /// Per-worker differences `self - before`, matched by worker index (slot) and generation.
    /// A worker in `self` but not in `before` (added, or a new slot after a reload) counts
    /// from zero; one in `before` only (removed, or an old generation) is left out.
    pub fn since(&self, before: &Snapshot) -> Snapshot {
        let workers = self
            .workers
            .iter()
            .map(
                |w| match before.workers.iter().find(|b| b.worker == w.worker) {
                    Some(b) => w.since(b),
                    None => w.clone(),
                },
            )
            .collect();
        Snapshot {
            t_ns: self.t_ns,
            ticks_per_s: self.ticks_per_s,
            workers,
            lock_holder: self.lock_holder,
            reloads: self.reloads,
            draining: self.draining,
            span_ns: self.t_ns.saturating_sub(before.t_ns),
            worker_model: self.worker_model.clone(),
            worker_connections: self.worker_connections,
            acceptor: match (&self.acceptor, &before.acceptor) {
                (Some(a), Some(b)) => Some(a.since(b)),
                (a, _) => a.clone(),
            },
            handoff_lost: self.handoff_lost,
        }
    }

    /// The sum of a counter over all workers.
    pub fn total(&self, f: impl Fn(&WorkerSample) -> u64) -> u64 {
        self.workers.iter().map(f).sum()
    }

    /// The sum of a kernel count over all workers: `None` if it is missing for any worker (a
    /// sum over some of them is not the total) or there are no workers.
    pub fn total_known(&self, f: impl Fn(&WorkerSample) -> Option<u64>) -> Option<u64> {
        if self.workers.is_empty() {
            return None;
        }
        self.workers.iter().map(f).sum()
    }

    /// As [`Snapshot::total`], over the workers and the hand-off acceptor, if any: what the
    /// whole server spent (wakeups).
    pub fn server_total(&self, f: impl Fn(&WorkerSample) -> u64) -> u64 {
        self.total(&f) + self.acceptor.as_ref().map_or(0, &f)
    }

    /// As [`Snapshot::total_known`], over the workers and the hand-off acceptor, if any
    /// (context switches, CPU): unknown if unknown for any of them.
    pub fn server_total_known(&self, f: impl Fn(&WorkerSample) -> Option<u64>) -> Option<u64> {
        let workers = self.total_known(&f)?;
        match &self.acceptor {
            Some(a) => Some(workers + f(a)?),
            None => Some(workers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_subtracts_and_restart_counts_from_zero() {
        let a = WorkerSample {
            worker: 0,
            tid: 7,
            generation: 1,
            accepted: 10,
            wakeups: 30,
            ..Default::default()
        };
        let b = WorkerSample {
            accepted: 25,
            wakeups: 41,
            ..a.clone()
        };
        let d = b.since(&a);
        assert_eq!((d.accepted, d.wakeups), (15, 11));
        let restarted = WorkerSample {
            generation: 2,
            tid: 9,
            accepted: 3,
            ..a.clone()
        };
        assert_eq!(restarted.since(&a).accepted, 3);
    }

    #[test]
    fn a_kernel_count_read_at_one_end_only_is_unknown_not_zero() {
        let a = WorkerSample {
            tid: 7,
            vol_ctx_switches: Some(10),
            cpu_ns: None,
            ..Default::default()
        };
        let b = WorkerSample {
            vol_ctx_switches: Some(25),
            cpu_ns: Some(1_000),
            ..a.clone()
        };
        let d = b.since(&a);
        assert_eq!(d.vol_ctx_switches, Some(15));
        assert_eq!(d.cpu_ns, None);
        let snap = |ws: Vec<WorkerSample>| Snapshot {
            workers: ws,
            ..Default::default()
        };
        let both = snap(vec![d.clone(), d.clone()]);
        assert_eq!(both.total_known(|w| w.vol_ctx_switches), Some(30));
        assert_eq!(both.total_known(|w| w.cpu_ns), None);
        assert_eq!(snap(vec![]).total_known(|w| w.vol_ctx_switches), None);
    }

    #[test]
    fn a_worker_whose_proc_entry_cannot_be_read_has_no_kernel_counts() {
        let board = Scoreboard::new(1).unwrap();
        let slot = board.slot(0);
        // A pid no process has: its /proc entry cannot be read.
        slot.pid
            .store(u64::from(u32::MAX), std::sync::atomic::Ordering::Relaxed);
        slot.tid
            .store(u64::from(u32::MAX), std::sync::atomic::Ordering::Relaxed);
        let w = WorkerSample::read(0, slot);
        assert_eq!(
            (
                w.vol_ctx_switches,
                w.invol_ctx_switches,
                w.utime_ticks,
                w.stime_ticks,
                w.cpu_ns
            ),
            (None, None, None, None, None)
        );
        // This thread's can.
        let me = std::process::id();
        slot.pid
            .store(u64::from(me), std::sync::atomic::Ordering::Relaxed);
        slot.tid
            .store(u64::from(me), std::sync::atomic::Ordering::Relaxed);
        assert!(WorkerSample::read(0, slot).vol_ctx_switches.is_some());
    }
}
