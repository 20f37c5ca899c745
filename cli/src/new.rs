//! `unik new`.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use unik_ui::Shell;

const CARGO_TOML: &str = include_str!("../../templates/new/Cargo.toml");
const MAIN_RS: &str = include_str!("../../templates/new/src/main.rs");
const MAIN_STD_RS: &str = include_str!("../../templates/new/src/main-std.rs");
const GITIGNORE: &str = include_str!("../../templates/new/gitignore");

/// Arguments of `unik new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to create; its last component is the package name.
    path: PathBuf,
    /// Write an ordinary std program (`fn main`, std built for the target) instead of a
    /// `no_std` one with `#[unik::main]`.
    #[arg(long)]
    std: bool,
}

fn valid_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Writes the application from `templates/new/`, refusing to touch anything that exists.
pub fn exec(shell: &Shell, args: Args) -> Result<()> {
    let path = args.path;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if !valid_package_name(&name) {
        bail!("`{name}` is not a valid package name: use letters, digits, `-` and `_`, starting with a letter");
    }
    if path.symlink_metadata().is_ok() {
        bail!(
            "`{}` already exists; unik new never overwrites anything. Choose another name",
            path.display()
        );
    }
    let unik_path = crate::libos_unik();
    if !unik_path.join("Cargo.toml").is_file() {
        bail!(
            "the unik library OS is not at `{}`; this unik binary was built from a checkout that has since moved",
            unik_path.display()
        );
    }
    let fill = |template: &str| {
        unik_linker::script::render(
            template,
            &[("name", name.clone()), ("unik_path", unik_path.display().to_string())],
        )
    };
    std::fs::create_dir_all(path.join("src")).with_context(|| format!("cannot create `{}`", path.display()))?;
    for (file, template) in [
        ("Cargo.toml", CARGO_TOML),
        ("src/main.rs", if args.std { MAIN_STD_RS } else { MAIN_RS }),
        (".gitignore", GITIGNORE),
    ] {
        let target = path.join(file);
        std::fs::write(&target, fill(template)?).with_context(|| format!("cannot write `{}`", target.display()))?;
    }
    shell.status(
        "Created",
        format!(
            "application `{name}` in `{}`; boot it with `cd {} && unik run`",
            path.display(),
            path.display()
        ),
    );
    Ok(())
}
