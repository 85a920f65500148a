//! Signal plumbing. The master blocks its signals and reads them from a signalfd; a worker
//! turns SIGTERM and SIGINT into a flag with a handler installed without SA_RESTART, so that a
//! worker blocked in accept(), semop() or epoll_wait() returns EINTR and sees the flag.
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

thread_local! {
    /// Thread mode: this worker thread alone was asked to stop (a reload's old generation, a
    /// SIGTTOU), by [`thread_drain_signal`]. Const-initialised and without a destructor, so
    /// the handler's access is a plain thread-local store.
    static DRAIN: AtomicBool = const { AtomicBool::new(false) };
}

extern "C" fn on_drain(_: libc::c_int) {
    DRAIN.with(|d| d.store(true, Ordering::SeqCst));
}

/// Whether this process was asked to stop (SIGTERM or SIGINT since `install_stop_flag`), or,
/// in thread mode, this worker thread alone.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed) || DRAIN.with(|d| d.load(Ordering::Relaxed))
}

/// Raise the stop flag from inside the process (thread mode, fault injection).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// The signal that interrupted a driver (`herd run`, `sweep`, `load`), 0 if none.
static INTERRUPTED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_interrupt(sig: libc::c_int) {
    if INTERRUPTED.swap(sig, Ordering::SeqCst) != 0 {
        // A second signal: the user insists. Leave at once (the server child stops by itself
        // when its stdin pipe closes).
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + sig) };
    }
}

/// In a driver (a multi-threaded command that runs load or a server child): SIGINT, SIGTERM
/// and SIGHUP raise a flag ([`interrupted`]) instead of ending the process, so that it can stop
/// its server, say what it measured so far and leave its files whole; a second one ends the
/// process at once. SA_RESTART, so that the driver's threads see no EINTR where they do not
/// expect one (epoll_wait still returns it, and the client loop retries).
pub fn install_interrupt_flag() -> io::Result<()> {
    let act = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: `on_interrupt` only swaps an atomic and may call _exit, both
        // async-signal-safe.
        unsafe { signal::sigaction(sig, &act) }.map_err(io::Error::from)?;
    }
    Ok(())
}

/// The signal that interrupted this driver, if one did.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s),
    }
}

/// The signals the master handles through its signalfd.
pub fn master_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGQUIT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGTTIN,
        Signal::SIGTTOU,
        Signal::SIGWINCH,
    ] {
        set.add(s);
    }
    set
}

/// Block `set` in the calling thread (inherited across fork).
pub fn block(set: &SigSet) -> io::Result<()> {
    signal::sigprocmask(signal::SigmaskHow::SIG_BLOCK, Some(set), None).map_err(io::Error::from)
}

/// In a freshly forked worker: restore default dispositions, install the stop flag on SIGTERM
/// and SIGINT (no SA_RESTART), ignore SIGPIPE and SIGHUP, and unblock what the master blocked.
pub fn install_worker_handlers() -> io::Result<()> {
    let flag = SigAction::new(
        SigHandler::Handler(on_stop),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: `on_stop` only stores to an atomic, which is async-signal-safe; SIG_IGN is always
    // sound.
    unsafe {
        signal::sigaction(Signal::SIGTERM, &flag).map_err(io::Error::from)?;
        signal::sigaction(Signal::SIGINT, &flag).map_err(io::Error::from)?;
        signal::sigaction(Signal::SIGPIPE, &ignore).map_err(io::Error::from)?;
        signal::sigaction(Signal::SIGHUP, &ignore).map_err(io::Error::from)?;
        signal::sigaction(Signal::SIGUSR1, &ignore).map_err(io::Error::from)?;
    }
    signal::sigprocmask(
        signal::SigmaskHow::SIG_UNBLOCK,
        Some(&master_signals()),
        None,
    )
    .map_err(io::Error::from)
}

/// Ignore SIGPIPE in the calling process, so a write to a closed socket is an EPIPE error.
pub fn ignore_sigpipe() -> io::Result<()> {
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN is always sound.
    unsafe { signal::sigaction(Signal::SIGPIPE, &ignore) }
        .map(|_| ())
        .map_err(io::Error::from)
}

/// SIGPIPE back to its default (end the process), for a command that only prints: `herd
/// strategies | head` then ends quietly, as a Unix filter does, instead of failing on EPIPE.
pub fn default_sigpipe() -> io::Result<()> {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_DFL is always sound.
    unsafe { signal::sigaction(Signal::SIGPIPE, &default) }
        .map(|_| ())
        .map_err(io::Error::from)
}

/// Thread mode's stop signal: a real-time signal (the first one glibc leaves free), sent by the
/// main thread with tgkill(2) to each worker thread. Only worker threads unblock it, so it
/// cannot be mistaken for a signal to the process, and the master's signals (SIGUSR2 among
/// them) stay free.
pub fn thread_stop_signal() -> libc::c_int {
    libc::SIGRTMIN()
}

fn raw_set(sigs: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: sigemptyset initialises the set before sigaddset reads it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    syscall!(sigemptyset(&mut set))?;
    for &s in sigs {
        // SAFETY: `set` was initialised by sigemptyset.
        syscall!(sigaddset(&mut set, s))?;
    }
    Ok(set)
}

fn thread_mask(how: libc::c_int, sig: libc::c_int) -> io::Result<()> {
    let set = raw_set(&[sig])?;
    // SAFETY: `set` is an initialised sigset; the old mask is not wanted (null).
    match unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) } {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// Thread mode's drain signal: the next real-time signal, sent with tgkill(2) to one worker
/// thread that must finish its connections and end while the others go on.
pub fn thread_drain_signal() -> libc::c_int {
    libc::SIGRTMIN() + 1
}

fn install_handler(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid value; the fields we use are set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler as libc::sighandler_t;
    sa.sa_flags = 0;
    // SAFETY: `sa.sa_mask` is a valid sigset to initialise.
    syscall!(sigemptyset(&mut sa.sa_mask))?;
    // SAFETY: both handlers only store to an atomic (one thread-local, const-initialised),
    // which is async-signal-safe; `sa` is fully initialised and the old action is not wanted.
    syscall!(sigaction(sig, &sa, std::ptr::null_mut()))?;
    thread_mask(libc::SIG_BLOCK, sig)
}

/// In the main thread of thread mode, before any worker thread exists: make the thread stop
/// signal raise the stop flag and the drain signal the receiving thread's own flag (no
/// SA_RESTART, so accept(), epoll_wait() and semop() return EINTR), and block both here;
/// threads inherit the mask and each worker unblocks them with [`unblock_thread_stop`].
pub fn install_thread_stop() -> io::Result<()> {
    install_handler(thread_stop_signal(), on_stop)?;
    install_handler(thread_drain_signal(), on_drain)
}

/// In a worker thread of thread mode: let the stop and drain signals interrupt this thread.
pub fn unblock_thread_stop() -> io::Result<()> {
    thread_mask(libc::SIG_UNBLOCK, thread_stop_signal())?;
    thread_mask(libc::SIG_UNBLOCK, thread_drain_signal())
}

/// Send `sig` to thread `tid` of this process (tgkill(2)).
pub fn tgkill(tid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    // SAFETY: tgkill takes three integers; a stale tid is answered with ESRCH, not misdelivered
    // to another process, because the thread group id is checked too.
    syscall!(syscall(
        libc::SYS_tgkill,
        pid as libc::c_long,
        tid as libc::c_long,
        sig as libc::c_long
    ))?;
    Ok(())
}
