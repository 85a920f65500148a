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

    /// The process exit status this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
