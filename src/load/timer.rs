//! The client thread's pacing timer: a one-shot CLOCK_MONOTONIC timerfd in its poll, with
//! nanosecond resolution (epoll_wait's own timeout is whole milliseconds).
use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// The token of the pacing timer (connection slots use 0..conns).
pub const TIMER: Token = Token(usize::MAX);

/// A one-shot CLOCK_MONOTONIC timerfd in the poll, re-armed only when the target changes.
pub struct Timer {
    fd: TimerFd,
    armed: std::cell::Cell<u64>,
}

impl Timer {
    pub fn new(poll: &Poll) -> io::Result<Self> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(io::Error::from)?;
        poll.registry().register(
            &mut SourceFd(&fd.as_fd().as_raw_fd()),
            TIMER,
            Interest::READABLE,
        )?;
        Ok(Timer {
            fd,
            armed: std::cell::Cell::new(0),
        })
    }

    /// Fire at `t_ns` (absolute). Setting the timer also clears a past expiry, so the
    /// edge-triggered registration fires again.
    pub fn arm(&self, t_ns: u64) -> io::Result<()> {
        if self.armed.get() == t_ns {
            return Ok(());
        }
        self.armed.set(t_ns);
        let ts = TimeSpec::from(std::time::Duration::from_nanos(t_ns.max(1)));
        self.fd
            .set(
                Expiration::OneShot(ts),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME,
            )
            .map_err(io::Error::from)
    }
}
