//! Appending rows to CSV files: the header is written only when a file is new, and an existing
//! file whose header differs (another herd version's schema) is refused rather than mixed.
use crate::Error;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
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

/// A CSV file rows of `T` are appended to. Rows are gathered in memory and written by
/// [`Appender::flush`] in one write(2) on a descriptor opened for that write alone (O_APPEND):
///
/// - nothing is created before there is a row to write, so a run that ends early leaves no
///   empty file;
/// - a write that fails (a full disk, a file system turned read-only) is taken back: the file
///   is cut to its length before it, so the rows written earlier stay whole and no half row
///   is left; the error names the file;
/// - a last line cut short by a process killed in the middle of a write (SIGKILL can stop a
///   write between pages) is removed before the next write ([`repair_torn_tail`]), so every
///   row in the file is whole.
pub struct Appender {
    path: PathBuf,
    header: Vec<String>,
    /// Rows serialised and not yet written.
    pending: Vec<u8>,
}

impl Appender {
    /// Check `path` for appending rows of `T`, without creating anything: an existing file
    /// must have `T`'s header and be writable; for a new one, the nearest existing directory
    /// above it must be writable. Opening does the checks that `--out` asks for before any
    /// work starts.
    pub fn open<T: Serialize + Default>(path: &Path) -> Result<Self, Error> {
        let expected = header_of::<T>()?;
        let existing = match File::open(path) {
            Ok(f) => {
                let mut first = String::new();
                BufReader::new(f)
                    .read_line(&mut first)
                    .map_err(|e| Error::file(path, e))?;
                Some(first)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::file(path, e)),
        };
        // A header cut short (no line end yet) is a torn write, repaired on the first flush.
        if let Some(h) = existing.filter(|h| h.ends_with('\n')) {
            if h.trim_end() != expected.join(",") {
                return Err(Error::Usage(format!(
                    "{}: its header does not match this herd's columns (written by another version?); use another --out",
                    path.display()
                )));
            }
            OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| Error::file(path, e))?;
        } else {
            writable_dir(path)?;
        }
        Ok(Appender {
            path: path.to_path_buf(),
            header: expected,
            pending: Vec::new(),
        })
    }

    /// Add a row, written by the next [`Appender::flush`].
    pub fn append<T: Serialize>(&mut self, row: &T) -> Result<(), Error> {
        let csv_err = |e| Error::Csv {
            path: self.path.clone(),
            source: e,
        };
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(std::mem::take(&mut self.pending));
        w.serialize(row).map_err(csv_err)?;
        self.pending = w
            .into_inner()
            .map_err(|e| Error::file(&self.path, e.into_error()))?;
        Ok(())
    }

    /// Write the rows gathered since the last flush, in one write; see [`Appender`]. Returns
    /// the file's length before the write (to take it back with [`Appender::take_back`]), or
    /// `None` when there was nothing to write.
    pub fn flush(&mut self) -> Result<Option<u64>, Error> {
        self.write_pending(false)
    }

    /// [`Appender::flush`], also creating the file (its header alone) when there is no row to
    /// write and it does not exist yet: a recorded run has every file of its directory.
    pub fn flush_creating(&mut self) -> Result<Option<u64>, Error> {
        self.write_pending(true)
    }

    fn write_pending(&mut self, create: bool) -> Result<Option<u64>, Error> {
        if self.pending.is_empty() && (!create || self.path.exists()) {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.pending);
        let fail = |e: std::io::Error| Error::file(&self.path, e);
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(fail)?;
        let before = repair_open(&mut file, &self.path)?;
        let mut buf = Vec::with_capacity(rows.len() + 1024);
        if before == 0 {
            buf.extend_from_slice(self.header.join(",").as_bytes());
            buf.push(b'\n');
        }
        buf.extend_from_slice(&rows);
        if let Err(e) = file.write_all(&buf).and_then(|()| file.flush()) {
            let undone = file.set_len(before).is_ok();
            return Err(Error::file(
                &self.path,
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{e}; the rows written before are intact{}",
                        if undone {
                            ", and this write was taken back"
                        } else {
                            " (this write could not be taken back: its last line may be cut, and is removed by the next write)"
                        }
                    ),
                ),
            ));
        }
        Ok(Some(before))
    }

    /// Cut the file back to `len` (a flush of this run's rows elsewhere failed); a file this
    /// flush created (`len` 0) is removed.
    pub fn take_back(&self, len: u64) {
        if len == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else if let Ok(f) = OpenOptions::new().write(true).open(&self.path) {
            let _ = f.set_len(len);
        }
    }
}

/// The nearest existing directory at or above `path`'s parent must be writable.
fn writable_dir(path: &Path) -> Result<(), Error> {
    let mut dir = path.parent();
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        match std::fs::metadata(d) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::file(
                    d,
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
                ))
            }
            Ok(_) => {
                return nix::unistd::access(d, nix::unistd::AccessFlags::W_OK)
                    .map_err(|e| Error::file(d, e.into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => dir = d.parent(),
            Err(e) => return Err(Error::file(d, e)),
        }
    }
    Ok(())
}

/// Remove a last line cut short (no line end) from the CSV file at `path`, if there is one;
/// says so on stderr. A missing file is fine.
pub fn repair_torn_tail(path: &Path) -> Result<(), Error> {
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(mut f) => repair_open(&mut f, path).map(drop),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(path, e)),
    }
}

/// [`repair_torn_tail`] on an open file; returns its length afterwards.
fn repair_open(f: &mut File, path: &Path) -> Result<u64, Error> {
    let fail = |e: std::io::Error| Error::file(path, e);
    let len = f.metadata().map_err(fail)?.len();
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1)).map_err(fail)?;
    f.read_exact(&mut last).map_err(fail)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    // Find the end of the last whole line.
    let mut keep = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start)).map_err(fail)?;
        f.read_exact(&mut chunk[..n]).map_err(fail)?;
        if let Some(p) = memchr::memrchr(b'\n', &chunk[..n]) {
            keep = start + p as u64 + 1;
            break;
        }
        end = start;
    }
    f.set_len(keep).map_err(fail)?;
    eprintln!(
        "herd: {}: removed a last line cut short ({} bytes, from a write interrupted by a kill or a full disk); every row left is whole",
        path.display(),
        len - keep
    );
    Ok(keep)
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
    /// Check `dir` and its files (nothing is created until a run's rows are written); any
    /// failure is a usage error naming `--out`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let usage = |e: Error| Error::Usage(format!("--out {}: {e}", dir.display()));
        if dir.exists() && !dir.is_dir() {
            return Err(usage(Error::file(
                dir,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
            )));
        }
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

    /// Write a run's rows: workers, latency and listeners first, runs.csv last, so that a run
    /// in runs.csv has all its rows (`--resume` counts runs.csv). If one file cannot be
    /// written, what this flush wrote to the others is taken back too: the run is in no file.
    pub fn flush(&mut self) -> Result<(), Error> {
        let all = [&self.workers, &self.latency, &self.listeners, &self.runs];
        if all.iter().all(|a| a.pending.is_empty()) {
            return Ok(());
        }
        let mut written: Vec<(&Appender, u64)> = Vec::new();
        for a in [
            &mut self.workers,
            &mut self.latency,
            &mut self.listeners,
            &mut self.runs,
        ] {
            // A recorded run has every file, a kind without rows its header alone.
            match a.flush_creating() {
                Ok(Some(before)) => written.push((a, before)),
                Ok(None) => {}
                Err(e) => {
                    for (done, len) in written {
                        done.take_back(len);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
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

    #[test]
    fn nothing_is_created_before_a_row_and_a_torn_row_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/deeper");
        let mut files = ResultFiles::open(&out).unwrap();
        files.flush().unwrap();
        assert!(!out.exists(), "an --out without rows was created");
        let row = RunRow {
            run_id: "a".into(),
            ..Default::default()
        };
        files.runs.append(&row).unwrap();
        files.flush().unwrap();
        let p = out.join("runs.csv");
        let header = std::fs::read_to_string(out.join("workers.csv")).unwrap();
        assert_eq!(header.lines().count(), 1, "a kind without rows: its header");
        // A write cut short by a kill: the next writer removes the partial line first.
        let whole = std::fs::read_to_string(&p).unwrap();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"b,2026-01-01T00:00:00Z,blo").unwrap();
        drop(f);
        let mut a = Appender::open::<RunRow>(&p).unwrap();
        a.append(&row).unwrap();
        a.flush().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            format!("{whole}{}", &whole[whole.find('\n').unwrap() + 1..])
        );
        // A header cut short is a torn write too, not another version's file.
        std::fs::write(&p, "run_id,time").unwrap();
        let mut a = Appender::open::<RunRow>(&p).unwrap();
        a.append(&row).unwrap();
        a.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), whole);
    }
}
