//! `--server-cpus LIST` and `--client-cpus LIST`: one host split between the server under test
//! and the load generator. Flattened into every subcommand that drives a server under load
//! (`run`, `load`, `sweep` through `run`, `chaos`; a new one adds `#[command(flatten)]
//! partition: PartitionArgs` and calls [`PartitionArgs::config`]).
use crate::sys::affinity::{self, CpuSet, Partition};
use crate::Error;
use clap::Args;

/// The two CPU sets, as given.
#[derive(Debug, Clone, Default, Args)]
pub struct PartitionArgs {
    /// Pin the server to these CPUs (e.g. 0 or 0-3,8): herd's own server from its master down
    /// (every worker, process or thread, in either worker model, inherits the set); with
    /// `herd load`, every thread of the --server-pid trees. Must not overlap --client-cpus.
    /// Default: not pinned.
    #[arg(long, value_name = "LIST", value_parser = parse_cpus)]
    pub server_cpus: Option<CpuSet>,
    /// Pin the load generator's threads (and herd's sampling threads) to these CPUs; its
    /// default thread count becomes one per CPU of the set. Must not overlap --server-cpus.
    /// Default: not pinned.
    #[arg(long, value_name = "LIST", value_parser = parse_cpus)]
    pub client_cpus: Option<CpuSet>,
}

fn parse_cpus(s: &str) -> Result<CpuSet, String> {
    CpuSet::parse(s)
}

impl PartitionArgs {
    /// Each set must name CPUs this host has and this process may use, and the two must be
    /// disjoint: otherwise a usage error naming the flag (exit 2).
    pub fn config(&self) -> Result<Partition, Error> {
        check_host(self.server_cpus.as_ref(), self.client_cpus.as_ref())?;
        Ok(Partition {
            server: self.server_cpus.clone(),
            client: self.client_cpus.clone(),
        })
    }

    /// The server's set as `herd serve` takes it, if any.
    pub(crate) fn serve_arg(&self) -> Option<String> {
        self.server_cpus
            .as_ref()
            .map(|s| format!("--server-cpus={s}"))
    }
}

/// The checks of [`PartitionArgs::config`] against this host's CPUs.
pub(crate) fn check_host(server: Option<&CpuSet>, client: Option<&CpuSet>) -> Result<(), Error> {
    if server.is_none() && client.is_none() {
        return Ok(());
    }
    let online = affinity::online().map_err(|e| Error::io("/sys/devices/system/cpu/online", e))?;
    let allowed = affinity::allowed().map_err(|e| Error::io("sched_getaffinity", e))?;
    check(server, client, &online, &allowed)
}

/// The checks of [`PartitionArgs::config`], against the given online and allowed CPUs.
pub(crate) fn check(
    server: Option<&CpuSet>,
    client: Option<&CpuSet>,
    online: &CpuSet,
    allowed: &CpuSet,
) -> Result<(), Error> {
    for (flag, set) in [("--server-cpus", server), ("--client-cpus", client)] {
        let Some(set) = set else { continue };
        let missing = set.minus(online);
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "{flag} {set}: no CPU {missing} on this host (online: {online})"
            )));
        }
        let barred = set.minus(allowed);
        if !barred.is_empty() {
            return Err(Error::Usage(format!(
                "{flag} {set}: CPU {barred} is not allowed to this process (its cpuset or \
                 affinity allows {allowed})"
            )));
        }
    }
    if let (Some(s), Some(c)) = (server, client) {
        let both = s.common(c);
        if !both.is_empty() {
            return Err(Error::Usage(format!(
                "--server-cpus {s} and --client-cpus {c} overlap in CPU {both}: the sets must be \
                 disjoint, or the client and the server compete for those CPUs again"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> CpuSet {
        CpuSet::parse(s).unwrap()
    }

    #[test]
    fn overlapping_or_missing_cpus_are_usage_errors_naming_the_flag() {
        let (online, allowed) = (set("0-3"), set("0-2"));
        let ok = |s: &str, c: &str| check(Some(&set(s)), Some(&set(c)), &online, &allowed);
        assert!(ok("0", "1-2").is_ok());
        assert!(check(Some(&set("0")), None, &online, &allowed).is_ok());
        let e = ok("0-1", "1-2").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("overlap in CPU 1"), "{e}");
        let e = ok("0", "7").unwrap_err();
        assert!(
            e.to_string().starts_with("--client-cpus 7: no CPU 7"),
            "{e}"
        );
        let e = ok("3", "0").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--server-cpus 3: CPU 3 is not allowed"),
            "{e}"
        );
    }
}
