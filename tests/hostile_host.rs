//! Another local user against a running herd: files planted where herd creates its own, and
//! what herd's shared memory and semaphores show to others (docs/reliability.md).
mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// `herd serve ARGS` started by a shell that first plants a symlink named as the lock file
/// herd will create (`herd-accept-<pid>.lock`: the shell's pid, which `exec` keeps).
fn serve_with_planted_link(tmp: &Path, victim: &Path, args: &str) -> std::process::Output {
    let script = format!(
        "ln -s '{}' \"$TMPDIR/herd-accept-$$.lock\" && exec '{}' serve {args}",
        victim.display(),
        env!("CARGO_BIN_EXE_herd")
    );
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("TMPDIR", tmp)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut guard = Reaped(Some(child));
    let end = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let c = guard.0.as_mut().unwrap();
        if c.try_wait().unwrap().is_some() {
            return guard.0.take().unwrap().wait_with_output().unwrap();
        }
        assert!(std::time::Instant::now() < end, "herd serve did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_planted_lock_file_link_is_refused_not_followed() {
    for strategy in ["fcntl", "flock"] {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("precious");
        std::fs::write(&victim, "do not truncate").unwrap();
        let out = serve_with_planted_link(
            dir.path(),
            &victim,
            &format!("--strategy {strategy} --workers 2 --addr 127.0.0.1:0"),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{strategy}: started over a planted link"
        );
        assert!(
            err.contains("already exists") && err.contains("refusing"),
            "{strategy}: unclear error: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "do not truncate",
            "{strategy}: the link's target was written"
        );
    }
}

#[test]
fn lock_files_are_private_and_removed() {
    for strategy in ["fcntl", "flock"] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd_args = vec!["--strategy", strategy, "--workers", "2"];
        cmd_args.extend(["--addr", "127.0.0.1:0"]);
        let mut s = Server::start_with_env(&cmd_args, &[("TMPDIR", dir.path())]);
        let lock = dir.path().join(format!("herd-accept-{}.lock", s.pid()));
        let meta = std::fs::symlink_metadata(&lock).expect("the lock file");
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{strategy}");
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
        assert!(!lock.exists(), "{strategy}: lock file left behind");
    }
}

/// The SysV semaphore sets of `uid` in /proc/sysvipc/sem: (key, perms) of each.
fn sem_sets(uid: u32) -> Vec<(i64, u32)> {
    let text = std::fs::read_to_string("/proc/sysvipc/sem").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // key semid perms nsems uid gid cuid cgid otime ctime
            let owner: u32 = f.get(4)?.parse().ok()?;
            if owner != uid {
                return None;
            }
            Some((f[0].parse().ok()?, u32::from_str_radix(f[2], 8).ok()?))
        })
        .collect()
}

fn dev_shm() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn shared_memory_and_semaphores_stay_private() {
    let uid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    let shm_before = dev_shm();
    for strategy in ["sysv-sem", "posix-sem", "pthread-mutex", "accept-mutex"] {
        let before = sem_sets(uid).len();
        let s = Server::start(&["--strategy", strategy, "--workers", "2"]);
        assert!(get(s.addr).starts_with("HTTP/1.1 200"));
        let sets = sem_sets(uid);
        if strategy == "sysv-sem" {
            assert!(sets.len() > before, "no semaphore set seen");
        }
        for (key, perms) in &sets {
            assert_eq!(*key, 0, "{strategy}: a set with a key others could look up");
            assert_eq!(perms & 0o777, 0o600, "{strategy}: set mode {perms:o}");
        }
        // Every mapping is anonymous: nothing named in /dev/shm.
        assert_eq!(
            dev_shm(),
            shm_before,
            "{strategy}: a name appeared in /dev/shm"
        );
        // The maps of the master say so too: shared memory is `/dev/zero (deleted)` or
        // `[anon:...]`, never a file.
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", s.pid())).unwrap();
        assert!(!maps.contains("/dev/shm/"), "{strategy}: {maps}");
    }
}

#[test]
fn a_trace_path_that_is_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("precious");
    std::fs::write(&victim, "keep").unwrap();
    let link = dir.path().join("trace.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let link_s = link.to_str().unwrap();
    for cmd in ["serve", "run"] {
        let mut args = vec![cmd, "--workers", "1", "--trace", link_s];
        if cmd == "run" {
            args.extend(["--duration", "200ms", "--warmup", "0s"]);
        }
        let out = herd_output(&args, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("symlink"), "{cmd}: {err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
    // A run whose server cannot start leaves no trace file behind.
    let t = dir.path().join("t.csv");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = herd_output(
        &["run", "--trace", t.to_str().unwrap(), "--addr", &addr],
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(!t.exists(), "an empty trace file was left behind");
}
