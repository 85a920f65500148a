//! `herd order`: the order in which idle workers take connections.
use super::parse::{parse_duration, parse_strategy_choice, StrategyChoice};
use crate::commands::order::OrderConfig;
use crate::metrics::MAX_WORKERS;
use crate::strategy::{Mode, WorkerModel};
use crate::Error;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct OrderArgs {
    /// Accept strategy, or `all` for every strategy this kernel supports.
    #[arg(long, default_value = "all", value_parser = parse_strategy_choice)]
    pub strategy: StrategyChoice,
    /// Workers (1 to 1024).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=MAX_WORKERS as i64))]
    pub workers: u32,
    /// Connections to make, one after another.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub connections: u32,
    /// Workers as processes or threads.
    #[arg(long, value_enum, default_value_t = Mode::Process)]
    pub mode: Mode,
    /// How each worker serves (`sync` or `event`, see `herd serve --help`); with `all`, the
    /// strategies without a form in the model are skipped.
    #[arg(long, value_enum, default_value_t = WorkerModel::Sync)]
    pub worker_model: WorkerModel,
    /// Idle time after each response, so that the worker is back in its wait before the next
    /// connection (e.g. 20ms).
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    pub gap: Duration,
    /// Address the server listens on; port 0 lets the kernel choose.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = super::parse::parse_addr)]
    pub addr: SocketAddr,
    /// Print one JSON object per strategy on stdout (strategy, verdict, the worker of each
    /// connection); the table goes to stderr.
    #[arg(long)]
    pub json: bool,
}

impl OrderArgs {
    pub fn config(&self) -> Result<OrderConfig, Error> {
        Ok(OrderConfig {
            strategies: self
                .strategy
                .supported_kinds("herd order", self.worker_model)?,
            worker_model: self.worker_model,
            workers: self.workers,
            connections: self.connections,
            mode: self.mode,
            gap: self.gap,
            addr: self.addr,
            json: self.json,
        })
    }
}
