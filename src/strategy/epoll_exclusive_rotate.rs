//! `epoll-exclusive-rotate`: `epoll-exclusive`, plus nginx's fix for its imbalance: each worker
//! deletes and re-adds its registration of the listening socket every 16 accepts.
//!
//! Mechanism: EPOLLEXCLUSIVE entries are appended to the socket's wait queue in the order the
//! workers registered, and a wakeup walks the queue from the front, stopping at the first entry
//! whose epoll instance has a waiter. The first worker to register takes every connection it is
//! idle for. nginx 1.21.6 added `ngx_reorder_accept_events()` (src/event/ngx_event_accept.c),
//! called from `ngx_event_accept()`: if `c->requests++ % 16 != 0` (a per-worker count on the
//! listening connection, so the first call already re-adds) and the worker is not overloaded
//! (`ngx_accept_disabled <= 0`), it returns; otherwise it does `ngx_del_event()` then
//! `ngx_add_event(..., NGX_EXCLUSIVE_EVENT)`, which puts this worker at the back of the queue.
//! Its comment: "Linux with EPOLLEXCLUSIVE usually notifies only the process which was first to
//! add the listening socket to the epoll instance [...] we re-add the socket periodically, so
//! other workers will get a chance to accept connections." herd re-registers after every 16th
//! wakeup that accepted, counting from the first (with `--multi-accept`, nginx counts calls of
//! its accept handler, which are wakeups too); herd has no overload signal, so it does not
//! re-add on overload. Needs Linux 4.5.
//!
//! Expected behaviour: the wakeups of `epoll-exclusive` (about one per connection), two more
//! epoll_ctl() calls per 16 accepts, and a much more even spread across workers (higher
//! `jain_fairness`, lower `max_worker_share`). nginx ≥ 1.21.6 with its default
//! `accept_mutex off` on Linux ≥ 4.5.
//!
//! See epoll_ctl(2) (EPOLLEXCLUSIVE), nginx CHANGES 1.21.6 ("when using EPOLLEXCLUSIVE on Linux
//! client connections were unevenly distributed among worker processes").
use super::epoll::Shared;
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use crate::sys::epoll::Trigger;
use std::io;

/// nginx's period.
pub const ROTATE_EVERY: u64 = 16;

pub struct EpollExclusiveRotate;

impl Strategy for EpollExclusiveRotate {
    const SUMMARY: &'static str =
        "epoll-exclusive, re-registering every 16 accepts (nginx >= 1.21.6) to spread the load";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("as epoll-exclusive, each loop re-registering the socket every 16 accepting wakeups (nginx >= 1.21.6)");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = Shared;

    fn supported() -> Result<(), String> {
        super::epoll_exclusive::EpollExclusive::supported()
    }

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared::new(cfg, Trigger::Exclusive)?
            .rotate_every(ROTATE_EVERY)
            .options(opts))
    }
}
