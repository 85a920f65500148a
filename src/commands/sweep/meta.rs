//! DIR/meta.json: where and how a sweep was made, so its figures can be reproduced and judged.
//! The git revision is read at sweep time with `git -C <source dir the binary was built from>
//! rev-parse HEAD` (and `git status --porcelain` for uncommitted changes); it is null when
//! git or the source tree is not there.
use super::SweepConfig;
use crate::report::meta::{git, host, now, partition, read_trim, write};
use crate::Error;
use serde_json::{json, Value};
use std::path::Path;

/// The matrix as given, to compare on `--resume`.
fn sweep(cfg: &SweepConfig, seed: u64) -> Value {
    let a = &cfg.matrix;
    json!({
        "strategies": a.strategies,
        "workers": a.workers,
        "concurrency": a.concurrency,
        "rate": a.rate,
        "work_us": a.work_us,
        "sleep_us": a.sleep_us,
        "repeat": cfg.repeat,
        "seed": seed,
        "run_flags": a.run_flags,
    })
}

/// Write meta.json for a new sweep, or, on `--resume`, check that the runs will be made with
/// the same flags and record the resumption.
pub fn start(dir: &Path, cfg: &SweepConfig, seed: u64, planned: usize) -> Result<Value, Error> {
    let path = dir.join("meta.json");
    let command: Vec<String> = std::env::args().collect();
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) if cfg.resume => Some(
            serde_json::from_str::<Value>(&text)
                .map_err(|e| Error::Usage(format!("{}:{}: {e}", path.display(), e.line())))?,
        ),
        _ => None,
    };
    let meta = match existing {
        Some(mut m) => {
            let was = &m["sweep"]["run_flags"];
            let now_flags = json!(cfg.matrix.run_flags);
            if *was != now_flags {
                return Err(Error::Usage(format!(
                    "--resume: this sweep's runs were made with {was}, not {now_flags}; \
                     resume with the same run flags or use another --out"
                )));
            }
            if let Some(list) = m.get_mut("resumed").and_then(Value::as_array_mut) {
                list.push(json!({"at": now(), "command": command, "runs_planned": planned}));
            }
            m
        }
        None => json!({
            "herd_version": env!("CARGO_PKG_VERSION"),
            "git_rev": git(&["rev-parse", "HEAD"]),
            "git_dirty": git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
            "git_rev_source": "git -C <build source dir> at sweep start",
            "command": command,
            "started": now(),
            "finished": Value::Null,
            "host": host(),
            // Every cell of a sweep runs with the same --server-cpus and --client-cpus.
            "partition": cfg.cells.first().map(|c| partition(&c.run.partition)),
            "sweep": sweep(cfg, seed),
            "runs_planned": planned,
            "resumed": [],
        }),
    };
    write(&path, &meta)?;
    Ok(meta)
}

/// Record the end of the sweep.
pub fn finish(dir: &Path, mut meta: Value, done: usize, failures: &[String]) -> Result<(), Error> {
    meta["finished"] = json!(now());
    meta["loadavg_at_end"] = json!(read_trim("/proc/loadavg"));
    meta["runs_done_last_invocation"] = json!(done);
    meta["failures_last_invocation"] = json!(failures);
    write(&dir.join("meta.json"), &meta)
}
