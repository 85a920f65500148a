//! Process or thread mode: whether `herd serve` runs its workers as forked processes (the
//! prefork server) or as threads of one process (`--mode thread`).
//!
//! Every strategy runs in both modes through the same [`super::Shared::with_acceptor`]; a
//! strategy that needs to know (because its process form does not exclude threads of one
//! process) reads [`super::listen::ListenConfig::mode`] in `prepare`. [`thread_form`] is what
//! `herd strategies` and the README say about each strategy's thread form.
use super::StrategyKind;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// How the workers are run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// N forked worker processes (the prefork server).
    #[default]
    Process,
    /// N worker threads in one process; the main thread is the master.
    Thread,
}

impl Mode {
    /// The name used on the command line and in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Process => "process",
            Mode::Thread => "thread",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How `kind` works in thread mode, when it differs from its process form in more than "the
/// workers are threads". `None`: the same mechanism, unchanged.
pub fn thread_form(kind: StrategyKind) -> Option<&'static str> {
    match kind {
        StrategyKind::SysvSem => Some(
            "same semaphore; SEM_UNDO is per process, so a thread that dies holding it is not \
             undone by the kernel: the master releases it",
        ),
        StrategyKind::PthreadMutex => {
            Some("same mutex; robustness is per thread, so a dying thread's hold is recovered")
        }
        StrategyKind::Fcntl => Some(
            "record locks belong to the process and cannot exclude its threads: OFD locks \
             (F_OFD_SETLKW, Linux 3.15) on one open file description per thread",
        ),
        StrategyKind::Flock => {
            Some("one open file description per thread (flock is per description)")
        }
        _ => None,
    }
}
