//! The SysV semaphore set is removed when the server exits, also when it fails to start.
//! Alone in its test binary so no other test creates semaphores meanwhile.
mod common;
use common::*;
use std::time::Duration;

fn sem_sets() -> usize {
    std::fs::read_to_string("/proc/sysvipc/sem")
        .map(|s| s.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

#[test]
fn semaphore_removed_on_exit_and_on_error() {
    let before = sem_sets();
    let mut s = Server::start(&["--workers", "2", "--strategy", "sysv-sem"]);
    assert_eq!(
        sem_sets(),
        before + 1,
        "the server should hold one semaphore set"
    );
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(sem_sets(), before, "semaphore set left behind after exit");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = herd_output(
        &["serve", "--strategy", "sysv-sem", "--addr", &addr],
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        sem_sets(),
        before,
        "semaphore set left behind after a failed start"
    );

    // Thread mode: the set is removed once every worker thread is joined.
    let mut s = Server::start(&[
        "--workers",
        "2",
        "--strategy",
        "sysv-sem",
        "--mode",
        "thread",
    ]);
    assert!(get(s.addr).starts_with("HTTP/1.1 200"));
    assert_eq!(sem_sets(), before + 1);
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(
        sem_sets(),
        before,
        "thread mode left its semaphore set behind"
    );
}
