//! Appending rows to CSV files: the header is written only when a file is new, and an existing
//! file whose header differs (another herd version's schema) is refused rather than mixed.
use crate::Error;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The column names of a row type, in order.
pub fn header_of<T: Serialize + Default>() -> Result<Vec<String>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(T::default()).map_err(|e| Error::Csv {
        path: "<header>".into(),
        source: e,
    })?;
    let bytes = w.into_inner().map_err(|e| Error::Run(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect())
}

/// A CSV file opened for appending rows of `T`.
pub struct Appender {
    path: PathBuf,
    writer: csv::Writer<File>,
}

impl Appender {
    /// Open `path` for appending, checking an existing header against `T`'s columns. Opening
    /// does the checks that `--out` asks for before any work starts.
    pub fn open<T: Serialize + Default>(path: &Path) -> Result<Self, Error> {
        let expected = header_of::<T>()?;
        let existing = match File::open(path) {
            Ok(f) => {
                let mut first = String::new();
                BufReader::new(f)
                    .read_line(&mut first)
                    .map_err(|e| Error::file(path, e))?;
                Some(first.trim_end().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::file(path, e)),
        };
        let new = matches!(existing.as_deref(), None | Some(""));
        if let Some(h) = existing.filter(|h| !h.is_empty()) {
            if h != expected.join(",") {
                return Err(Error::Usage(format!(
                    "{}: its header does not match this herd's columns (written by another version?); use another --out",
                    path.display()
                )));
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::file(path, e))?;
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(file);
        if new {
            writer.write_record(&expected).map_err(|e| Error::Csv {
                path: path.into(),
                source: e,
            })?;
        }
        Ok(Appender {
            path: path.to_path_buf(),
            writer,
        })
    }

    pub fn append<T: Serialize>(&mut self, row: &T) -> Result<(), Error> {
        self.writer.serialize(row).map_err(|e| Error::Csv {
            path: self.path.clone(),
            source: e,
        })
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        self.writer.flush().map_err(|e| Error::file(&self.path, e))
    }
}

/// The files of a results directory.
pub struct ResultFiles {
    /// The directory (histogram logs go to its `hist/`).
    pub dir: PathBuf,
    pub runs: Appender,
    pub workers: Appender,
    pub latency: Appender,
    pub listeners: Appender,
}

impl ResultFiles {
    /// Create `dir` if needed and open its files; any failure is a usage error naming `--out`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| usage(Error::file(dir, e)))?;
        Ok(ResultFiles {
            dir: dir.to_path_buf(),
            runs: Appender::open::<super::row::RunRow>(&dir.join("runs.csv")).map_err(usage)?,
            workers: Appender::open::<super::row::WorkerRow>(&dir.join("workers.csv"))
                .map_err(usage)?,
            latency: Appender::open::<super::row::LatencyRow>(&dir.join("latency.csv"))
                .map_err(usage)?,
            listeners: Appender::open::<super::row::ListenerRow>(&dir.join("listeners.csv"))
                .map_err(usage)?,
        })
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        self.runs.flush()?;
        self.workers.flush()?;
        self.latency.flush()?;
        self.listeners.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::row::RunRow;

    #[test]
    fn header_written_once_and_mismatch_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("runs.csv");
        for _ in 0..2 {
            let mut a = Appender::open::<RunRow>(&p).unwrap();
            a.append(&RunRow {
                run_id: "x".into(),
                ..Default::default()
            })
            .unwrap();
            a.flush().unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("run_id,timestamp,strategy"));
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        assert!(matches!(Appender::open::<RunRow>(&p), Err(Error::Usage(_))));
    }
}
