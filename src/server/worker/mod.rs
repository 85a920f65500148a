//! A worker's life once its strategy has built its acceptor: claim its scoreboard slot, then
//! run the worker loop until asked to stop. The loop is the worker model's ([`sync`]: one
//! connection at a time; [`event`]: one event loop over many); the strategy is orthogonal to
//! it, and each (model, strategy) pair gets its own monomorphised loop.
mod event;
mod sync;

use super::ServerConfig;
use crate::metrics::Slot;
use crate::strategy::event::EventAcceptor;
use crate::strategy::{Acceptor, RunEventWorker, RunWorker, Shared, WorkerModel};
use std::io;
use std::sync::atomic::AtomicU64;

/// What a worker needs besides its acceptor.
pub(crate) struct WorkerCtx<'a> {
    pub index: usize,
    pub slot: &'a Slot,
    /// The scoreboard's snapshot epoch (for the high-water mark of open connections).
    pub epoch: &'a AtomicU64,
    pub cfg: &'a ServerConfig,
}

/// Run worker `seat` of `shared` in the configured model until it is asked to stop.
/// `own_fd_limit`: apply `--worker-nofile` (processes only: in one process it would bind every
/// thread).
pub(crate) fn run(
    shared: &Shared,
    seat: usize,
    ctx: &WorkerCtx<'_>,
    own_fd_limit: bool,
) -> io::Result<()> {
    let start = ReadyThenLoop { ctx, own_fd_limit };
    match ctx.cfg.worker_model {
        WorkerModel::Sync => shared.with_acceptor(seat, start)?,
        WorkerModel::Event => shared.with_event_acceptor(seat, start)?,
    }
}

/// The worker's body, as a [`RunWorker`] (and [`RunEventWorker`]) so that the strategy can hand
/// it its acceptor type: once the acceptor exists (an epoll instance needs a descriptor), before
/// the first accept, apply `--worker-nofile` and claim the slot (pid and this thread's tid),
/// then serve.
struct ReadyThenLoop<'a> {
    ctx: &'a WorkerCtx<'a>,
    own_fd_limit: bool,
}

impl ReadyThenLoop<'_> {
    fn ready(&self) -> io::Result<()> {
        if self.own_fd_limit {
            if let Some(n) = self.ctx.cfg.faults.worker_nofile {
                crate::sys::net::set_fd_limit(n)?;
            }
        }
        self.ctx
            .slot
            .claim(std::process::id(), crate::sys::process::gettid());
        Ok(())
    }
}

impl RunWorker<io::Result<()>> for ReadyThenLoop<'_> {
    fn run<A: Acceptor>(self, acceptor: A) -> io::Result<()> {
        self.ready()?;
        sync::serve(acceptor, self.ctx)
    }
}

impl RunEventWorker<io::Result<()>> for ReadyThenLoop<'_> {
    fn run<E: EventAcceptor>(self, acceptor: E) -> io::Result<()> {
        self.ready()?;
        event::serve(acceptor, self.ctx)
    }
}
