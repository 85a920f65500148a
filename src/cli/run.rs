//! `herd run`: one measured run of a `herd serve` child.
use super::cpus::PartitionArgs;
use super::load::LoadArgs;
use super::parse::parse_duration;
use super::serve::ServerArgs;
use crate::commands::run::RunConfig;
use crate::Error;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Address the server listens on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = super::parse::parse_addr)]
    pub addr: SocketAddr,
    /// Load before the measurement starts, not counted (0s: none).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Append rows to DIR/runs.csv, DIR/workers.csv and DIR/latency.csv, histograms to
    /// DIR/hist/RUN_ID.hlog.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the run as one JSON object on stdout (the fields of its runs.csv row); the human
    /// summary goes to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub partition: PartitionArgs,
    /// Make the run N times, each with a fresh server: N rows, and a summary with the median
    /// and the min–max of each headline figure.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
}

impl RunArgs {
    /// Every check on input, before the server starts.
    pub fn config(&self) -> Result<RunConfig, Error> {
        if let Some(t) = &self.server.trace {
            // Only a check: the server creates (or truncates) it, so a run that fails before
            // the server starts leaves no empty file behind.
            crate::sys::files::check_user_output(t)
                .map_err(|e| Error::Usage(format!("--trace {}: {e}", t.display())))?;
        }
        if self.load.requests_per_conn > self.server.max_requests_per_conn {
            return Err(Error::Usage(format!(
                "--requests-per-conn {}: above --max-requests-per-conn {}, so the server would close connections early",
                self.load.requests_per_conn, self.server.max_requests_per_conn
            )));
        }
        if let Some(n) = self.load.long_lived_requests() {
            if n > u64::from(self.server.max_requests_per_conn) {
                return Err(Error::Usage(format!(
                    "--long-lived: each connection sends about {n} requests, above --max-requests-per-conn {}, so the server would close connections early; raise --max-requests-per-conn to at least {n}",
                    self.server.max_requests_per_conn
                )));
            }
        }
        let partition = self.partition.config()?;
        let mut server = self.server.config(self.addr)?;
        server.cpus = partition.server.clone();
        let mut serve_args = self.server.to_args();
        serve_args.push(format!("--addr={}", self.addr));
        serve_args.extend(self.partition.serve_arg());
        let threads = self.load.client_threads.map(|t| t as usize);
        Ok(RunConfig {
            server,
            serve_args,
            // The address is a placeholder until the server says where it listens.
            load: self
                .load
                .config(self.addr)?
                .pinned(partition.client.clone(), threads),
            partition,
            repeat: self.repeat,
            warmup: self.warmup,
            duration: self.load.duration,
            max_conns: self.load.requests,
            out: self.out.clone(),
            queue_interval: self.load.queue_interval()?,
            json: self.json,
        })
    }
}
