//! `handoff-p2c`: one acceptor takes every connection and hands it to the less loaded of two
//! workers drawn at random, loaded meaning open plus queued connections (see
//! [`super::handoff`] for the acceptor, the channels and the counts).
//!
//! Mechanism: HAProxy's `tune.listener.multi-queue on` (its default since 2.0): the thread that
//! accepts pushes the connection to the accept queue of another thread, chosen between two by
//! their connections plus queue length; `fair` rotates instead (herd's `handoff-rr`), `off`
//! keeps it. HAProxy draws its two candidates with two indexes that each rotate over the
//! threads; herd draws them at random, the "power of two choices" of the literature. Any
//! Linux.
//!
//! Expected behaviour: no herd; close to `handoff-least` in balance (the worse of two random
//! workers is never chosen, so the spread's tail is short) without reading every worker's
//! count per connection; the extra hop's cost as `handoff-rr`.
use super::handoff::{self, Policy};
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use std::io;

pub struct HandoffP2c;

impl Strategy for HandoffP2c {
    const SUMMARY: &'static str =
        "one acceptor passes each connection to the lighter of two random workers (HAProxy multi-queue)";
    const THREAD_FORM: Option<&'static str> =
        Some("the acceptor is a thread; a queue and an eventfd per worker thread");
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("each loop watches its channel from the acceptor; the acceptor compares two loops' open plus queued connections (HAProxy's threads)");
    type Shared = handoff::Shared;

    fn prepare(
        cfg: &ListenConfig,
        workers: usize,
        opts: &StrategyOptions,
    ) -> io::Result<handoff::Shared> {
        handoff::prepare(cfg, workers, opts, Policy::P2c)
    }
}
