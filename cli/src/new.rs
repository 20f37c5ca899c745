//! `unik new`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
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

/// The package names of the library OS's crates under `libos` (every `Cargo.toml` with a
/// `[package]`, two folders deep at most: `libos/unik`, `libos/components/net`).
fn library_os_crates(libos: &Path) -> Vec<String> {
    let mut manifests = vec![libos.join("Cargo.toml")];
    let mut folders = vec![(libos.to_path_buf(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if depth < 2 && path.is_dir() && entry.file_name() != "target" {
                manifests.push(path.join("Cargo.toml"));
                folders.push((path, depth + 1));
            }
        }
    }
    manifests
        .iter()
        .filter_map(|manifest| std::fs::read_to_string(manifest).ok())
        .filter_map(|text| text.parse::<toml::Table>().ok())
        .filter_map(|table| Some(table.get("package")?.get("name")?.as_str()?.to_string()))
        .collect()
}

/// Whether `name` is a library-OS crate's name (cargo treats `-` and `_` alike): an
/// application's dependency graph holds those crates, and a package cannot depend on a
/// package of its own name.
fn is_library_os_name(name: &str, libos: &Path) -> bool {
    let normal = |name: &str| name.replace('-', "_");
    library_os_crates(libos)
        .iter()
        .any(|crate_name| normal(crate_name) == normal(name))
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
    if unik_path.parent().is_some_and(|libos| is_library_os_name(&name, libos)) {
        bail!(
            "`{name}` is the name of a library-OS crate the application depends on, and a package cannot depend on its own name: choose another name"
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
