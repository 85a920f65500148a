//! Faults: injected inside the server ([`fault`]) and applied from outside under load by
//! `herd chaos` ([`run`]), which reports per strategy and fault kind what the clients lost,
//! how long the server took to recover ([`timeline`]) and whether it still serves ([`row`]).
pub mod row;
pub mod run;
pub mod schedule;
pub mod timeline;
