//! Faults: injected inside the server ([`fault`]) and applied from outside under load by
//! `herd chaos`.
pub mod fault;
