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

/// Whether this process was asked to stop (SIGTERM or SIGINT since `install_stop_flag`).
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Raise the stop flag from inside the process (thread mode, fault injection).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
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
