//! DIR/meta.json: the host a results directory's figures were measured on, and how. A sweep
//! writes its own (`commands/sweep/meta.rs`, with the matrix); `herd run`, `herd load` and
//! `herd chaos` with `--out DIR` write one when DIR has none and add each invocation to its
//! `invocations` list, with the CPU partition it used.
use crate::sys::affinity::Partition;
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

/// A file's text with its whitespace runs made single spaces; `None` when unreadable.
pub fn read_trim(path: &str) -> Option<String> {
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

/// `git -C <the source dir herd was built from> ARGS`, if git and that tree are there.
pub fn git(args: &[&str]) -> Option<String> {
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

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Whether a process named `name` runs (its /proc/PID/comm), as far as /proc shows.
fn running(name: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// The kernel's speculative-execution mitigations: the `mitigations=` option it was booted
/// with (null when none was given: the kernel's default, `auto`) and its verdict per
/// vulnerability (/sys/devices/system/cpu/vulnerabilities).
fn mitigations() -> Value {
    let cmdline = read_trim("/proc/cmdline").and_then(|c| {
        c.split(' ')
            .find(|t| t.starts_with("mitigations="))
            .map(str::to_string)
    });
    let dir = "/sys/devices/system/cpu/vulnerabilities";
    let mut each: Vec<(String, Value)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let v =
                        read_trim(&e.path().to_string_lossy()).map_or(Value::Null, Value::String);
                    (name, v)
                })
                .collect()
        })
        .unwrap_or_default();
    each.sort_by(|a, b| a.0.cmp(&b.0));
    json!({"cmdline": cmdline, "vulnerabilities": each.into_iter().collect::<Map<_, _>>()})
}

/// The host: kernel, CPU, cores, frequency governor, transparent huge pages, irqbalance, the
/// mitigations, sysctls, limits.
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
        // null: no cpufreq driver (common in virtual machines: the host sets the frequency).
        "cpufreq_governor": read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "transparent_hugepage": read_trim("/sys/kernel/mm/transparent_hugepage/enabled"),
        "transparent_hugepage_defrag": read_trim("/sys/kernel/mm/transparent_hugepage/defrag"),
        "irqbalance_running": running("irqbalance"),
        "mitigations": mitigations(),
        "loadavg_at_start": read_trim("/proc/loadavg"),
        "sysctls": sysctls,
        "rlimit_nofile": nofile,
    })
}

/// The partition as meta.json records it.
pub fn partition(p: &Partition) -> Value {
    let (server, client) = p.columns();
    json!({"server_cpus": server, "client_cpus": client})
}

/// `herd run|load|chaos --out DIR`: write DIR/meta.json when there is none, and add this
/// invocation (time, command line, partition) to its `invocations`.
pub fn note_invocation(dir: &Path, p: &Partition) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Usage(format!("--out {}: {e}", dir.display())))?;
    let path = dir.join("meta.json");
    let mut meta = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str::<Value>(&text)
            .map_err(|e| Error::Usage(format!("{}:{}: {e}", path.display(), e.line())))?,
        Err(_) => json!({
            "herd_version": env!("CARGO_PKG_VERSION"),
            "git_rev": git(&["rev-parse", "HEAD"]),
            "created": now(),
            "host": host(),
        }),
    };
    let entry = json!({
        "at": now(),
        "command": std::env::args().collect::<Vec<_>>(),
        "partition": partition(p),
        "loadavg": read_trim("/proc/loadavg"),
    });
    match meta.get_mut("invocations").and_then(Value::as_array_mut) {
        Some(list) => list.push(entry),
        None => meta["invocations"] = json!([entry]),
    }
    write(&path, &meta)
}

/// Write `v` to `path` whole or not at all: into a file beside it, then renamed over it, so a
/// run killed meanwhile leaves the previous meta.json, never a cut one.
pub fn write(path: &Path, v: &Value) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::Run(e.to_string()))?;
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::file(path, e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_names_governor_thp_irqbalance_and_mitigations() {
        let h = host();
        for key in [
            "cpufreq_governor",
            "transparent_hugepage",
            "irqbalance_running",
            "mitigations",
        ] {
            assert!(h.get(key).is_some(), "{key} missing from {h}");
        }
        assert!(h["irqbalance_running"].is_boolean());
        assert!(h["mitigations"]["vulnerabilities"].is_object());
    }

    #[test]
    fn invocations_accumulate_with_their_partition() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partition {
            server: Some(crate::sys::affinity::CpuSet::parse("0").unwrap()),
            client: None,
        };
        note_invocation(dir.path(), &p).unwrap();
        note_invocation(dir.path(), &Partition::default()).unwrap();
        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("meta.json")).unwrap())
                .unwrap();
        let inv = m["invocations"].as_array().unwrap();
        assert_eq!(inv.len(), 2);
        assert_eq!(inv[0]["partition"]["server_cpus"], "0");
        assert!(inv[1]["partition"]["server_cpus"].is_null());
        assert!(
            m["host"]["transparent_hugepage"].is_string()
                || m["host"]["transparent_hugepage"].is_null()
        );
    }
}
