//! What `herd chaos` applies and how often (`--schedule reload:1s,kill:2s,kill-holder:500ms`,
//! `kill-acceptor:1s`,
//! parsed by the command line). Each item is run as its own segment (a fresh server,
//! `--duration` long) with its fault applied every INTERVAL, so what a segment loses is caused
//! by that one kind of fault.
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGHUP to the master: a graceful reload.
    Reload,
    /// SIGKILL to a random worker.
    Kill,
    /// The worker holding the accept lock dies holding it (SIGUSR2 to the master arms it; the
    /// next worker to take the lock SIGKILLs itself). Lock strategies only.
    KillHolder,
    /// SIGKILL to a hand-off strategy's acceptor (found by its process name). Hand-off
    /// strategies only.
    KillAcceptor,
    /// SIGSTOP a random worker (the one frozen before is thawed first): frozen, not dead.
    Freeze,
    /// The accept-lock holder freezes holding it (SIGWINCH to the master arms it; the next
    /// worker to take the lock SIGSTOPs itself; the one frozen before is thawed first). Lock
    /// strategies only.
    FreezeHolder,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Reload => "reload",
            FaultKind::Kill => "kill",
            FaultKind::KillHolder => "kill-holder",
            FaultKind::KillAcceptor => "kill-acceptor",
            FaultKind::Freeze => "freeze",
            FaultKind::FreezeHolder => "freeze-holder",
        }
    }

    /// Whether the fault needs an accept lock.
    pub fn needs_lock(self) -> bool {
        matches!(self, FaultKind::KillHolder | FaultKind::FreezeHolder)
    }

    /// Whether the fault freezes workers (they are thawed when the faulted part ends).
    pub fn freezes(self) -> bool {
        matches!(self, FaultKind::Freeze | FaultKind::FreezeHolder)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub kind: FaultKind,
    pub every: Duration,
}
