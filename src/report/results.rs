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
                row: normalize(row),
            })
            .collect();
        if runs.is_empty() {
            return Err(bad(&runs_path, None, "no runs in it"));
        }
        let unmeasured: Vec<&str> = runs
            .iter()
            .filter(|r| !r.row.server_metrics && !from_proc(&r.row))
            .map(|r| r.row.run_id.as_str())
            .collect();
        let workers = read_rows::<WorkerRow>(&dir.join("workers.csv"))?
            .into_iter()
            .map(|(_, _, r)| {
                if unmeasured.contains(&r.run_id.as_str()) {
                    unmeasured_worker(r)
                } else {
                    r
                }
            })
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

/// A row as this herd would write it, from a file an older herd wrote with 0 where nothing was
/// measured: the server columns of a `herd load` row, a percentile of an empty distribution
/// (a recorded value is at least 1 ns, so a 0 is no value), a ratio over 0 accepts.
fn normalize(mut r: RunRow) -> RunRow {
    // A strategy run with flags is its own line in charts and tables: `reuseport-ebpf least`.
    if let Some(o) = r.strategy_options.as_deref().filter(|o| !o.is_empty()) {
        r.strategy = format!("{} {o}", r.strategy);
    }
    let zero_is_none = |v: &mut Option<f64>| {
        if *v == Some(0.0) {
            *v = None;
        }
    };
    for v in [
        &mut r.latency_p50_us,
        &mut r.latency_p90_us,
        &mut r.latency_p99_us,
        &mut r.latency_p999_us,
        &mut r.latency_max_us,
        &mut r.connect_p50_us,
        &mut r.connect_p99_us,
        &mut r.accept_delay_p50_us,
        &mut r.accept_delay_p99_us,
        &mut r.raw_latency_p50_us,
        &mut r.raw_latency_p90_us,
        &mut r.raw_latency_p99_us,
        &mut r.raw_latency_p999_us,
        &mut r.raw_latency_max_us,
        &mut r.lateness_p50_us,
        &mut r.lateness_p99_us,
        &mut r.lateness_max_us,
        &mut r.accept_delay_p90_us,
        &mut r.accept_delay_p999_us,
        &mut r.accept_delay_max_us,
    ] {
        zero_is_none(v);
    }
    if !r.server_metrics {
        // The scoreboard's columns were not measured; with `herd load --server-pid` the
        // kernel's were, from /proc.
        let scoreboard_unmeasured = RunRow {
            accepted: None,
            wakeups: None,
            spurious_wakeups: None,
            eagain: None,
            accept_errors: None,
            wakeups_per_accept: None,
            spurious_per_accept: None,
            eagain_per_accept: None,
            lock_acquires: None,
            lock_wait_us_per_accept: None,
            ..r
        };
        if from_proc(&scoreboard_unmeasured) {
            return scoreboard_unmeasured;
        }
        return RunRow {
            vol_ctx_switches: None,
            invol_ctx_switches: None,
            ctx_switches_per_accept: None,
            cpu_user_s: None,
            cpu_sys_s: None,
            cpu_us_per_conn: None,
            jain_fairness: None,
            max_worker_share: None,
            ..scoreboard_unmeasured
        };
    }
    if r.accepted == Some(0) {
        r.wakeups_per_accept = None;
        r.spurious_per_accept = None;
        r.eagain_per_accept = None;
        r.lock_wait_us_per_accept = None;
        r.ctx_switches_per_accept = None;
        r.cpu_us_per_conn = None;
        r.jain_fairness = None;
        r.max_worker_share = None;
    }
    r
}

/// Whether the run's server was measured from /proc (`herd load --server-pid`).
fn from_proc(r: &RunRow) -> bool {
    r.server_source
        .as_deref()
        .is_some_and(|s| s.starts_with("procfs"))
}

/// A worker row of a run whose server was not measured: only the client's columns.
fn unmeasured_worker(r: WorkerRow) -> WorkerRow {
    WorkerRow {
        run_id: r.run_id,
        strategy: r.strategy,
        workers: r.workers,
        worker: r.worker,
        pid: r.pid,
        client_conns: r.client_conns,
        accept_delay_p50_us: r.accept_delay_p50_us.filter(|v| *v > 0.0),
        accept_delay_p90_us: r.accept_delay_p90_us.filter(|v| *v > 0.0),
        accept_delay_p99_us: r.accept_delay_p99_us.filter(|v| *v > 0.0),
        accept_delay_p999_us: r.accept_delay_p999_us.filter(|v| *v > 0.0),
        accept_delay_max_us: r.accept_delay_max_us.filter(|v| *v > 0.0),
        ..Default::default()
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

    #[test]
    fn an_older_file_with_zeros_for_the_unmeasured_reads_as_empty() {
        // The committed fixture was written with 0 and 1.0 where nothing was measured.
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sweep-small");
        for f in ["runs.csv", "workers.csv", "latency.csv"] {
            std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
        }
        let r = Results::load(dir.path()).unwrap();
        let measured = &r.runs[0].row;
        assert!(measured.server_metrics && measured.accepted.unwrap() > 0);
        assert!(measured.jain_fairness.is_some() && measured.latency_p50_us.is_some());
        // The same row as `herd load` wrote it before: server columns 0, Jain 1.0.
        let old = RunRow {
            server_metrics: false,
            accepted: Some(0),
            jain_fairness: Some(1.0),
            ctx_switches_per_accept: Some(0.0),
            accept_delay_p50_us: Some(0.0),
            ..measured.clone()
        };
        let n = normalize(old);
        assert_eq!(
            (n.accepted, n.jain_fairness, n.ctx_switches_per_accept),
            (None, None, None)
        );
        assert_eq!(n.accept_delay_p50_us, None);
        assert_eq!(n.latency_p50_us, measured.latency_p50_us);
    }
}
