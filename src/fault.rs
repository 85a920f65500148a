//! Fault injection inside `herd serve`'s workers, so that every way a worker can die is
//! testable on demand:
//!
//! - `--fault die-holding-lock:P`: a worker that has just taken the accept lock (and recorded
//!   itself as holder) SIGKILLs itself with probability P. Only lock strategies have a lock.
//! - `--fault crash-after:N`: a worker exits abruptly (`_exit(86)`, no cleanup) after serving
//!   N connections.
//! - SIGUSR2 to the master arms a one-shot "die holding the lock": the next worker to take the
//!   accept lock SIGKILLs itself while holding it. `herd chaos` uses it for `kill-holder`, so
//!   the kill lands exactly while the lock is held (a pid read from the scoreboard and then
//!   killed would usually have passed the lock on already).
//!
//! Cost when no fault is configured: one relaxed load and a predictable branch per connection,
//! and per lock acquisition one more load of a read-mostly shared word.
use crate::sys::atomic_lock::LockWord;
use crate::sys::process;
use crate::sys::shm::SharedArray;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Exit status of a worker stopped by `crash-after`.
pub const CRASH_EXIT_CODE: i32 = 86;

/// One `--fault` flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    DieHoldingLock(f64),
    CrashAfter(u64),
}

impl Fault {
    /// `die-holding-lock:P` (0 < P <= 1) or `crash-after:N` (N >= 1).
    pub fn parse(s: &str) -> Result<Fault, String> {
        let (kind, val) = s
            .split_once(':')
            .ok_or_else(|| format!("{s}: expected KIND:VALUE, e.g. die-holding-lock:0.01"))?;
        match kind {
            "die-holding-lock" => match val.parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 1.0 => Ok(Fault::DieHoldingLock(p)),
                _ => Err(format!("{s}: the probability must be in (0, 1]")),
            },
            "crash-after" => match val.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Fault::CrashAfter(n)),
                _ => Err(format!("{s}: the count must be a whole number >= 1")),
            },
            _ => Err(format!(
                "{s}: unknown fault {kind} (die-holding-lock:P, crash-after:N)"
            )),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::DieHoldingLock(p) => write!(f, "die-holding-lock:{p}"),
            Fault::CrashAfter(n) => write!(f, "crash-after:{n}"),
        }
    }
}

/// Faults and resource limits of a server, from the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    pub faults: Vec<Fault>,
    /// RLIMIT_NOFILE for each worker, set after its acceptor exists (`--worker-nofile`).
    pub worker_nofile: Option<u64>,
}

/// f64 bits of the die-holding-lock probability; 0: off. Set in each worker after fork.
static DIE_HOLDING_LOCK: AtomicU64 = AtomicU64::new(0);
/// Connections after which a worker crashes; 0: off.
static CRASH_AFTER: AtomicU64 = AtomicU64::new(0);
/// The one-shot "next lock holder dies" word, shared by the master and every worker.
static ARMED: OnceLock<SharedArray<LockWord>> = OnceLock::new();

/// In the master, before the first fork: map the shared one-shot word.
pub fn install_shared() -> io::Result<()> {
    if ARMED.get().is_none() {
        let _ = ARMED.set(SharedArray::new(2)?);
    }
    Ok(())
}

/// What the one-shot word asks of the next lock holder.
const ARMED_DIE: u64 = 1;
const ARMED_FREEZE: u64 = 2;

/// In the master: the next worker to take an accept lock dies holding it.
pub fn arm_die_next_holder() {
    if let Some(a) = ARMED.get() {
        a[0].0.store(ARMED_DIE, Ordering::Release);
    }
}

/// In the master (SIGWINCH): the next worker to take an accept lock stops itself (SIGSTOP)
/// holding it, frozen rather than dead, until someone sends it SIGCONT (or kills it).
pub fn arm_freeze_next_holder() {
    if let Some(a) = ARMED.get() {
        a[0].0.store(ARMED_FREEZE, Ordering::Release);
    }
}

/// In a worker after fork: enable the configured faults.
pub fn install_in_worker(cfg: &FaultConfig) {
    fastrand::seed(u64::from(std::process::id()) ^ crate::sys::clock::monotonic_ns());
    for f in &cfg.faults {
        match *f {
            Fault::DieHoldingLock(p) => DIE_HOLDING_LOCK.store(p.to_bits(), Ordering::Relaxed),
            Fault::CrashAfter(n) => CRASH_AFTER.store(n, Ordering::Relaxed),
        }
    }
}

/// Called by a worker right after it took the accept lock and recorded itself as holder.
#[inline]
pub fn lock_taken() {
    let p = DIE_HOLDING_LOCK.load(Ordering::Relaxed);
    let armed = ARMED
        .get()
        .is_some_and(|a| a[0].0.load(Ordering::Relaxed) != 0);
    if p != 0 || armed {
        lock_taken_slow(f64::from_bits(p));
    }
}

/// Called by the master once every worker is ready: probabilistic faults fire only from then
/// on, so a worker cannot die during startup (which the master treats as a failed start).
pub fn server_ready() {
    if let Some(a) = ARMED.get() {
        a[1].0.store(1, Ordering::Release);
    }
}

fn is_ready() -> bool {
    ARMED
        .get()
        .is_some_and(|a| a[1].0.load(Ordering::Acquire) != 0)
}

#[cold]
fn lock_taken_slow(p: f64) {
    if !is_ready() {
        return;
    }
    let armed = ARMED.get().map_or(0, |a| a[0].0.swap(0, Ordering::AcqRel));
    let threads = IN_THREAD.load(Ordering::Relaxed);
    if armed == ARMED_FREEZE {
        if threads {
            freeze_thread();
        } else {
            process::stop_self();
        }
    } else if armed == ARMED_DIE || (p > 0.0 && fastrand::f64() < p) {
        if threads {
            panic!("die-holding-lock: this worker thread dies holding the accept lock on purpose");
        }
        process::kill_self();
    }
}

/// Thread mode: a thread cannot be killed or stopped alone (SIGKILL and SIGSTOP act on the
/// whole process), so its faults are the thread's own: dying is a panic (the master releases
/// what it held and restarts it), freezing is sleeping with the lock held until the thread is
/// told to stop (a graceful stop or a drain), as a thread stuck in a long system call would.
static IN_THREAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Thread mode, SIGWINCH: hold on to the accept lock, doing nothing, until told to stop.
#[cold]
fn freeze_thread() {
    while !crate::sys::signal::stop_requested() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// In a worker thread (thread mode): enable the faults, each as the thread's own (a panic for
/// dying, see [`IN_THREAD`]).
pub fn install_in_thread_worker(cfg: &FaultConfig) {
    IN_THREAD.store(true, Ordering::Relaxed);
    for f in &cfg.faults {
        match *f {
            Fault::DieHoldingLock(p) => DIE_HOLDING_LOCK.store(p.to_bits(), Ordering::Relaxed),
            Fault::CrashAfter(n) => CRASH_AFTER.store(n, Ordering::Relaxed),
        }
    }
}

/// Called by a worker after each connection, with its count of accepted connections.
#[inline]
pub fn connection_done(accepted: u64) {
    let n = CRASH_AFTER.load(Ordering::Relaxed);
    if n != 0 && accepted >= n {
        if IN_THREAD.load(Ordering::Relaxed) {
            panic!("crash-after:{n}: this worker thread crashes on purpose");
        }
        process::exit_now(CRASH_EXIT_CODE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faults_and_rejects_bad_ones() {
        assert_eq!(
            Fault::parse("die-holding-lock:0.5"),
            Ok(Fault::DieHoldingLock(0.5))
        );
        assert_eq!(Fault::parse("crash-after:7"), Ok(Fault::CrashAfter(7)));
        for bad in [
            "die-holding-lock:0",
            "die-holding-lock:2",
            "crash-after:0",
            "x:1",
            "y",
        ] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Fault::CrashAfter(3).to_string(), "crash-after:3");
    }
}
