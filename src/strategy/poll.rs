//! `poll`: every worker waits in poll(2) on the shared non-blocking listening socket, then tries
//! accept(2). Python's `socketserver` waits this way (`serve_forever` uses
//! `selectors.PollSelector`), so preforked servers built on it herd like this; gunicorn's sync
//! worker does the same with select() (see `select`).
//!
//! Mechanism: poll() puts one non-exclusive entry per caller on the socket's wait queue for the
//! length of the call, so one incoming connection wakes every idle worker; one accept()
//! succeeds, the others get EAGAIN. Any Linux.
//!
//! Expected behaviour: the same herd as `epoll-shared` (up to N wakeups and N-1 EAGAINs per
//! connection with N idle workers), plus poll's own cost: the entry is added and removed on
//! every call, where epoll keeps it registered. `--multi-accept` accepts until EAGAIN after a
//! wakeup.
//!
//! See poll(2), accept(2).
use super::event::PollSet;
use super::listen::ListenConfig;
use super::ready::{interrupted_is_false, SharedSocket, SocketWait, Wait};
use super::{Strategy, StrategyOptions};
use crate::sys::poll::poll_readable;
use std::io;
use std::os::fd::RawFd;

pub struct Poll;

impl Strategy for Poll {
    const SUMMARY: &'static str =
        "every worker waits in poll() on the shared socket: every idle worker wakes";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("the loop waits in poll() over its connections and the shared socket (Python's PollSelector, libevent's poll backend): the herd of epoll-shared, O(connections) per wait");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = SharedSocket<PollWait>;

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Self::Shared> {
        SharedSocket::new(cfg, opts)
    }
}

impl SocketWait for PollWait {
    fn for_socket(fd: RawFd) -> io::Result<Self> {
        Ok(PollWait(fd))
    }
    type Readiness = PollSet;
    fn readiness() -> io::Result<PollSet> {
        Ok(PollSet::default())
    }
}

pub struct PollWait(RawFd);

impl Wait for PollWait {
    fn wait(&mut self) -> io::Result<bool> {
        interrupted_is_false(poll_readable(self.0))
    }
}
