//! `epoll-exclusive`: as `epoll-shared`, with the socket registered EPOLLIN | EPOLLEXCLUSIVE.
//!
//! Mechanism: the epoll entries on the socket's wait queue are exclusive, so the kernel wakes
//! one (or a few: every non-exclusive waiter plus exclusive ones until one is woken) instance
//! per event instead of all. Needs Linux 4.5.
//!
//! Expected behaviour: close to one wakeup per connection and few EAGAINs. Exclusive entries
//! are appended to the socket's wait queue when a worker registers (add_wait_queue_exclusive in
//! ep_ptable_queue_proc), and a wakeup walks the queue from the front until an entry's epoll
//! instance has a sleeper, so the first-registered idle worker is always woken: a bias towards
//! the earliest registrations that loads one worker far more than the rest (nginx's comment:
//! "usually notifies only the process which was first to add the listening socket"; the reason
//! nginx 1.21.6 rotates the registration, see `epoll-exclusive-rotate`). Measured on a shared
//! 2-core machine with 16
//! workers and 2 connections in flight: workers 0, 1, 2 (the fork and registration order) took
//! 65.5 %, 29.7 % and 3.9 % (`scripts/strategies-herd.sh 16 2s 2`). nginx uses EPOLLEXCLUSIVE
//! when available and `accept_mutex` is off.
//!
//! See epoll_ctl(2) (EPOLLEXCLUSIVE).
use super::epoll::Shared;
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use crate::sys::epoll::{exclusive_supported, Trigger};
use std::io;

pub struct EpollExclusive;

impl Strategy for EpollExclusive {
    const SUMMARY: &'static str =
        "one epoll per worker with EPOLLEXCLUSIVE (Linux 4.5): the kernel wakes one or a few";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("the shared socket in every worker's epoll with EPOLLEXCLUSIVE: one idle loop is woken, the first to have registered (nginx 1.11.3 to 1.21.5)");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = Shared;

    fn supported() -> Result<(), String> {
        if exclusive_supported() {
            Ok(())
        } else {
            Err("EPOLLEXCLUSIVE needs Linux 4.5 or later".into())
        }
    }

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared::new(cfg, Trigger::Exclusive)?.options(opts))
    }
}
