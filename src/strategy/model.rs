//! The worker model (`--worker-model`): how one worker serves its connections, orthogonal to
//! the accept strategy (how workers wait for and take them) and to the mode (processes or
//! threads).
//!
//! - `sync`: one connection at a time, served to its end before the next accept (Apache
//!   prefork, gunicorn's sync worker, uWSGI). A worker is busy or waiting, never both.
//! - `event`: one non-blocking event loop per worker holding the listener (as its strategy
//!   says) and up to `--worker-connections` open connections (nginx, Node's cluster, uvicorn
//!   and gunicorn's async workers, Envoy and HAProxy threads). A worker that is serving can
//!   still take new connections, so the kernel's choice of worker decides how many
//!   connections each worker holds: the imbalance operators see.
//!
//! Each strategy says whether and how its wait can sit in an event loop
//! ([`super::Strategy::EVENT_FORM`]); docs/worker-models.md has the whole picture.
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// How a worker serves its connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerModel {
    /// One connection at a time (prefork: Apache, gunicorn sync, uWSGI).
    #[default]
    Sync,
    /// One event loop per worker over many connections (nginx, Node cluster, uvicorn).
    Event,
}

impl WorkerModel {
    /// The name used on the command line and in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            WorkerModel::Sync => "sync",
            WorkerModel::Event => "event",
        }
    }
}

impl std::fmt::Display for WorkerModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// nginx's default `worker_connections`.
pub const DEFAULT_WORKER_CONNECTIONS: usize = 512;
