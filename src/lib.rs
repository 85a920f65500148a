//! herd: a benchmark and research harness for the thundering-herd problem in prefork servers.
//!
//! The binary's subcommands are thin: `serve` runs [`server::serve`], `run` drives a
//! `herd serve` child with [`load`] and writes [`report`] rows. All `unsafe` code is in [`sys`].
#![deny(unsafe_code)]

pub mod chaos;
pub mod cli;
pub mod error;
pub mod fault;
pub mod harness;
pub mod load;
pub mod loadcmd;
pub mod metrics;
pub mod order;
pub mod protocol;
pub mod report;
pub mod run;
pub mod series;
pub mod server;
pub mod strategy;
pub mod sweep;
pub mod sys;

pub use error::{Error, Result};
