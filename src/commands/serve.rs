//! `herd serve`: the prefork server on its own, until SIGINT or SIGTERM.
use crate::server::ServerConfig;
use crate::Error;

pub fn run(cfg: &ServerConfig) -> Result<(), Error> {
    crate::server::serve(cfg)
}
