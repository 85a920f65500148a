//! Reading a results directory back (`herd plot`, `herd report`, `herd sweep --resume`). A
//! missing file names the file; a malformed row names the file, the line and the column.
use super::row::{LatencyRow, RunRow, WorkerRow};
use crate::Error;
use csv::StringRecord;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// One run, with the load columns that not every herd version writes.
#[derive(Debug, Clone)]
pub struct Run {
    pub row: RunRow,
    /// The open-loop arrival rate (connections/s) when runs.csv has a `rate` column and the run
    /// was open-loop.
    pub rate: Option<f64>,
}

/// The three CSV files of a results directory.
#[derive(Debug, Clone)]
pub struct Results {
    pub dir: PathBuf,
    pub runs: Vec<Run>,
    pub workers: Vec<WorkerRow>,
    pub latency: Vec<LatencyRow>,
}

fn bad(path: &Path, line: Option<u64>, what: impl std::fmt::Display) -> Error {
    match line {
        Some(l) => Error::Usage(format!("{}:{l}: {what}", path.display())),
        None => Error::Usage(format!("{}: {what}", path.display())),
    }
}

/// The message of a CSV error, naming the column when it is known.
fn describe(e: &csv::Error, headers: &[String]) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let col = err
                .field()
                .and_then(|f| headers.get(f as usize))
                .map(|h| format!("column `{h}`: "))
                .unwrap_or_default();
            format!("{col}{}", err.kind())
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    }
}

/// A CSV file's header, and its records each with its line number.
pub type Records = (Vec<String>, Vec<(u64, StringRecord)>);

/// The header and every record of a CSV file, each record with its line number.
pub fn read_records(path: &Path) -> Result<Records, Error> {
    let mut r = match csv::Reader::from_path(path) {
        Ok(r) => r,
        Err(e) => {
            return Err(match e.kind() {
                csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                    bad(path, None, "not found (no results here?)")
                }
                _ => bad(path, None, e),
            })
        }
    };
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| bad(path, Some(1), describe(&e, &[])))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.len() <= 1 && headers.iter().all(|h| h.is_empty()) {
        return Err(bad(path, Some(1), "empty file, no header"));
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line());
            bad(path, line, describe(&e, &headers))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        out.push((line, rec));
    }
    Ok((headers, out))
}

/// Every row of a CSV file as `T`.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<(u64, StringRecord, T)>, Error> {
    let (headers, records) = read_records(path)?;
    let h = StringRecord::from(headers.clone());
    records
        .into_iter()
        .map(|(line, rec)| {
            let row = rec
                .deserialize::<T>(Some(&h))
                .map_err(|e| bad(path, Some(line), describe(&e, &headers)))?;
            Ok((line, rec, row))
        })
        .collect()
}

impl Results {
    /// Read DIR/runs.csv, DIR/workers.csv and DIR/latency.csv.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let runs_path = dir.join("runs.csv");
        let (headers, _) = read_records(&runs_path)?;
        let rate_col = headers.iter().position(|h| h == "rate");
        let runs: Vec<Run> = read_rows::<RunRow>(&runs_path)?
            .into_iter()
            .map(|(_, rec, row)| Run {
                rate: rate_col
                    .and_then(|c| rec.get(c))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|r| *r > 0.0),
                row,
            })
            .collect();
        if runs.is_empty() {
            return Err(bad(&runs_path, None, "no runs in it"));
        }
        let workers = read_rows::<WorkerRow>(&dir.join("workers.csv"))?
            .into_iter()
            .map(|(_, _, r)| r)
            .collect();
        let latency = read_rows::<LatencyRow>(&dir.join("latency.csv"))?
            .into_iter()
            .map(|(_, _, r)| r)
            .collect();
        Ok(Results {
            dir: dir.to_path_buf(),
            runs,
            workers,
            latency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_row_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("latency.csv");
        std::fs::write(
            &p,
            "run_id,strategy,workers,metric,percentile,value_us,count\n\
             a,blocking,2,latency,50,12.5,10\n\
             a,blocking,2,latency,fifty,12.5,10\n",
        )
        .unwrap();
        let e = read_rows::<LatencyRow>(&p).unwrap_err().to_string();
        assert!(e.contains("latency.csv:3: column `percentile`"), "{e}");
        std::fs::write(&p, "run_id,strategy\na,b,c\n").unwrap();
        let e = read_records(&p).unwrap_err().to_string();
        assert!(e.contains("latency.csv:2: 3 fields"), "{e}");
        let e = Results::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("runs.csv: not found"), "{e}");
    }
}
