//! The application a command works on: its package, binary, target directory and the
//! `[package.metadata.unik]` settings, read through `cargo metadata`.
//!
//! Only this crate knows the manifest's shape; everything downstream gets a [`Project`].

use cargo_metadata::{Metadata, MetadataCommand, Package, TargetKind};
use std::path::{Path, PathBuf};
use thiserror::Error;
use unik_targets::{Target, TargetError};
use unik_ui::Shell;

pub mod settings;

pub use settings::{DEFAULT_TMPFS, DEFAULT_XEN_BRIDGE, Settings};

/// An application unik can build.
#[derive(Clone, Debug)]
pub struct Project {
    /// Absolute path of the package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Package name.
    pub package: String,
    /// The binary target that becomes the image.
    pub bin: String,
    /// An ordinary std program (its crate root has no `#![no_std]`): std is built for the
    /// target's Linux musl triple and runs on the library OS's C library.
    pub uses_std: bool,
    /// Cargo's target directory (images go to `<target_directory>/unik/`).
    pub target_directory: PathBuf,
    /// `[package.metadata.unik]`.
    pub settings: Settings,
    /// Warnings about the manifest, in cargo's words (`unused manifest key: ...`).
    pub warnings: Vec<String>,
}

/// Why a manifest cannot be used.
#[derive(Debug, Error)]
pub enum ProjectError {
    /// No manifest where one was expected.
    #[error(
        "could not find `Cargo.toml` in `{0}` or any parent folder; run unik inside an application's folder or pass --manifest-path"
    )]
    NoManifest(PathBuf),
    /// `--manifest-path` names a missing file.
    #[error("the manifest `{0}` does not exist")]
    ManifestMissing(PathBuf),
    /// `--manifest-path` names a folder.
    #[error("--manifest-path `{}` is a folder: give the path of its manifest, `{}`", .0.display(), .0.join("Cargo.toml").display())]
    ManifestIsFolder(PathBuf),
    /// `cargo metadata` failed (bad TOML, ...).
    #[error("cargo cannot read `{path}`:\n{message}")]
    Metadata {
        /// Manifest path.
        path: PathBuf,
        /// Cargo's message.
        message: String,
    },
    /// A workspace manifest without a package.
    #[error(
        "`{0}` is a workspace manifest without a package; pass --manifest-path with the application's own Cargo.toml"
    )]
    VirtualManifest(PathBuf),
    /// A package with no binary target.
    #[error(
        "package `{package}` (`{path}`) has no binary target. A unik application is a binary crate: add src/main.rs with a `#[unik::main]` function (`unik new NAME` writes one)"
    )]
    NotABinary {
        /// Package name.
        package: String,
        /// Manifest path.
        path: PathBuf,
    },
    /// Several binaries and no choice made.
    #[error(
        "package `{package}` has several binaries ({bins}); choose one with `bin = \"NAME\"` under [package.metadata.unik] in `{path}`"
    )]
    AmbiguousBinary {
        /// Package name.
        package: String,
        /// The binaries.
        bins: String,
        /// Manifest path.
        path: PathBuf,
    },
    /// `bin` names a binary the package does not have.
    #[error(
        "[package.metadata.unik] bin = \"{bin}\" in `{path}`, but package `{package}` has no such binary (it has: {bins})"
    )]
    UnknownBinary {
        /// The name given.
        bin: String,
        /// Package name.
        package: String,
        /// The binaries.
        bins: String,
        /// Manifest path.
        path: PathBuf,
    },
    /// The package does not use the library OS.
    #[error(
        "package `{package}` (`{path}`) does not depend on the `unik` crate. Add it under [dependencies], e.g. `unik = {{ path = \"{libos}\" }}`"
    )]
    NoUnikDependency {
        /// Package name.
        package: String,
        /// Manifest path.
        path: PathBuf,
        /// Where the library OS lives, for the suggestion.
        libos: String,
    },
    /// A `[package.metadata.unik]` value of the wrong shape.
    #[error("invalid `{key}` in `{path}`: {message}")]
    Setting {
        /// Dotted key, e.g. `package.metadata.unik.memory`.
        key: String,
        /// Manifest path.
        path: PathBuf,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// Finds the manifest: `explicit`, or `Cargo.toml` in `cwd` or its nearest parent.
pub fn locate_manifest(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, ProjectError> {
    match explicit {
        Some(path) => {
            let path = cwd.join(path);
            if path.is_file() {
                Ok(path)
            } else if path.is_dir() {
                Err(ProjectError::ManifestIsFolder(path))
            } else {
                Err(ProjectError::ManifestMissing(path))
            }
        }
        None => cwd
            .ancestors()
            .map(|dir| dir.join("Cargo.toml"))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| ProjectError::NoManifest(cwd.to_path_buf())),
    }
}

/// The `cargo metadata` command for `manifest`, for the caller to echo and run.
pub fn metadata_command(manifest: &Path) -> std::process::Command {
    let mut command = MetadataCommand::new();
    command.cargo_path("cargo").manifest_path(manifest).no_deps();
    command.cargo_command()
}

/// Reads the application: finds its manifest (`explicit`, else in `cwd` or above), runs
/// `cargo metadata` through `shell` (echoed, in a clean environment) and builds the
/// [`Project`]. `libos_hint` is the `unik` crate's path, for the error of a missing
/// dependency. Warnings about the manifest are in [`Project::warnings`].
pub fn load(shell: &Shell, explicit: Option<&Path>, cwd: &Path, libos_hint: &Path) -> Result<Project, ProjectError> {
    let manifest = locate_manifest(explicit, cwd)?;
    let mut command = metadata_command(&manifest);
    unik_ui::sanitize(&mut command);
    shell.echo(&command);
    let failure = |message: String| ProjectError::Metadata {
        path: manifest.clone(),
        message,
    };
    let output = command
        .output()
        .map_err(|e| failure(format!("cannot run `cargo metadata`: {e}")))?;
    if !output.status.success() {
        return Err(failure(String::from_utf8_lossy(&output.stderr).trim().to_string()));
    }
    from_metadata(&manifest, &String::from_utf8_lossy(&output.stdout), libos_hint)
}

impl Project {
    /// The targets to build: `requested` (the command line's), else the manifest's
    /// `targets`, else [`unik_targets::DEFAULT_TARGET`].
    pub fn targets(&self, requested: &[String]) -> Result<Vec<Target>, TargetError> {
        let names: Vec<&str> = if !requested.is_empty() {
            requested.iter().map(String::as_str).collect()
        } else if !self.settings.targets.is_empty() {
            self.settings.targets.iter().map(String::as_str).collect()
        } else {
            vec![unik_targets::DEFAULT_TARGET]
        };
        names.into_iter().map(unik_targets::find).collect()
    }

    /// Where downloaded hypervisors and the dom0 kit are kept: `$UNIK_CACHE_DIR`, else
    /// `<target-dir>/unik/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        std::env::var_os("UNIK_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.target_directory.join("unik").join("cache"))
    }

    /// The one target a command works on: `requested`, else the first of
    /// [`Project::targets`].
    pub fn target(&self, requested: Option<&str>) -> Result<Target, TargetError> {
        let requested: Vec<String> = requested.map(str::to_string).into_iter().collect();
        Ok(self.targets(&requested)?.swap_remove(0))
    }
}

/// Builds the [`Project`] for `manifest` from `cargo metadata`'s output `json`.
///
/// `libos_hint` is the `unik` crate's path, used in the error for a missing dependency.
pub fn from_metadata(manifest: &Path, json: &str, libos_hint: &Path) -> Result<Project, ProjectError> {
    let metadata: Metadata = MetadataCommand::parse(json).map_err(|e| ProjectError::Metadata {
        path: manifest.to_path_buf(),
        message: e.to_string(),
    })?;
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    let package = metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
        .ok_or_else(|| ProjectError::VirtualManifest(manifest.clone()))?;
    let (settings, warnings) = settings::read(&package.metadata, &manifest)?;
    let bin = choose_bin(package, &settings, &manifest)?;
    if !package.dependencies.iter().any(|d| d.name == "unik") {
        return Err(ProjectError::NoUnikDependency {
            package: package.name.to_string(),
            path: manifest,
            libos: libos_hint.display().to_string(),
        });
    }
    let uses_std = package
        .targets
        .iter()
        .find(|t| t.name == bin && t.kind.contains(&TargetKind::Bin))
        .is_some_and(|t| std::fs::read_to_string(&t.src_path).is_ok_and(|source| !declares_no_std(&source)));
    Ok(Project {
        manifest_path: manifest,
        package: package.name.to_string(),
        bin,
        uses_std,
        target_directory: metadata.target_directory.into_std_path_buf(),
        settings,
        warnings,
    })
}

/// Whether a crate root's `source` carries `#![no_std]` (also inside `cfg_attr`), outside
/// comments.
pub fn declares_no_std(source: &str) -> bool {
    let code = strip_comments(source);
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#!") {
        let attribute = rest[at + 2..].trim_start();
        let Some(body) = attribute.strip_prefix('[') else {
            rest = &rest[at + 2..];
            continue;
        };
        let end = body.find(']').unwrap_or(body.len());
        let words = body[..end].split(|c: char| !(c.is_alphanumeric() || c == '_'));
        if words.into_iter().any(|word| word == "no_std") {
            return true;
        }
        rest = &body[end..];
    }
    false
}

/// `source` without `//` and `/* */` comments (string literals are not special: a crate
/// root's inner attributes come before any).
fn strip_comments(source: &str) -> String {
    let mut code = String::with_capacity(source.len());
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            code.push(' ');
        } else {
            let next = rest.chars().next().expect("rest is not empty");
            code.push(next);
            rest = &rest[next.len_utf8()..];
        }
    }
    code
}

fn choose_bin(package: &Package, settings: &Settings, manifest: &Path) -> Result<String, ProjectError> {
    let bins: Vec<&str> = package
        .targets
        .iter()
        .filter(|t| t.kind.contains(&TargetKind::Bin))
        .map(|t| t.name.as_str())
        .collect();
    let list = || bins.join(", ");
    match (&settings.bin, bins.as_slice()) {
        (_, []) => Err(ProjectError::NotABinary {
            package: package.name.to_string(),
            path: manifest.to_path_buf(),
        }),
        (Some(bin), _) if bins.contains(&bin.as_str()) => Ok(bin.clone()),
        (Some(bin), _) => Err(ProjectError::UnknownBinary {
            bin: bin.clone(),
            package: package.name.to_string(),
            bins: list(),
            path: manifest.to_path_buf(),
        }),
        (None, [only]) => Ok(only.to_string()),
        (None, _) => Err(ProjectError::AmbiguousBinary {
            package: package.name.to_string(),
            bins: list(),
            path: manifest.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::declares_no_std;

    #[test]
    fn a_crate_root_is_no_std_only_with_the_inner_attribute() {
        assert!(declares_no_std("#![no_std]\n#![no_main]\nfn f() {}"));
        assert!(declares_no_std("//! Docs\n#![ no_std ]\n"));
        assert!(declares_no_std("#![cfg_attr(not(test), no_std)]\n"));
        assert!(!declares_no_std("fn main() { println!(\"no_std\"); }"));
        assert!(!declares_no_std("// #![no_std]\nfn main() {}"));
        assert!(!declares_no_std("/* #![no_std] */ fn main() {}"));
        assert!(!declares_no_std("#![allow(dead_code)]\nuse unik as _;\nfn main() {}"));
        assert!(!declares_no_std("#[no_std_like]\nfn main() {}"));
    }
}
