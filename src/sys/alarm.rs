//! A deadline for blocking system calls that take no timeout (a blocking read(2) of a pipe).
//!
//! [`Deadline::arm`] installs a SIGALRM handler *without* SA_RESTART and starts an interval
//! timer (setitimer ITIMER_REAL). When it fires, a blocked call returns EINTR and
//! [`Deadline::expired`] is true. The timer keeps firing every `REPEAT` after the deadline, so a
//! call entered just after a tick (the check-then-block race) is still interrupted. Timers are
//! not inherited across fork, so children are unaffected.
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static FIRED: AtomicBool = AtomicBool::new(false);
const REPEAT: Duration = Duration::from_millis(20);

extern "C" fn on_alarm(_: libc::c_int) {
    FIRED.store(true, Ordering::SeqCst);
}

/// An armed deadline; dropping it stops the timer and restores SIGALRM's default action.
pub struct Deadline(());

fn timeval(d: Duration) -> libc::timeval {
    libc::timeval {
        tv_sec: d.as_secs() as libc::time_t,
        tv_usec: d.subsec_micros() as libc::suseconds_t,
    }
}

fn set_timer(first: Duration, repeat: Duration) -> io::Result<()> {
    let it = libc::itimerval {
        it_interval: timeval(repeat),
        it_value: timeval(first),
    };
    // SAFETY: `it` is a valid itimerval; the old value pointer may be null.
    syscall!(setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()))?;
    Ok(())
}

impl Deadline {
    /// Start the timer: SIGALRM after `after` (at least 1 µs), then every 20 ms.
    pub fn arm(after: Duration) -> io::Result<Deadline> {
        FIRED.store(false, Ordering::SeqCst);
        let act = SigAction::new(
            SigHandler::Handler(on_alarm),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { signal::sigaction(Signal::SIGALRM, &act) }.map_err(io::Error::from)?;
        set_timer(after.max(Duration::from_micros(1)), REPEAT)?;
        Ok(Deadline(()))
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        FIRED.load(Ordering::SeqCst)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let _ = set_timer(Duration::ZERO, Duration::ZERO);
        let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: restoring the default action is always sound.
        let _ = unsafe { signal::sigaction(Signal::SIGALRM, &dfl) };
    }
}
