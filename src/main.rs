//! `herd`: parse, dispatch, print `Error: ...`; nothing else.
use clap::Parser;
use herd::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => herd::server::serve(&args.server.config(args.addr)),
        Command::Run(args) => herd::run::run(&args),
        Command::Strategies => herd::report::table::print_strategies(),
        Command::Sweep(args) => herd::sweep::sweep(&args),
        Command::Plot(args) => herd::report::plot::plot(&args),
        Command::Report(args) => herd::report::markdown::report(&args),
        Command::Chaos(args) => herd::chaos::run::chaos(&args),
        Command::Order(args) => herd::order::run(&args),
        Command::Series(args) => herd::series::report::run(&args),
        Command::Load(args) => herd::loadcmd::load(&args),
        Command::Merge(args) => herd::loadcmd::merge(&args),
    };
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(e.exit_code());
    }
}
