//! `herd completions SHELL` and `herd man`: shell completions (clap_complete) and man pages
//! (clap_mangen) generated from the same clap definitions as the parser, so they cannot drift
//! from it. They live here, not in `commands/`, because they are made of the command line
//! itself.
use super::Cli;
use crate::Error;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write herd.1 and one page per subcommand (herd-run.1, ...) into DIR; without it,
    /// print herd.1 on stdout (`herd man | man -l -`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl CompletionsArgs {
    /// The completion script on stdout, e.g. `herd completions bash > /etc/bash_completion.d/herd`.
    pub fn run(&self) -> Result<(), Error> {
        let mut cmd = Cli::command();
        clap_complete::generate(self.shell, &mut cmd, "herd", &mut std::io::stdout());
        Ok(())
    }
}

impl ManArgs {
    pub fn run(&self) -> Result<(), Error> {
        let cmd = Cli::command();
        match &self.out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::Usage(format!("--out {}: {e}", dir.display())))?;
                clap_mangen::generate_to(cmd, dir)
                    .map_err(|e| Error::Usage(format!("--out {}: {e}", dir.display())))?;
                println!("wrote man pages to {}", dir.display());
            }
            None => {
                crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
                clap_mangen::Man::new(cmd)
                    .render(&mut std::io::stdout())
                    .map_err(|e| Error::io("writing the man page", e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_man_pages_cover_the_new_flags() {
        let mut cmd = Cli::command();
        let mut bash = Vec::new();
        clap_complete::generate(Shell::Bash, &mut cmd, "herd", &mut bash);
        let bash = String::from_utf8(bash).unwrap();
        for flag in ["--connections", "--threads", "--json", "completions"] {
            assert!(bash.contains(flag), "{flag} not completed");
        }
        let dir = tempfile::tempdir().unwrap();
        clap_mangen::generate_to(Cli::command(), dir.path()).unwrap();
        let load = std::fs::read_to_string(dir.path().join("herd-load.1")).unwrap();
        assert!(
            load.contains("connections") && load.contains("\\-R"),
            "{load}"
        );
        assert!(dir.path().join("herd.1").exists() && dir.path().join("herd-run.1").exists());
    }
}
