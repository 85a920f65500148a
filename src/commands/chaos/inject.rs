//! The fault thread of a chaos segment: applying one kind of fault to a running `herd serve`
//! from outside, at fixed times, and telling which faults really happened.
use super::schedule::{FaultKind, Item};
use crate::sys::clock::monotonic_ns;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The fault thread: apply `item` at start + k * every for k = 1, 2, ... before `end`; return
/// the CLOCK_MONOTONIC time of each fault applied.
pub(super) fn apply_faults(
    master: Pid,
    item: &Item,
    applicable: bool,
    workers: usize,
    start: u64,
    end: u64,
    stop: &AtomicBool,
) -> Vec<u64> {
    let mut times = Vec::new();
    let every = item.every.as_nanos() as u64;
    for k in 1.. {
        let at = start + k * every;
        if at >= end {
            break;
        }
        while monotonic_ns() < at && !stop.load(Ordering::SeqCst) {
            let left = at.saturating_sub(monotonic_ns()).min(5_000_000);
            std::thread::sleep(Duration::from_nanos(left));
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let applied = match item.kind {
            FaultKind::Reload => reload_confirmed(master, workers),
            FaultKind::KillHolder => applicable && kill(master, Signal::SIGUSR2).is_ok(),
            FaultKind::KillAcceptor => {
                applicable
                    && children(master.as_raw())
                        .into_iter()
                        .find(|&p| is_acceptor(p))
                        .is_some_and(|p| kill(Pid::from_raw(p), Signal::SIGKILL).is_ok())
            }
            FaultKind::Kill => signal_a_worker(master, Signal::SIGKILL),
            FaultKind::Freeze => {
                thaw(master);
                signal_a_worker(master, Signal::SIGSTOP)
            }
            FaultKind::FreezeHolder => {
                thaw(master);
                applicable && kill(master, Signal::SIGWINCH).is_ok()
            }
        };
        if applied {
            times.push(monotonic_ns());
        }
    }
    if item.kind.freezes() {
        // The last frozen worker stays frozen to the end of the faulted part, then thaws.
        while monotonic_ns() < end && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        thaw(master);
    }
    times
}

/// `sig` to a random worker (the hand-off acceptor has a fault of its own); whether it was sent.
fn signal_a_worker(master: Pid, sig: Signal) -> bool {
    let kids: Vec<i32> = children(master.as_raw())
        .into_iter()
        .filter(|&p| !is_acceptor(p))
        .collect();
    !kids.is_empty() && kill(Pid::from_raw(kids[fastrand::usize(..kids.len())]), sig).is_ok()
}

/// SIGCONT to every worker: whatever was frozen goes on.
fn thaw(master: Pid) {
    for k in children(master.as_raw()) {
        let _ = kill(Pid::from_raw(k), Signal::SIGCONT);
    }
}

/// SIGHUP, then wait (up to 1 s) until the master has forked `workers` new workers:
/// signals of one kind coalesce while pending, so a second SIGHUP sent before the master read
/// the first would be no second reload. Only confirmed reloads are counted as faults.
fn reload_confirmed(master: Pid, workers: usize) -> bool {
    let before = children(master.as_raw());
    if kill(master, Signal::SIGHUP).is_err() {
        return false;
    }
    let deadline = monotonic_ns() + 1_000_000_000;
    while monotonic_ns() < deadline {
        // A reload forks one new worker per seat, all in one go.
        let new = children(master.as_raw())
            .iter()
            .filter(|p| !before.contains(p))
            .count();
        if new >= workers {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// The children of `pid` (its workers, serving or draining).
pub(super) fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether process `pid` is a hand-off acceptor (by its name).
pub(super) fn is_acceptor(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|c| c.trim_end() == crate::protocol::ACCEPTOR_NAME)
}

/// Alive and not a zombie.
pub(super) fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}
