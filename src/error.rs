//! herd's error type. `Usage` errors are the user's to fix and exit with status 2; the rest
//! exit with 1.
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, reported before any work starts: names the flag or path at fault.
    #[error("{0}")]
    Usage(String),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    /// The server under test misbehaved (died, did not start, did not answer).
    #[error("server: {0}")]
    Server(String),
    /// A run could not produce trustworthy figures.
    #[error("run: {0}")]
    Run(String),
    /// `herd series`: a worker failed or sent something that is not its term.
    #[error("series: {0}")]
    Series(String),
    /// A driver was stopped by a signal (SIGINT, SIGTERM, SIGHUP) after it had cleaned up;
    /// the text says what was kept.
    #[error("interrupted by {name}: {what}")]
    Interrupted {
        signal: i32,
        name: String,
        what: String,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn file(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }

    /// The driver was interrupted by `signal`; `what` says what was kept.
    pub fn interrupted(signal: i32, what: impl Into<String>) -> Self {
        Error::Interrupted {
            signal,
            name: signal_name(signal),
            what: what.into(),
        }
    }

    /// The process exit status this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            // As a shell reports a process ended by that signal.
            Error::Interrupted { signal, .. } => 128 + signal,
            _ => 1,
        }
    }
}

/// The name of signal `sig` (`SIGINT`), or its number.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_string())
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
