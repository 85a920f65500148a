//! herd: a benchmark and research harness for the thundering-herd problem in prefork servers.
//!
//! Imports point one way only (`tests/layout.rs` checks it):
//!
//! ```text
//! main → cli → commands → {report, harness} → {server, load, series} → strategy
//!      → {metrics, fault, protocol} → sys;   error is a leaf
//! ```
//!
//! [`cli`] turns arguments into plain configurations; [`commands`] has one module per
//! subcommand; [`server`] is `herd serve`; [`harness`] drives a `herd serve` child; [`load`] is
//! the load generator; [`report`] turns what they measured into rows, tables and charts. All
//! `unsafe` code is in [`sys`].
#![deny(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod error;
pub(crate) mod fault;
pub mod harness;
pub mod load;
pub(crate) mod metrics;
pub mod protocol;
pub(crate) mod report;
pub mod series;
pub(crate) mod server;
pub mod strategy;
pub mod sys;

pub use error::{Error, Result};
