//! What a run reports: one serde row schema ([`row`]), written as CSV ([`csv`]) and as a
//! human summary ([`table`]).
pub mod csv;
pub mod row;
pub mod table;
