//! `unik build`.

use anyhow::{Context, Result};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use unik_builder::{BuildRecord, BuildRequest, Profile};
use unik_project::Project;
use unik_targets::Target;
use unik_ui::Shell;

/// How `unik build` reports each image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Status lines for people.
    #[default]
    Human,
    /// One JSON object per image on stdout (`"reason": "image-built"`).
    Json,
}

/// The options shared by `build` and `run` that pick what to build.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Path to the application's Cargo.toml (default: the one in this folder or above).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Build with the `release` profile (optimised for size, LTO).
    #[arg(long, conflicts_with = "profile")]
    pub release: bool,
    /// Build with this profile from configs/profiles.toml.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Arguments of `unik build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    selection: Selection,
    /// Target to build for; repeat for several (default: the manifest's `targets`, else kvm-x86_64).
    #[arg(long = "target", value_name = "TARGET")]
    targets: Vec<String>,
    /// How to report built images.
    #[arg(long, value_enum, default_value_t)]
    message_format: MessageFormat,
}

/// The target used when neither the command line nor the manifest names one.
pub const DEFAULT_TARGET: &str = "kvm-x86_64";

/// Reads the manifest chosen by `selection`, printing its warnings.
pub fn load_project(shell: &Shell, manifest_path: Option<&Path>) -> Result<Project> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let manifest = unik_project::locate_manifest(manifest_path, &cwd)?;
    let mut command = unik_project::metadata_command(&manifest);
    unik_ui::sanitize(&mut command);
    shell.echo(&command);
    let output = command.output().context("cannot run `cargo metadata`")?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(unik_project::ProjectError::Metadata {
            path: manifest,
            message,
        }
        .into());
    }
    let json = String::from_utf8_lossy(&output.stdout);
    let project = unik_project::from_metadata(&manifest, &json, &crate::libos_unik())?;
    for warning in &project.warnings {
        shell.warn(warning);
    }
    Ok(project)
}

/// The profile chosen by `selection`.
pub fn profile(selection: &Selection) -> Result<Profile> {
    let name = match (&selection.profile, selection.release) {
        (Some(name), _) => name.as_str(),
        (None, true) => "release",
        (None, false) => "dev",
    };
    Ok(unik_builder::profile::find(name)?)
}

/// The targets to build: the command line's, else the manifest's, else the default.
pub fn targets(requested: &[String], project: &Project) -> Result<Vec<Target>> {
    let names: Vec<&str> = if !requested.is_empty() {
        requested.iter().map(String::as_str).collect()
    } else if !project.settings.targets.is_empty() {
        project.settings.targets.iter().map(String::as_str).collect()
    } else {
        vec![DEFAULT_TARGET]
    };
    names
        .into_iter()
        .map(|name| unik_targets::find(name).map_err(Into::into))
        .collect()
}

/// Builds one image, reporting it as `format` says.
pub fn build_one(
    shell: &Shell,
    project: &Project,
    target: &Target,
    profile: &Profile,
    format: MessageFormat,
) -> Result<BuildRecord> {
    let record = unik_builder::build(
        shell,
        &BuildRequest {
            project,
            target,
            profile,
        },
    )?;
    match format {
        MessageFormat::Human => {
            shell.status(
                "Finished",
                format!(
                    "{} for {}: {} ({} bytes; {} bytes loaded)",
                    record.package,
                    record.target,
                    record.image.display(),
                    record.bytes,
                    record.loaded_bytes
                ),
            );
            let analysis = unik_catalog::analysis::Analysis {
                present: record.components.clone(),
                stripped: record.stripped.clone(),
            };
            shell.status("Specialised", unik_catalog::analysis::summary(&analysis));
        }
        MessageFormat::Json => unik_ui::outln!("{}", image_built_message(&record)),
    }
    Ok(record)
}

/// The `image-built` JSON message for `record`.
pub fn image_built_message(record: &BuildRecord) -> serde_json::Value {
    serde_json::json!({
        "reason": "image-built",
        "package": record.package,
        "target": record.target,
        "profile": record.profile,
        "image": record.image,
        "bytes": record.bytes,
        "loaded_bytes": record.loaded_bytes,
        "loaded": record.loaded,
        "memory_required": record.memory_required,
        "components": record.components,
        "stripped": record.stripped,
        "record": record.image.with_extension("json"),
    })
}

/// Builds the one image a command works on: the manifest chosen by `selection`, for
/// `target` (else the manifest's first target, else the default), without reporting it.
pub fn build_selected(shell: &Shell, selection: &Selection, target: Option<&str>) -> Result<BuildRecord> {
    let project = load_project(shell, selection.manifest_path.as_deref())?;
    let profile = profile(selection)?;
    let requested: Vec<String> = target.map(str::to_string).into_iter().collect();
    let target = targets(&requested, &project)?.swap_remove(0);
    Ok(unik_builder::build(
        shell,
        &BuildRequest {
            project: &project,
            target: &target,
            profile: &profile,
        },
    )?)
}

/// Runs `unik build`.
pub fn exec(shell: &Shell, args: Args) -> Result<Vec<BuildRecord>> {
    let project = load_project(shell, args.selection.manifest_path.as_deref())?;
    let profile = profile(&args.selection)?;
    let targets = targets(&args.targets, &project)?;
    targets
        .iter()
        .map(|target| build_one(shell, &project, target, &profile, args.message_format))
        .collect()
}
