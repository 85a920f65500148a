//! One module per subcommand, each with `run(&Config)`: `herd X` is `commands::X::run`, given
//! the configuration the command line built. Nothing here parses flags.
pub mod chaos;
pub mod load;
pub mod merge;
pub mod order;
pub mod output;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod series;
pub mod serve;
pub mod strategies;
pub mod sweep;
