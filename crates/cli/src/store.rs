//! `stepwise store`: what an operator does to a store file.

use std::path::PathBuf;
use std::process::ExitCode;

use stepwise_store::SqliteStore;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Copy a store consistently while a server uses it (SQLite's VACUUM INTO); start a server
    /// on the copy to carry on every execution from the moment of the copy.
    Backup {
        /// Where the copy goes (a new file).
        file: PathBuf,
        /// The store to copy [default: stepwise.db].
        #[arg(long, default_value = "stepwise.db")]
        store: PathBuf,
    },
}

pub fn run(command: &Command) -> ExitCode {
    match command {
        Command::Backup { file, store } => match SqliteStore::backup(store, file) {
            Ok(()) => {
                let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                println!(
                    "backed up {} to {} ({size} bytes)",
                    store.display(),
                    file.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot back up {}: {e}", store.display());
                ExitCode::from(2)
            }
        },
    }
}
