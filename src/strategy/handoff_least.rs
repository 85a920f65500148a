//! `handoff-least`: one acceptor takes every connection and hands each to the worker with the
//! fewest connections open plus queued (see [`super::handoff`] for the acceptor, the channels
//! and the counts).
//!
//! Mechanism: Envoy's exact connection balance (`connection_balance_config.exact_balance`):
//! the listener's accepting thread, under a lock, picks the worker with the fewest active
//! connections and posts the connection to its dispatcher; the docs say it "sacrifices accept
//! throughput for accuracy". herd's acceptor reads each seat's open and queued counts from
//! shared memory (the workers keep them), takes the least loaded, among equals the first after
//! its previous choice, and passes the descriptor (SCM_RIGHTS, or a queue in `--mode thread`).
//! Any Linux.
//!
//! Expected behaviour: no herd, and the open connections per worker as even as they can be at
//! every moment (max/mean near 1.0 with long-lived connections, where counting connections,
//! as `handoff-rr` does, drifts when they last different times); the extra hop's cost as
//! `handoff-rr`.
use super::handoff::{self, Policy};
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use std::io;

pub struct HandoffLeast;

impl Strategy for HandoffLeast {
    const SUMMARY: &'static str =
        "one acceptor passes each connection to the worker with the fewest open (Envoy exact balance)";
    const THREAD_FORM: Option<&'static str> =
        Some("the acceptor is a thread; a queue and an eventfd per worker thread");
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("each loop watches its channel from the acceptor; the acceptor reads the loops' open connections (Envoy's worker threads)");
    type Shared = handoff::Shared;

    fn prepare(
        cfg: &ListenConfig,
        workers: usize,
        opts: &StrategyOptions,
    ) -> io::Result<handoff::Shared> {
        handoff::prepare(cfg, workers, opts, Policy::Least)
    }
}
