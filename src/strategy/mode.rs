//! Process or thread mode: whether `herd serve` runs its workers as forked processes (the
//! prefork server) or as threads of one process (`--mode thread`).
//!
//! Every strategy runs in both modes through the same [`super::Shared::with_acceptor`]; a
//! strategy that needs to know (because its process form does not exclude threads of one
//! process) reads [`super::listen::ListenConfig::mode`] in `prepare`; what `herd strategies`
//! says of a strategy's thread form is its [`super::Strategy::THREAD_FORM`].
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
