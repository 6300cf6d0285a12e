//! `amzsync config …`: the configuration reference.

use clap::Subcommand;

use crate::config::reference;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration reference: every key with its environment
    /// variable, default and meaning, as a Markdown table.
    Reference,
}

impl ConfigCommand {
    /// The reference needs no configuration at all.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ConfigCommand::Reference => print!("{}", reference::markdown()),
        }
        Ok(())
    }
}
