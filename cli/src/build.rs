//! `unik build`.

use anyhow::{Context, Result};
use clap::ValueEnum;
use std::path::PathBuf;
use unik_builder::{BuildRequest, Presentation, Profile, Toolchain};
use unik_linker::BuildRecord;
use unik_project::Project;
use unik_targets::Target;
use unik_ui::Shell;

/// How `unik build` reports each image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Status lines for people.
    #[default]
    Human,
    /// One JSON object per image on stdout (`"reason": "image-built"`), then one
    /// `"reason": "build-finished"` object, as cargo ends its own.
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
    /// Print what the build would do (the cargo command, its environment, the files it
    /// writes) and do nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Reads the manifest chosen by `selection`, printing its warnings.
pub fn load_project(shell: &Shell, selection: &Selection) -> Result<Project> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let project = unik_project::load(shell, selection.manifest_path.as_deref(), &cwd, &crate::libos_unik())?;
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
            let (package, target, image) = (&record.package, &record.target, record.image.display());
            let (bytes, loaded) = (record.bytes, record.loaded_bytes);
            shell.status(
                "Finished",
                format!("{package} for {target}: {image} ({bytes} bytes; {loaded} bytes loaded)"),
            );
            let analysis = unik_catalog::analysis::Analysis {
                present: record.components.clone(),
                stripped: record.stripped.clone(),
            };
            shell.status("Specialised", unik_catalog::analysis::summary(&analysis));
        }
        MessageFormat::Json => unik_ui::outln!("{}", unik_builder::image_built_message(&record)),
    }
    Ok(record)
}

/// Prints the plan of building `project` for `target`, as `format` says.
pub fn print_plan(
    shell: &Shell,
    project: &Project,
    target: &Target,
    profile: &Profile,
    format: MessageFormat,
) -> Result<()> {
    let request = BuildRequest {
        project,
        target,
        profile,
    };
    let plan = unik_builder::plan(&request, &Toolchain::probe(shell, project)?, Presentation::of(shell))?;
    match format {
        MessageFormat::Human => unik_ui::out!("{}", plan.describe()),
        MessageFormat::Json => unik_ui::outln!("{}", unik_builder::build_plan_message(&plan)),
    }
    Ok(())
}

/// Builds the one image a command works on: the manifest chosen by `selection`, for
/// `target` (else the manifest's first target, else the default), without reporting it.
pub fn build_selected(shell: &Shell, selection: &Selection, target: Option<&str>) -> Result<BuildRecord> {
    let project = load_project(shell, selection)?;
    let target = project.target(target)?;
    let request = BuildRequest {
        project: &project,
        target: &target,
        profile: &profile(selection)?,
    };
    Ok(unik_builder::build(shell, &request)?)
}

/// Runs `unik build`. With `--message-format json`, the last line is cargo's
/// `{"reason":"build-finished","success":…}` record, with the error when the build failed.
pub fn exec(shell: &Shell, args: Args) -> Result<()> {
    let json = args.message_format == MessageFormat::Json && !args.dry_run;
    let result = build_each(shell, args);
    if json {
        let mut finished = serde_json::json!({ "reason": "build-finished", "success": result.is_ok() });
        if let Err(error) = &result {
            finished["error"] = format!("{error:#}").into();
        }
        unik_ui::outln!("{finished}");
    }
    result
}

fn build_each(shell: &Shell, args: Args) -> Result<()> {
    let project = load_project(shell, &args.selection)?;
    let profile = profile(&args.selection)?;
    for target in project.targets(&args.targets)? {
        if args.dry_run {
            print_plan(shell, &project, &target, &profile, args.message_format)?;
        } else {
            build_one(shell, &project, &target, &profile, args.message_format)?;
        }
    }
    Ok(())
}
