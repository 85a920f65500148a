//! What herd reports: the row schemas ([`row`], [`chaos`], [`series`]) and how a measured phase
//! becomes rows ([`record`], [`client`], the host's partition and noise in [`noise`]), rounded to the precision each figure has
//! ([`precision`]), written as CSV ([`csv`]), read back ([`results`]), grouped ([`aggregate`])
//! and shown as a summary ([`summary`]), tables in Markdown, CSV or JSON ([`export`]) and charts ([`plot`]).
pub(crate) mod aggregate;
pub(crate) mod chaos;
pub(crate) mod client;
pub(crate) mod csv;
pub(crate) mod export;
pub(crate) mod kernel;
pub(crate) mod merge;
pub(crate) mod meta;
pub(crate) mod noise;
pub(crate) mod plot;
pub(crate) mod precision;
pub(crate) mod record;
pub(crate) mod repeat;
pub(crate) mod results;
pub(crate) mod row;
pub(crate) mod row_build;
pub(crate) mod series;
pub(crate) mod skew;
pub(crate) mod summary;
