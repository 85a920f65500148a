//! `epoll-shared`: every worker has its own epoll instance holding the shared non-blocking
//! listening socket, level-triggered. The classic thundering herd, herd's baseline.
//!
//! Mechanism: each epoll instance adds its own entry to the socket's wait queue, and those
//! entries are not exclusive, so one incoming connection wakes every idle worker's
//! epoll_wait(); one accept() succeeds, the others get EAGAIN. Any Linux with epoll (2.6).
//!
//! Expected behaviour: with N idle workers, up to N wakeups and N-1 EAGAINs per connection.
//! Under load fewer workers are idle, so the herd shrinks; some woken workers find the queue
//! already drained before epoll_wait returns and go back to sleep inside the kernel, which only
//! the kernel's context-switch count shows. nginx without `accept_mutex` or `reuseport`
//! (its default since 1.11.3) behaves like this, as did gunicorn's and many event loops'.
//!
//! See epoll(7), epoll_ctl(2), accept(2).
use super::epoll::Shared;
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use crate::sys::epoll::Trigger;
use std::io;

pub struct EpollShared;

impl Strategy for EpollShared {
    const SUMMARY: &'static str =
        "one level-triggered epoll per worker on the shared socket: every idle worker wakes (the herd)";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("the shared socket in every worker's epoll beside its connections, level-triggered: a connection wakes every idle loop (Node cluster SCHED_NONE, nginx without accept_mutex or EPOLLEXCLUSIVE)");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = Shared;

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared::new(cfg, Trigger::Level)?.options(opts))
    }
}
