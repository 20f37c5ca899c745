//! `unik`: builds Rust applications into unikernel images and boots them.
//!
//! Each command is a thin layer over a library crate: `project` reads the manifest,
//! `builder` makes the image, `runner` boots it. This file only parses arguments and
//! turns results and errors into output and exit statuses.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use unik_ui::Shell;

mod build;
mod components;
mod new;
mod run;
mod sbom;
mod size;
mod targets;
mod why;

/// Build Rust applications into unikernel images, and boot them.
#[derive(Debug, Parser)]
#[command(name = "unik", version, about, propagate_version = true)]
struct Cli {
    /// Print every command unik runs, and why it chose what it chose.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Print no status lines (errors and warnings still appear).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the application into an image for each target.
    Build(build::Args),
    /// Build the application and boot it under QEMU; exits with the application's status.
    Run(run::Args),
    /// List the library OS's components (the catalog in configs/components.toml).
    Components(components::Args),
    /// Show where the bytes of an image come from; gate on a baseline or a budget.
    SizeReport(size::Args),
    /// List the crates with code in the image (its software bill of materials).
    Sbom(sbom::Args),
    /// List the targets and what each needs installed.
    Targets,
    /// Show the chain of references from the image's entry to a component or symbol.
    Why(why::Args),
    /// Create a new application in a new folder.
    New(new::Args),
}

fn main() -> ExitCode {
    // Started by cargo as rustc's wrapper during `unik build` (crate identities that do
    // not depend on folders): not a command line of ours.
    match unik_builder::identity::wrap_rustc_if_asked() {
        None => {}
        Some(Ok(status)) => return ExitCode::from(status as u8),
        Some(Err(error)) => {
            Shell::new(false, false).error(error.to_string());
            return ExitCode::FAILURE;
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and succeed; bad arguments are bad input: status 1,
        // like every other error unik reports (clap's own default is 2).
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let shell = Shell::new(cli.verbose, cli.quiet);
    if let Err(error) = unik_ui::supervise::catch_signals() {
        shell.warn(format!(
            "cannot catch signals ({error}): a signal to unik will not stop the VMs it runs"
        ));
    }
    let result = match cli.command {
        Command::Build(args) => build::exec(&shell, args).map(|()| 0),
        Command::Run(args) => run::exec(&shell, args),
        Command::Components(args) => components::exec(args).map(|_| 0),
        Command::SizeReport(args) => size::exec(&shell, args),
        Command::Sbom(args) => sbom::exec(&shell, args).map(|()| 0),
        Command::Targets => targets::exec(&shell).map(|_| 0),
        Command::Why(args) => why::exec(&shell, args).map(|_| 0),
        Command::New(args) => new::exec(&shell, args).map(|_| 0),
    };
    match result {
        // As on Unix, the low 8 bits of the status leave the process.
        Ok(status) => ExitCode::from(status as u8),
        Err(error) => match unik_ui::supervise::interruption() {
            // Whatever failed after a signal failed because of it (cargo or the VM was stopped).
            Some(interruption) => {
                shell.error(format!("{interruption}; stopped what unik was running"));
                ExitCode::from(interruption.exit_status() as u8)
            }
            None => {
                shell.error(format!("{error:#}"));
                ExitCode::FAILURE
            }
        },
    }
}

/// Where the library OS's `unik` crate is: in the checkout this binary was built from.
fn libos_unik() -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../libos/unik");
    path.canonicalize().unwrap_or(path)
}
