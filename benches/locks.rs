//! `locks_uncontended`: one acquire plus one release of each cross-process lock primitive herd
//! has in `herd::sys`, by a single process with nobody else interested: the price a worker pays
//! for the lock on every connection even when there is no herd. A plain atomic swap/store is
//! the floor.
use criterion::{black_box, criterion_group, BenchmarkGroup, Criterion};
use herd::sys::atomic_lock::SharedTryLock;
use herd::sys::filelock::{self, LockFile};
use herd::sys::pmutex::PsharedMutex;
use herd::sys::psem::PosixSem;
use herd::sys::sysv::SysvSem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

criterion_group!(benches, uncontended);

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("locks_uncontended");
    g.sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));

    atomic(&mut g);
    try_lock(&mut g);
    pthread_mutex(&mut g, false);
    pthread_mutex(&mut g, true);
    posix_sem(&mut g);
    sysv_sem(&mut g);
    file_locks(&mut g);
    g.finish();
}

/// The floor: an atomic swap to take, a store to give back. No syscall, no shared mapping.
fn atomic(g: &mut Group<'_>) {
    let flag = AtomicBool::new(false);
    g.bench_function("atomic", |b| {
        b.iter(|| {
            let was = flag.swap(true, Ordering::Acquire);
            flag.store(false, Ordering::Release);
            black_box(was)
        })
    });
}

/// nginx's accept mutex: a compare-and-swap of the holder's pid into shared memory.
fn try_lock(g: &mut Group<'_>) {
    let lock = SharedTryLock::new().expect("shared try-lock");
    let me = u64::from(std::process::id());
    g.bench_function("try-lock", |b| {
        b.iter(|| {
            assert!(lock.try_lock(me), "try-lock taken by someone else");
            lock.unlock(me)
        })
    });
}

fn pthread_mutex(g: &mut Group<'_>, robust: bool) {
    let m = PsharedMutex::new(robust).expect("process-shared mutex");
    let name = if robust {
        "pthread-mutex-robust"
    } else {
        "pthread-mutex"
    };
    g.bench_function(name, |b| {
        b.iter(|| {
            let how = m.lock().expect("lock");
            m.unlock().expect("unlock");
            how
        })
    });
}

fn posix_sem(g: &mut Group<'_>) {
    let s = PosixSem::new(1).expect("POSIX semaphore");
    g.bench_function("posix-sem", |b| {
        b.iter(|| {
            s.lock().expect("sem_wait");
            s.unlock().expect("sem_post")
        })
    });
}

/// Two semop(2) calls with SEM_UNDO, as the sysv-sem strategy does.
fn sysv_sem(g: &mut Group<'_>) {
    let s = SysvSem::new().expect("SysV semaphore");
    g.bench_function("sysv-sem", |b| {
        b.iter(|| {
            s.lock().expect("semop -1");
            s.unlock().expect("semop +1")
        })
    });
}

/// fcntl(2) record lock and flock(2) on a file in a fresh temporary directory.
fn file_locks(g: &mut Group<'_>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let lf = LockFile::create(dir.path()).expect("lock file");
    let file = lf.open().expect("open lock file");
    g.bench_function("fcntl", |b| {
        b.iter(|| {
            filelock::fcntl_lock(&file).expect("F_SETLKW");
            filelock::fcntl_unlock(&file).expect("F_UNLCK")
        })
    });
    g.bench_function("flock", |b| {
        b.iter(|| {
            filelock::flock_lock(&file).expect("LOCK_EX");
            filelock::flock_unlock(&file).expect("LOCK_UN")
        })
    });
}
