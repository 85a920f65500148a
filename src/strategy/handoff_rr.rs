//! `handoff-rr`: one acceptor takes every connection and hands each to the next worker in turn
//! among those that have taken the last one they were sent (see [`super::handoff`] for the
//! acceptor, the channels and the counts).
//!
//! Mechanism: Node.js's cluster module on Linux (`SCHED_RR`, its default outside Windows,
//! `lib/internal/cluster/round_robin_handle.js`): the primary accepts, keeps its workers in a
//! free list, and sends each connection to the first free worker over its IPC channel; the
//! worker acknowledges it, and only then goes back to the free list. herd's acceptor does the
//! same with a seat counter in shared memory instead of an acknowledgement message (a credit
//! by eventfd only when the acceptor is parked), and SCM_RIGHTS over a SOCK_SEQPACKET pair per
//! worker (a queue per worker thread in `--mode thread`). Any Linux; the acceptor is a process
//! (thread) of its own that the master restarts if it dies.
//!
//! Expected behaviour: no herd (the workers wait on their own channel; only the acceptor wakes
//! for the socket), an exact rotation over idle workers, connections spread evenly by count
//! whatever their lifetime; the price is the extra hop (an accept, a sendmsg and a recvmsg per
//! connection, two processes woken instead of one), and one process through which every
//! connection passes. With sync workers a busy worker is skipped until it takes its
//! connection, so an idle one is chosen first; when none is free the acceptor stops accepting
//! and the kernel queues.
use super::handoff::{self, Policy};
use super::listen::ListenConfig;
use super::{Strategy, StrategyOptions};
use std::io;

pub struct HandoffRr;

impl Strategy for HandoffRr {
    const SUMMARY: &'static str =
        "one acceptor passes each connection (SCM_RIGHTS) to the next worker that took its last (Node cluster)";
    const THREAD_FORM: Option<&'static str> =
        Some("the acceptor is a thread; a queue and an eventfd per worker thread");
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("each loop watches its channel from the acceptor where a listener would be, and takes every connection waiting there (Node's cluster workers)");
    type Shared = handoff::Shared;

    fn prepare(
        cfg: &ListenConfig,
        workers: usize,
        opts: &StrategyOptions,
    ) -> io::Result<handoff::Shared> {
        handoff::prepare(cfg, workers, opts, Policy::Rr)
    }
}
