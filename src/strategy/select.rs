//! `select`: every worker waits in select(2) on the shared non-blocking listening socket, then
//! tries accept(2): gunicorn's sync worker (`select.select(listeners, [], [], timeout)`), the
//! classic Unix prefork loop.
//!
//! Mechanism: as poll(2), select() queues one non-exclusive entry per caller on the socket's
//! wait queue for the length of the call, so a connection wakes every idle worker. An fd_set
//! holds FD_SETSIZE (1024) descriptors; herd refuses, with an error, to select() on a
//! descriptor at or above it instead of writing past the set. Any Linux.
//!
//! Expected behaviour: the same herd as `poll` and `epoll-shared`: up to N wakeups and N-1
//! EAGAINs per connection with N idle workers. `--multi-accept` accepts until EAGAIN after a
//! wakeup.
//!
//! See select(2) (BUGS: FD_SETSIZE), accept(2).
use super::event::SelectSet;
use super::listen::ListenConfig;
use super::ready::{interrupted_is_false, SharedSocket, SocketWait, Wait};
use super::{Strategy, StrategyOptions};
use crate::sys::select::{select_can_watch, select_readable};
use std::io;
use std::os::fd::RawFd;

pub struct Select;

impl Strategy for Select {
    const SUMMARY: &'static str =
        "every worker waits in select() on the shared socket (gunicorn sync): every idle worker wakes";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("the loop waits in select() over its connections and the shared socket (Python's SelectSelector): as poll");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = SharedSocket<SelectWait>;

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Self::Shared> {
        SharedSocket::new(cfg, opts)
    }
}

impl SocketWait for SelectWait {
    fn for_socket(fd: RawFd) -> io::Result<Self> {
        select_can_watch(fd)?;
        Ok(SelectWait(fd))
    }
    type Readiness = SelectSet;
    fn readiness() -> io::Result<SelectSet> {
        Ok(SelectSet::default())
    }
}

pub struct SelectWait(RawFd);

impl Wait for SelectWait {
    fn wait(&mut self) -> io::Result<bool> {
        interrupted_is_false(select_readable(self.0))
    }
}
