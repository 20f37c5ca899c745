//! Making sure the Rust toolchain can build for a target: the target's standard library
//! (`core`, `alloc`) must be installed; rustup installs it when it can.

use crate::BuildError;
use std::path::{Path, PathBuf};
use unik_ui::Shell;

/// Ensures the toolchain that builds in `dir` has `rust_target` installed.
pub(crate) fn ensure_target(shell: &Shell, dir: &Path, rust_target: &str) -> Result<(), BuildError> {
    if target_installed(shell, dir, rust_target) {
        return Ok(());
    }
    let how = format!("rustup target add {rust_target}");
    shell.status("Installing", format!("the Rust target {rust_target} (`{how}`)"));
    let mut command = shell.command("rustup");
    command.current_dir(dir).args(["target", "add", rust_target]);
    shell.echo(&command);
    match command.status() {
        Ok(status) if status.success() && target_installed(shell, dir, rust_target) => Ok(()),
        Ok(_) => Err(BuildError::Toolchain(format!(
            "`{how}` failed; run it yourself and look at its message"
        ))),
        Err(_) => Err(BuildError::Toolchain(format!(
            "the Rust target {rust_target} is not installed and rustup is not available; install the target's standard library for this toolchain (with rustup: `{how}`)"
        ))),
    }
}

fn target_installed(shell: &Shell, dir: &Path, rust_target: &str) -> bool {
    let mut command = shell.command("rustc");
    command
        .current_dir(dir)
        .args(["--print", "target-libdir", "--target", rust_target]);
    shell.echo(&command);
    let Ok(output) = command.output() else {
        return false;
    };
    let libdir = String::from_utf8_lossy(&output.stdout);
    let libdir = Path::new(libdir.trim());
    output.status.success()
        && std::fs::read_dir(libdir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
}

/// Ensures the toolchain that builds in `dir` has the standard library's sources
/// (`-Zbuild-std` compiles them); returns where they are (`<sysroot>/lib/rustlib/src/rust`).
pub(crate) fn ensure_rust_src(shell: &Shell, dir: &Path) -> Result<PathBuf, BuildError> {
    let sources = || {
        let mut command = shell.command("rustc");
        command.current_dir(dir).args(["--print", "sysroot"]);
        shell.echo(&command);
        command.output().ok().and_then(|output| {
            let sysroot = String::from_utf8_lossy(&output.stdout);
            let sources = Path::new(sysroot.trim()).join("lib/rustlib/src/rust");
            sources.join("library/core/Cargo.toml").is_file().then_some(sources)
        })
    };
    if let Some(sources) = sources() {
        return Ok(sources);
    }
    shell.status(
        "Installing",
        "the Rust standard library sources (`rustup component add rust-src`)",
    );
    let mut command = shell.command("rustup");
    command.current_dir(dir).args(["component", "add", "rust-src"]);
    shell.echo(&command);
    match command.status() {
        Ok(status) if status.success() => sources(),
        _ => None,
    }
    .ok_or_else(|| {
        BuildError::Toolchain(
            "this build compiles Rust's standard library from source, which needs the rust-src component: run `rustup component add rust-src`".into(),
        )
    })
}

impl crate::Toolchain {
    /// The toolchain that builds in `project`'s folder (`rustc --print sysroot`).
    pub fn probe(shell: &Shell, project: &unik_project::Project) -> Result<crate::Toolchain, BuildError> {
        let dir = project.manifest_path.parent().unwrap_or(Path::new("."));
        let mut command = shell.command("rustc");
        command.current_dir(dir).args(["--print", "sysroot"]);
        shell.echo(&command);
        match command.output() {
            Ok(output) if output.status.success() => Ok(crate::Toolchain {
                sysroot: PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()),
                cargo_home: cargo_home(),
                rustc_wrapper: std::env::current_exe().map_err(|error| {
                    BuildError::Toolchain(format!("cannot find the running unik executable: {error}"))
                })?,
            }),
            _ => Err(BuildError::Toolchain(
                "`rustc --print sysroot` failed: is a Rust toolchain installed (https://rustup.rs)?".into(),
            )),
        }
    }
}

/// `$CARGO_HOME`, else `~/.cargo`, as cargo finds it.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

impl crate::Presentation {
    /// How `shell` wants cargo's output: colour on a colour terminal; cargo's progress
    /// unless `-q` (its bar on a terminal, a `Compiling` line per crate elsewhere, so a
    /// CI log does not stand still for a minute).
    pub fn of(shell: &Shell) -> crate::Presentation {
        crate::Presentation {
            color: shell.is_color(),
            progress: !shell.is_quiet(),
        }
    }
}
