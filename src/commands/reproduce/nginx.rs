//! nginx as an experiment's server: its configuration in a fresh directory, the master started
//! as a child in its own process group, loaded by herd's own client (`herd load`'s code), then
//! stopped (SIGTERM, then SIGKILL to the group) and reaped, also when the load fails.
use crate::commands::load::LoadCommand;
use crate::report::record::RunOutcome;
use crate::Error;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the nginx under test shares its listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NginxConf {
    pub workers: u32,
    /// `listen ... reuseport`: one socket per worker.
    pub reuseport: bool,
    /// `accept_mutex on` (nginx 1.9.1's default) or off (the default since 1.11.3).
    pub accept_mutex: bool,
}

/// Where the nginx binary is on PATH, or why the experiment cannot run here.
pub fn find_nginx() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "nginx is not on PATH (apt-get install -y nginx; wrk is not needed: herd's own \
             client loads it)"
                .to_string()
        })
}

/// A running nginx; stopped and reaped on drop.
struct Nginx {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

const START_LIMIT: Duration = Duration::from_secs(10);

impl Nginx {
    fn start(conf: NginxConf) -> Result<Nginx, Error> {
        let bin = find_nginx().map_err(Error::Run)?;
        let dir = std::env::temp_dir().join(format!(
            "herd-reproduce-nginx-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| Error::file(&dir, e))?;
        // A port free now; nginx binds it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::io("finding a free port for nginx", e))?
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let file = dir.join("nginx.conf");
        std::fs::write(&file, config(conf, &dir, addr)).map_err(|e| Error::file(&file, e))?;
        let child = Command::new(bin)
            .arg("-c")
            .arg(&file)
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| Error::io("starting nginx", e))?;
        let mut n = Nginx { child, dir, addr };
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = n.child.try_wait() {
                let log = std::fs::read_to_string(n.dir.join("logs/error.log")).unwrap_or_default();
                return Err(Error::Server(format!(
                    "nginx exited with {status} at start: {}",
                    log.trim()
                )));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(n);
            }
            if start.elapsed() > START_LIMIT {
                return Err(Error::Server(format!(
                    "nginx did not listen on {addr} within {START_LIMIT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The master's group: its workers too, should it not have stopped them.
        let _ = kill(Pid::from_raw(-pid.as_raw()), Signal::SIGKILL);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: `conf`'s socket sharing, a 200 `ok` with the worker's PID in X-Worker.
fn config(conf: NginxConf, dir: &Path, addr: SocketAddr) -> String {
    let d = dir.display();
    format!(
        "worker_processes {workers};\ndaemon off;\nmaster_process on;\npid {d}/nginx.pid;\n\
         error_log {d}/logs/error.log warn;\n\
         events {{ worker_connections 4096; accept_mutex {mutex}; }}\n\
         http {{\n  access_log off;\n  server {{\n    listen {addr} backlog=4096{rp};\n    \
         location / {{ add_header X-Worker $pid; return 200 \"ok\\n\"; }}\n  }}\n}}\n",
        workers = conf.workers,
        mutex = if conf.accept_mutex { "on" } else { "off" },
        rp = if conf.reuseport { " reuseport" } else { "" },
    )
}

/// Start nginx as `conf` says, load it with `load` (its URL and server PID set here), stop it.
pub fn measure(conf: NginxConf, load: &LoadCommand) -> Result<RunOutcome, Error> {
    let nginx = Nginx::start(conf)?;
    let mut load = load.clone();
    load.url = format!("http://{}/", nginx.addr);
    load.server_pids = vec![u64::from(nginx.child.id())];
    let out = crate::commands::load::measure(&load);
    drop(nginx);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_says_what_was_asked() {
        let addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
        let c = |reuseport, accept_mutex| {
            config(
                NginxConf {
                    workers: 2,
                    reuseport,
                    accept_mutex,
                },
                Path::new("/tmp/x"),
                addr,
            )
        };
        let shared = c(false, true);
        assert!(
            shared.contains("listen 127.0.0.1:8080 backlog=4096;"),
            "{shared}"
        );
        assert!(shared.contains("accept_mutex on;") && shared.contains("worker_processes 2;"));
        let rp = c(true, false);
        assert!(rp.contains("backlog=4096 reuseport;") && rp.contains("accept_mutex off;"));
    }
}
