//! What a run reports: one serde row schema ([`row`]), written as CSV ([`csv`]) and as a
//! human summary ([`table`]).
pub mod aggregate;
pub mod csv;
pub mod markdown;
pub mod plot;
pub mod results;
pub mod row;
pub mod table;
