//! `epoll-et`: as `epoll-shared`, with the socket registered edge-triggered (EPOLLIN | EPOLLET),
//! and every wakeup followed by accept(2) until EAGAIN, as edge-triggered readiness demands.
//!
//! Mechanism: an edge-triggered entry reports the socket once per new event rather than for as
//! long as it stays readable, so the worker must drain the queue. But the edge is per epoll
//! instance: every instance's entry sits on the socket's wait queue, not exclusive, and each
//! new connection still calls every entry's wakeup callback. Edge triggering changes what one
//! instance reports, not how many instances wake. Any Linux with epoll (2.6).
//!
//! Expected behaviour: the herd of `epoll-shared` (every idle worker wakes per connection),
//! with the drain's extra accept() (one EAGAIN per wakeup that accepted, not counted as
//! spurious) and, under load, fewer wakeups than accepts: a worker that drains takes
//! connections queued meanwhile without sleeping. Event loops built on edge-triggered epoll
//! (libevent/libev with EV_ET, many Rust and Go runtimes: mio and Go's netpoller register
//! EPOLLET) share listeners this way when they are forked.
//!
//! See epoll(7) ("Level-triggered and edge-triggered", "Possible pitfalls"), epoll_ctl(2).
use super::epoll::Shared;
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use crate::sys::epoll::Trigger;
use std::io;

pub struct EpollEt;

impl Strategy for EpollEt {
    const SUMMARY: &'static str =
        "one edge-triggered epoll per worker on the shared socket, accept until EAGAIN: still a herd";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("the shared socket edge-triggered in every worker's epoll, accepting until EAGAIN (mio, Go's netpoller)");
    const MULTI_ACCEPT: bool = true;
    const BUSY_DELAY: bool = true;
    type Shared = Shared;

    fn prepare(cfg: &ListenConfig, _: usize, opts: &StrategyOptions) -> io::Result<Shared> {
        Ok(Shared::new(cfg, Trigger::Edge)?.options(opts))
    }
}
