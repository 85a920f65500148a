//! DIR/meta.json: where and how a sweep was made, so its figures can be reproduced and judged.
//! The git revision is read at sweep time with `git -C <source dir the binary was built from>
//! rev-parse HEAD` (and `git status --porcelain` for uncommitted changes); it is null when
//! git or the source tree is not there.
use super::SweepConfig;
use crate::Error;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::Command;

/// The sysctls that bear on accepting connections.
const SYSCTLS: &[&str] = &[
    "net/core/somaxconn",
    "net/ipv4/tcp_max_syn_backlog",
    "net/ipv4/tcp_abort_on_overflow",
    "net/ipv4/tcp_syncookies",
    "net/ipv4/tcp_tw_reuse",
    "net/ipv4/tcp_fin_timeout",
    "net/ipv4/ip_local_port_range",
    "net/core/netdev_max_backlog",
    "fs/file-max",
    "kernel/sched_autogroup_enabled",
    "kernel/perf_event_paranoid",
];

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The host: kernel, CPU, cores, sysctls, limits.
pub fn host() -> Value {
    let sysctls: Map<String, Value> = SYSCTLS
        .iter()
        .map(|s| {
            let v = read_trim(&format!("/proc/sys/{s}")).map_or(Value::Null, Value::String);
            (s.replace('/', "."), v)
        })
        .collect();
    let nofile = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, hard)| json!({"soft": soft, "hard": hard}))
        .unwrap_or(Value::Null);
    json!({
        "kernel": read_trim("/proc/sys/kernel/osrelease"),
        "kernel_version": read_trim("/proc/sys/kernel/version"),
        "cpu_model": cpu_model(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "cpus_online": read_trim("/sys/devices/system/cpu/online"),
        "cpufreq_governor": read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "loadavg_at_start": read_trim("/proc/loadavg"),
        "sysctls": sysctls,
        "rlimit_nofile": nofile,
    })
}

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

/// Write `v` to `path` whole or not at all: into a file beside it, then renamed over it, so a
/// sweep killed meanwhile leaves the previous meta.json, never a cut one.
fn write(path: &Path, v: &Value) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::Run(e.to_string()))?;
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::file(path, e)
        })
}
