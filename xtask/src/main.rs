//! `cargo xtask`: the commands a newcomer and CI run.
//!
//! - `setup`: installs what building and booting need (Rust targets, QEMU), or says
//!   exactly what is missing when it cannot;
//! - `demo`: `setup`, then builds `examples/hello` and boots it;
//! - `test`: `setup`, then every check and test the project has (what `.ci/run` runs);
//! - `bench`: the numbers in BENCHMARKS.md;
//! - `fuzz`: every fuzz target in `fuzz/` for a while (nightly; not CI).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use unik_ui::Shell;

// examples/http's request handling, built into the bench's Linux server, names `alloc::`.
extern crate alloc;

mod bench;
mod bench_http;
mod floor;
mod fuzz;
mod setup;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

/// Runs `command` (echoed), failing with its description if it fails.
fn run(shell: &Shell, command: &mut Command) -> Result<(), String> {
    shell.echo(command);
    let status = command
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", unik_ui::display_command(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", unik_ui::display_command(command)))
    }
}

fn cargo(shell: &Shell, dir: &Path, args: &[&str]) -> Result<(), String> {
    let mut command = shell.command("cargo");
    command.current_dir(dir).args(args);
    run(shell, &mut command)
}

fn demo(shell: &Shell) -> Result<(), String> {
    setup::setup(shell)?;
    let root = root();
    cargo(shell, &root, &["build", "--quiet", "--package", "unik-cli"])?;
    let unik = root.join("target/debug/unik");
    shell.status("Demo", "building examples/hello and booting it under QEMU");
    let mut command = shell.command(&unik);
    command
        .current_dir(root.join("examples/hello"))
        .args(["run", "--release", "--timeout", "60"]);
    run(shell, &mut command)?;
    shell.status(
        "Done",
        format!(
            "the image is in examples/target/unik/kvm-x86_64/; `{}` is the CLI",
            unik.display()
        ),
    );
    Ok(())
}

fn test(shell: &Shell) -> Result<(), String> {
    setup::setup(shell)?;
    let root = root();
    shell.status("Checking", "formatting");
    cargo(shell, &root, &["fmt", "--all", "--check"])?;
    cargo(shell, &root.join("libos"), &["fmt", "--all", "--check"])?;
    cargo(shell, &root.join("examples"), &["fmt", "--all", "--check"])?;
    shell.status("Linting", "host tools and library OS (clippy, warnings are errors)");
    cargo(
        shell,
        &root,
        &[
            "clippy",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    cargo(
        shell,
        &root.join("libos"),
        &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"],
    )?;
    let mut std_targets_linted: Vec<&str> = Vec::new();
    let targets = unik_targets::all();
    let dev = unik_builder::profile::find("dev").map_err(|e| e.to_string())?;
    for target in &targets {
        // The bare-metal crates of every platform, built as `unik build` builds them (the
        // same rustflags): for no_std applications, and for std applications (the std
        // target, with unik-libc, std itself built from source). The latter once per std
        // target: std is rebuilt for every set of flags, and the std-only crates are the
        // same for every platform of an architecture.
        let mut builds = vec![(false, target.rust_target.as_str())];
        if !std_targets_linted.contains(&target.std_rust_target.as_str()) {
            std_targets_linted.push(&target.std_rust_target);
            builds.push((true, &target.std_rust_target));
        }
        for (uses_std, rust_target) in builds {
            let flags = unik_builder::plan::rustflags(target, &dev, None).join("\x1f");
            let mut command = shell.command("cargo");
            command
                .current_dir(root.join("libos"))
                .args(["clippy", "--quiet", "--package", "unik", "--target", rust_target])
                .env("CARGO_ENCODED_RUSTFLAGS", &flags);
            if uses_std {
                command.args(dev.std_unstable_args()).env("RUSTC_BOOTSTRAP", "1");
            }
            command.args(["--", "-D", "warnings"]);
            run(shell, &mut command)?;
        }
    }
    shell.status("Testing", "library OS crates on the host");
    cargo(shell, &root.join("libos"), &["test", "--quiet"])?;
    shell.status(
        "Testing",
        "host tools, then every example and test application booted under QEMU",
    );
    cargo(shell, &root, &["test", "--quiet", "--workspace"])?;
    shell.status("Passed", "every check and test");
    Ok(())
}

fn main() -> ExitCode {
    let shell = Shell::new(true, false);
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "setup" => setup::setup(&shell),
        "demo" => demo(&shell),
        "test" => test(&shell),
        "bench" => bench::bench(&shell, std::env::args().any(|a| a == "--quick")),
        "fuzz" => fuzz::fuzz(&shell, &std::env::args().skip(2).collect::<Vec<_>>()),
        _ => Err("usage: cargo xtask <setup|demo|test|bench [--quick]|fuzz [--minutes N] [--minimize] [TARGET…]>\n  setup  install what building and booting need\n  demo   build examples/hello and boot it\n  test   run every check and test (what CI runs)\n  bench  measure image size, boot time, memory floor and build time (target/bench/)\n  fuzz   run every fuzz target in fuzz/ (10 minutes each by default; nightly, not CI)".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            shell.error(message);
            ExitCode::FAILURE
        }
    }
}
