//! `locks_handoff`: what it costs to pass a lock from one process to another, the price a lock
//! strategy pays on every connection once its workers are busy.
//!
//! Two processes and three locks of one kind, L0, L1, L2, passed in strict alternation. Round
//! `r` with `s = r mod 3` (indices mod 3) starts with the bench process (A) holding L[s] and
//! L[s+1] and a forked child (B) holding L[s+2]:
//!
//! ```text
//!   A: unlock(L[s])             lock(L[s+2])  <- returns once B has released L[s+2]
//!   B:              lock(L[s])  unlock(L[s+2])
//! ```
//!
//! and ends with A holding L[s+1], L[s+2] and B holding L[s]: the start of round `r+1`. One
//! iteration is one round, i.e. two handoffs in series (A→B, then B→A): a ping-pong round trip.
//! Three locks, not two, so that no process ever asks again for a lock it has just released
//! before the other process has taken it (locks are not fair: with two, a process could barge
//! back into the lock it released and the two would stop alternating). Each lock is released by
//! the process that took it (pthread mutexes and fcntl locks have owners). Whether the waiter is
//! already asleep in the kernel when the lock is released depends on the scheduler, as it does
//! in a server.
//!
//! The child is forked from the bench process, which herd's `fork()` allows only while the
//! process has exactly one thread (criterion's loop runs on the main thread, and this group runs
//! before any `herd serve` child and its reader threads exist). One child per sample; it is
//! killed and reaped by [`Reaper`] also when the bench panics, and dies with its parent
//! (PR_SET_PDEATHSIG).
use criterion::{criterion_group, Criterion};
use herd::sys::atomic_lock::{LockWord, SharedTryLock};
use herd::sys::filelock::{self, LockFile};
use herd::sys::pmutex::PsharedMutex;
use herd::sys::process::{self, Forked};
use herd::sys::psem::PosixSem;
use herd::sys::shm::SharedArray;
use herd::sys::sysv::SysvSem;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

criterion_group!(benches, handoff);

fn handoff(c: &mut Criterion) {
    let mut g = c.benchmark_group("locks_handoff");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for &kind in Kind::ALL {
        g.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| round_trips(kind, iters))
        });
    }
    g.finish();
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// nginx's accept mutex: a compare-and-swap on a shared word, waited for as nginx does
    /// (spin 1, 2, 4, … 1024 pauses with a try after each, then sched_yield). Cheap while both
    /// processes have a CPU of their own; when they share one, at the mercy of sched_yield. A
    /// pure spin without the yield is not benchmarked: on a busy 2-core machine a spinner can
    /// keep for a whole timeslice the CPU its peer needs to release the word (milliseconds per
    /// round trip were measured that way here).
    TryLock,
    PthreadMutex,
    PthreadMutexRobust,
    PosixSem,
    SysvSem,
    Fcntl,
    Flock,
}

impl Kind {
    const ALL: &'static [Kind] = &[
        Kind::TryLock,
        Kind::PthreadMutex,
        Kind::PthreadMutexRobust,
        Kind::PosixSem,
        Kind::SysvSem,
        Kind::Fcntl,
        Kind::Flock,
    ];

    /// The same names as in `locks_uncontended`.
    fn name(self) -> &'static str {
        match self {
            Kind::TryLock => "try-lock",
            Kind::PthreadMutex => "pthread-mutex",
            Kind::PthreadMutexRobust => "pthread-mutex-robust",
            Kind::PosixSem => "posix-sem",
            Kind::SysvSem => "sysv-sem",
            Kind::Fcntl => "fcntl",
            Kind::Flock => "flock",
        }
    }
}

/// Three locks of one kind, made before fork.
enum Locks {
    Words([SharedTryLock; 3]),
    Mutex([PsharedMutex; 3]),
    Posix([PosixSem; 3]),
    Sysv([SysvSem; 3]),
    /// Lock files, each in its own temporary directory (a lock file's name is the pid's).
    Files {
        files: [LockFile; 3],
        _dirs: [tempfile::TempDir; 3],
        flock: bool,
    },
}

fn three<T>(f: impl Fn() -> io::Result<T>) -> io::Result<[T; 3]> {
    Ok([f()?, f()?, f()?])
}

impl Locks {
    fn new(kind: Kind) -> io::Result<Locks> {
        Ok(match kind {
            Kind::TryLock => Locks::Words(three(SharedTryLock::new)?),
            Kind::PthreadMutex => Locks::Mutex(three(|| PsharedMutex::new(false))?),
            Kind::PthreadMutexRobust => Locks::Mutex(three(|| PsharedMutex::new(true))?),
            Kind::PosixSem => Locks::Posix(three(|| PosixSem::new(1))?),
            Kind::SysvSem => Locks::Sysv(three(SysvSem::new)?),
            Kind::Fcntl | Kind::Flock => {
                let dirs = three(tempfile::tempdir)?;
                let files = [
                    LockFile::create(dirs[0].path())?,
                    LockFile::create(dirs[1].path())?,
                    LockFile::create(dirs[2].path())?,
                ];
                Locks::Files {
                    files,
                    _dirs: dirs,
                    flock: matches!(kind, Kind::Flock),
                }
            }
        })
    }
}

/// Child states in the shared control word.
const STARTING: u64 = 0;
const READY: u64 = 1;
const FAILED: u64 = 2;

/// One process's handle on the locks: file locks need the process's own open files (an flock
/// belongs to an open file description, and one inherited across fork would be shared).
struct Side<'a> {
    locks: &'a Locks,
    files: Option<[File; 3]>,
    me: u64,
    control: &'a AtomicU64,
}

impl<'a> Side<'a> {
    fn open(locks: &'a Locks, control: &'a AtomicU64) -> io::Result<Self> {
        let files = match locks {
            Locks::Files { files, .. } => {
                Some([files[0].open()?, files[1].open()?, files[2].open()?])
            }
            _ => None,
        };
        Ok(Side {
            locks,
            files,
            me: u64::from(std::process::id()),
            control,
        })
    }

    fn file(&self, i: usize) -> &File {
        &self.files.as_ref().expect("files opened for a file lock")[i]
    }

    fn lock(&self, i: usize) -> io::Result<()> {
        match self.locks {
            Locks::Words(w) => spin_lock(&w[i], self.me, self.control),
            Locks::Mutex(m) => m[i].lock().map(drop),
            Locks::Posix(s) => s[i].lock(),
            Locks::Sysv(s) => s[i].lock(),
            Locks::Files { flock: false, .. } => filelock::fcntl_lock(self.file(i)),
            Locks::Files { flock: true, .. } => filelock::flock_lock(self.file(i)),
        }
    }

    fn unlock(&self, i: usize) -> io::Result<()> {
        match self.locks {
            Locks::Words(w) if w[i].unlock(self.me) => Ok(()),
            Locks::Words(..) => Err(io::Error::other(
                "released a word this process does not hold",
            )),
            Locks::Mutex(m) => m[i].unlock(),
            Locks::Posix(s) => s[i].unlock(),
            Locks::Sysv(s) => s[i].unlock(),
            Locks::Files { flock: false, .. } => filelock::fcntl_unlock(self.file(i)),
            Locks::Files { flock: true, .. } => filelock::flock_unlock(self.file(i)),
        }
    }
}

/// nginx's ngx_shmtx_lock without its semaphore, as described in its source: try, spin with
/// growing pauses trying again, yield the CPU, start over.
fn spin_lock(l: &SharedTryLock, me: u64, control: &AtomicU64) -> io::Result<()> {
    let mut rounds = 0u64;
    loop {
        if l.try_lock(me) {
            return Ok(());
        }
        let mut n = 1;
        while n < 2048 {
            for _ in 0..n {
                std::hint::spin_loop();
            }
            if l.try_lock(me) {
                return Ok(());
            }
            n <<= 1;
        }
        std::thread::yield_now();
        rounds += 1;
        // Nobody else will ever release the word if the other process is gone.
        if rounds % 64 == 0 && control.load(Ordering::Relaxed) == FAILED {
            return Err(io::Error::other("the other process failed"));
        }
    }
}

/// Round `r`: the bench process releases `.0` and takes `.1`; the child takes `.0` and releases
/// `.1`.
fn round(r: u64) -> (usize, usize) {
    let s = (r % 3) as usize;
    (s, (s + 2) % 3)
}

/// What each side holds before round `r` (and so after `r` rounds): the bench process
/// `.0` and `.1`, the child `.2`.
fn holdings(r: u64) -> (usize, usize, usize) {
    let s = (r % 3) as usize;
    (s, (s + 1) % 3, (s + 2) % 3)
}

/// Fork a child, time `iters` round trips against it, reap it.
fn round_trips(kind: Kind, iters: u64) -> Duration {
    let locks = Locks::new(kind).expect("create the locks");
    let control = SharedArray::<LockWord>::new(1).expect("shared control word");
    let control = &control[0].0;
    let me = Side::open(&locks, control).expect("open the parent's side");
    let (a0, a1, _) = holdings(0);
    me.lock(a0).expect("parent takes its first lock");
    me.lock(a1).expect("parent takes its second lock");
    let parent = std::process::id() as libc::pid_t;
    let reaper = match process::fork().expect("fork (the bench process must be single-threaded)") {
        Forked::Child => child(&locks, control, parent, iters),
        Forked::Parent(pid) => Reaper(Some(Pid::from_raw(pid))),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while control.load(Ordering::Acquire) == STARTING {
        assert!(Instant::now() < deadline, "handoff child not ready in 10 s");
        std::thread::sleep(Duration::from_micros(20));
    }
    let start = Instant::now();
    for r in 0..iters {
        let (give, take) = round(r);
        me.unlock(give).expect("parent unlock");
        me.lock(take).expect("parent lock");
        if control.load(Ordering::Relaxed) == FAILED {
            break;
        }
    }
    let elapsed = start.elapsed();
    let (a0, a1, _) = holdings(iters);
    me.unlock(a0).expect("parent final unlock");
    me.unlock(a1).expect("parent final unlock");
    let status = reaper.wait();
    assert!(
        matches!(status, Ok(WaitStatus::Exited(_, 0))) && control.load(Ordering::Relaxed) == READY,
        "{} handoff child failed: {status:?}",
        kind.name()
    );
    elapsed
}

/// The child's side of [`round_trips`]. Never returns: leaves with _exit, running no destructor
/// of what it inherited from the bench process.
fn child(locks: &Locks, control: &AtomicU64, parent: libc::pid_t, iters: u64) -> ! {
    let run = || -> io::Result<()> {
        process::die_with_parent(libc::SIGKILL, parent)?;
        let me = Side::open(locks, control)?;
        me.lock(holdings(0).2)?;
        control.store(READY, Ordering::Release);
        for r in 0..iters {
            let (take, give) = round(r);
            me.lock(take)?;
            me.unlock(give)?;
        }
        me.unlock(holdings(iters).2)
    };
    match run() {
        Ok(()) => process::exit_now(0),
        Err(e) => {
            eprintln!("handoff child: {e}");
            control.store(FAILED, Ordering::Release);
            // Unblock a parent waiting for a lock the kernel will not give back for us.
            if let Ok(me) = Side::open(locks, control) {
                let _ = (me.unlock(0), me.unlock(1), me.unlock(2));
            }
            process::exit_now(1)
        }
    }
}

/// Kills (SIGKILL) and reaps the child unless [`Reaper::wait`] already reaped it.
struct Reaper(Option<Pid>);

impl Reaper {
    fn wait(mut self) -> nix::Result<WaitStatus> {
        match self.0.take() {
            Some(pid) => waitpid(pid, None),
            None => Err(nix::errno::Errno::ECHILD),
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}
