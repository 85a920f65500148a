//! fork(2), _exit(2), gettid(2) and PR_SET_PDEATHSIG.
use std::io;

pub enum Forked {
    /// In the parent, with the child's pid.
    Parent(libc::pid_t),
    /// In the child.
    Child,
}

/// Fork the calling process.
///
/// Only ever called from the single-threaded `herd serve` master: after fork the child has one
/// thread, and a multi-threaded parent could have left a lock (malloc's, stdout's) held by a
/// thread that does not exist in the child. `assert_single_threaded` guards this.
pub fn fork() -> io::Result<Forked> {
    assert_single_threaded()?;
    // SAFETY: the process is single-threaded (checked above), so the child inherits no lock held
    // by another thread and may run arbitrary Rust code.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// Fails unless the calling process has exactly one thread (read from /proc/self/stat).
pub fn assert_single_threaded() -> io::Result<()> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Field 20 is num_threads; fields after the parenthesised comm are space separated.
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let threads = after
        .split_whitespace()
        .nth(17)
        .and_then(|s| s.parse::<u64>().ok());
    match threads {
        Some(1) => Ok(()),
        Some(n) => Err(io::Error::other(format!(
            "refusing to fork a process with {n} threads"
        ))),
        None => Err(io::Error::other(
            "cannot read num_threads from /proc/self/stat",
        )),
    }
}

/// Leave the process at once: no destructors, no atexit handlers, no flush of buffers that the
/// child inherited from its parent.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// The calling thread's kernel thread id.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// Ask the kernel to send `sig` to this process when the thread that forked it dies, so no
/// worker outlives its master. Call it in the child right after fork, then check that the
/// parent is still `expected_parent` (it may have died before the call).
pub fn die_with_parent(sig: libc::c_int, expected_parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number as its second argument.
    syscall!(prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0))?;
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != expected_parent {
        exit_now(1);
    }
    Ok(())
}

/// The effective user id of the calling process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Name the calling thread (the process, for its main thread) as `/proc/PID/comm` and `ps`
/// show it: at most 15 bytes are kept.
pub fn set_name(name: &str) -> io::Result<()> {
    let mut buf = [0u8; 16];
    for (b, c) in buf.iter_mut().zip(name.bytes().take(15)) {
        *b = c;
    }
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; `buf` is one.
    syscall!(prctl(
        libc::PR_SET_NAME,
        buf.as_ptr() as libc::c_ulong,
        0,
        0,
        0
    ))?;
    Ok(())
}

/// SIGSTOP the calling process: it freezes, holding whatever it holds, until SIGCONT (fault
/// injection).
pub fn stop_self() {
    // SAFETY: raise(3) has no memory-safety preconditions.
    unsafe { libc::raise(libc::SIGSTOP) };
}

/// SIGKILL the calling process: die at once, holding whatever it holds (fault injection).
pub fn kill_self() -> ! {
    // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    exit_now(137)
}

/// Wait for child `pid` to end (wait4(2)); its wait status and its peak resident set size in
/// KiB (`ru_maxrss`). For tests and scripts that bound a child's memory.
pub fn wait_with_maxrss(pid: libc::pid_t) -> io::Result<(libc::c_int, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the duration of the call.
        match syscall!(wait4(pid, &mut status, 0, &mut usage)) {
            Ok(_) => return Ok((status, usage.ru_maxrss.max(0) as u64)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
