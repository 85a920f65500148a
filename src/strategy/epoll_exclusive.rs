//! `epoll-exclusive`: as `epoll-shared`, with the socket registered EPOLLIN | EPOLLEXCLUSIVE.
//!
//! Mechanism: the epoll entries on the socket's wait queue are exclusive, so the kernel wakes
//! one (or a few: every non-exclusive waiter plus exclusive ones until one is woken) instance
//! per event instead of all. Needs Linux 4.5.
//!
//! Expected behaviour: close to one wakeup per connection and few EAGAINs. Exclusive waiters
//! are added at the head of the wait queue's exclusive part only when they (re)register, so the
//! kernel keeps waking the same recently-registered waiters: a LIFO-like bias that loads one
//! worker far more than the rest (the reason nginx 1.21.6 rotates the registration). nginx uses
//! EPOLLEXCLUSIVE when available and `accept_mutex` is off.
//!
//! See epoll_ctl(2) (EPOLLEXCLUSIVE).
use super::epoll::Shared;
use super::listen::ListenConfig;
use crate::sys::epoll::{exclusive_supported, Trigger};
use std::io;

pub const SUMMARY: &str =
    "one epoll per worker with EPOLLEXCLUSIVE (Linux 4.5): the kernel wakes one or a few";

pub fn shared(cfg: &ListenConfig) -> io::Result<Shared> {
    Shared::new(cfg, Trigger::Exclusive)
}

pub fn supported() -> Result<(), String> {
    if exclusive_supported() {
        Ok(())
    } else {
        Err("EPOLLEXCLUSIVE needs Linux 4.5 or later".into())
    }
}
