//! The `amzsync` binary: composition root and command line. Glue only — the
//! rules live in the library crates, so the API and the CLI reach the same code.

mod cli;
mod config;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One TLS crypto provider for reqwest, sqlx and redis (STACK.md P2).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: what we were doing, then each cause.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
