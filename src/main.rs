//! `herd`: parse, build the command's configuration, run it, print `Error: ...`; nothing else.
use clap::Parser;
use herd::cli::{Cli, Command};
use herd::commands;

fn main() {
    let result = match Cli::parse().command {
        Command::Serve(a) => a.config().and_then(|c| commands::serve::run(&c)),
        Command::Run(a) => a.config().and_then(|c| commands::run::run(&c)),
        Command::Strategies => commands::strategies::run(),
        Command::Sweep(a) => a.config().and_then(|c| commands::sweep::run(&c)),
        Command::Plot(a) => a.config().and_then(|c| commands::plot::run(&c)),
        Command::Report(a) => a.config().and_then(|c| commands::report::run(&c)),
        Command::Chaos(a) => a.config().and_then(|c| commands::chaos::run(&c)),
        Command::Order(a) => a.config().and_then(|c| commands::order::run(&c)),
        Command::Series(a) => a.config().and_then(|c| commands::series::run(&c)),
        Command::Load(a) => a.config().and_then(|c| commands::load::run(&c)),
        Command::Merge(a) => a.config().and_then(|c| commands::merge::run(&c)),
        Command::Reproduce(a) => a.config().and_then(|c| commands::reproduce::run(&c)),
        Command::Completions(a) => a.run(),
        Command::Man(a) => a.run(),
    };
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(e.exit_code());
    }
}
