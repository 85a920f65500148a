//! A worker's life once its strategy has built its acceptor: claim its scoreboard slot, then
//! run the worker loop until asked to stop. The loop is the worker model's ([`sync`]: one
//! connection at a time); the strategy is orthogonal to it.
mod sync;

use super::ServerConfig;
use crate::metrics::Slot;
use crate::strategy::{Acceptor, RunWorker};
use std::io;

/// What a worker needs besides its acceptor.
pub(crate) struct WorkerCtx<'a> {
    pub index: usize,
    pub slot: &'a Slot,
    pub cfg: &'a ServerConfig,
}

/// The worker's body, as a [`RunWorker`] so that the strategy can hand it its acceptor type:
/// once the acceptor exists (an epoll instance needs a descriptor), before the first accept,
/// apply `--worker-nofile` (processes only: in one process it would bind every thread) and
/// claim the slot (pid and this thread's tid), then serve.
pub(crate) struct ReadyThenLoop<'a> {
    pub ctx: &'a WorkerCtx<'a>,
    /// Set the worker's own RLIMIT_NOFILE (process mode).
    pub own_fd_limit: bool,
}

impl RunWorker<io::Result<()>> for ReadyThenLoop<'_> {
    fn run<A: Acceptor>(self, acceptor: A) -> io::Result<()> {
        if self.own_fd_limit {
            if let Some(n) = self.ctx.cfg.faults.worker_nofile {
                crate::sys::net::set_fd_limit(n)?;
            }
        }
        self.ctx
            .slot
            .claim(std::process::id(), crate::sys::process::gettid());
        sync::serve(acceptor, self.ctx)
    }
}
