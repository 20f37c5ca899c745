//! Builds an application into an image for one target, in two steps: [`plan()`] decides
//! everything the build will do as data ([`BuildPlan`]); [`execute`] carries it out.
//!
//! One `cargo rustc` per target compiles the application and the library OS together
//! (so LTO and `--gc-sections` see the whole program) with the target's flags, the
//! `unik_platform` cfgs and the rendered linker script. The linked ELF is then compacted,
//! verified and written to `<target-dir>/unik/<target>/<package>`, with the linked ELF
//! (`.elf`, symbols kept, for analysis) and a JSON build record (`.json`) beside it.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use thiserror::Error;
use unik_linker::record::{self, BuildRecord};
use unik_linker::{Expectations, Image, ImageError, VerifyError, image, verify};
use unik_project::Project;
use unik_targets::{ByteSize, Target, xl};
use unik_ui::Shell;

mod files;
pub mod identity;
pub mod plan;
pub mod profile;
pub mod sbom;
mod toolchain;

pub use plan::{BuildPlan, Presentation, Toolchain, output_dir, plan};
pub use profile::Profile;

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildRequest<'a> {
    /// The application.
    pub project: &'a Project,
    /// The target.
    pub target: &'a Target,
    /// The profile.
    pub profile: &'a Profile,
}

/// Why a build failed.
#[derive(Debug, Error)]
pub enum BuildError {
    /// The Rust target is missing and could not be installed.
    #[error("{0}")]
    Toolchain(String),
    /// cargo could not be started.
    #[error("cannot run cargo: {0}")]
    CargoNotRunnable(std::io::Error),
    /// unik received a signal during the build and stopped cargo.
    #[error("{0}; the build was stopped")]
    Interrupted(unik_ui::supervise::Interruption),
    /// Compilation failed; cargo printed why.
    #[error("could not compile `{package}` for {target} (cargo's errors are above)")]
    Compile {
        /// Package.
        package: String,
        /// Target.
        target: String,
    },
    /// The application has no `#[unik::main]`.
    #[error(
        "`{package}` has no entry point: no function in the binary `{bin}` carries #[unik::main]. Mark the function the unikernel should run:\n\n    #[unik::main]\n    fn main() {{\n        unik::println!(\"Hello\");\n    }}"
    )]
    MissingMain {
        /// Package.
        package: String,
        /// Binary.
        bin: String,
    },
    /// More than one `#[unik::main]`.
    #[error("`{package}` has more than one #[unik::main] function; keep exactly one")]
    DuplicateMain {
        /// Package.
        package: String,
    },
    /// A std application that also marks a `#[unik::main]`.
    #[error(
        "`{package}` is a std application (its crate root has no #![no_std]): std runs its `fn main`, so remove #[unik::main] (or add #![no_std] and #![no_main] to write a no_std application)"
    )]
    StdWithUnikMain {
        /// Package.
        package: String,
    },
    /// The program calls functions nothing in the image defines (C functions the library
    /// OS does not provide, for a std program).
    #[error(
        "`{package}` calls functions the library OS does not provide for {target}:\n{}\nEach is a C library function a crate calls (the caller is named after it). Avoid the call (a crate feature may), or ask for the function in the library OS (libos/libc)",
        .missing.iter().map(|(name, caller)| format!("  {name} (called by {caller})")).collect::<Vec<_>>().join("\n")
    )]
    MissingFunctions {
        /// Package.
        package: String,
        /// Target.
        target: String,
        /// Each missing function and the function that calls it.
        missing: Vec<(String, String)>,
    },
    /// The image enters a kernel itself, with instructions nothing answers in a unikernel.
    #[error(
        "the image of `{package}` for {target} makes system calls itself, which no kernel answers in a unikernel, in: {}. A crate bypasses the C library: use a feature of it that calls the C library (rustix is built with its libc backend already, `--cfg rustix_use_libc`), or remove the inline assembly",
        .functions.join(", ")
    )]
    SystemCalls {
        /// Package.
        package: String,
        /// Target.
        target: String,
        /// The functions that hold a system-call instruction.
        functions: Vec<String>,
    },
    /// The linker script's size assertion fired.
    #[error("the image is too large for {target}: {message}")]
    TooLarge {
        /// Target.
        target: String,
        /// The linker's message.
        message: String,
    },
    /// The built ELF is not a usable image.
    #[error("the linked image `{path}` is unusable: {source}")]
    Image {
        /// The ELF.
        path: PathBuf,
        /// What is wrong.
        source: ImageError,
    },
    /// The image breaks a rule of its target.
    #[error("the linked image `{path}` fails verification for {target}: {source}")]
    Verify {
        /// The ELF.
        path: PathBuf,
        /// Target.
        target: String,
        /// The rule.
        source: VerifyError,
    },
    /// The arm64 Image breaks a rule of the format or of the entry code.
    #[error("the linked image `{path}` cannot become an arm64 Image for {target}: {source}")]
    Arm64 {
        /// The ELF.
        path: PathBuf,
        /// Target.
        target: String,
        /// The rule.
        source: unik_linker::arm64::Arm64Error,
    },
    /// The configured memory cannot hold the image.
    #[error(transparent)]
    MemoryTooSmall(#[from] MemoryTooSmall),
    /// The bill of materials cannot be made.
    #[error("cannot make the bill of materials: {0}")]
    Sbom(String),
    /// A file could not be read or written.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The image holds a component its target does not provide.
    #[error(transparent)]
    Unprovided(#[from] unik_catalog::analysis::Unprovided),
    /// The component catalog is invalid (a bug in configs/components.toml).
    #[error(transparent)]
    Catalog(#[from] unik_catalog::CatalogError),
    /// A manifest setting the target cannot honour.
    #[error("invalid `{key}` in `{}`: {message}", manifest.display())]
    Setting {
        /// The key, `package.metadata.unik.memory`.
        key: String,
        /// The manifest that sets it.
        manifest: PathBuf,
        /// What is wrong and what to write.
        message: String,
    },
    /// A linker-script template problem (a target definition bug).
    #[error("target `{target}`: {message}")]
    Template {
        /// Target.
        target: String,
        /// What is wrong.
        message: String,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + 'a {
    move |source| BuildError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Takes the lock of `cargo_profile`'s builds in `target_dir`
/// (`<target-dir>/unik/locks/<profile>.lock`), waiting for another unik build to finish;
/// held until the returned file is dropped.
fn lock_profile(shell: &Shell, target_dir: &Path, cargo_profile: &str) -> Result<std::fs::File, BuildError> {
    let folder = target_dir.join("unik").join("locks");
    std::fs::create_dir_all(&folder).map_err(io("cannot create", &folder))?;
    let path = folder.join(format!("{cargo_profile}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io("cannot open", &path))?;
    if file.try_lock().is_err() {
        shell.status(
            "Waiting",
            format!("for another unik build of `{cargo_profile}` ({})", path.display()),
        );
        file.lock().map_err(io("cannot lock", &path))?;
    }
    Ok(file)
}

/// Writes `contents` to `path` through a temporary file and a rename: a reader (a QEMU
/// booting the previous image, a parallel build) sees the old file or the new, never half.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), BuildError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(folder).map_err(io("cannot create a file in", folder))?;
    std::io::Write::write_all(&mut temporary, contents).map_err(io("cannot write", path))?;
    // Temporary files are private (0600); build outputs are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        temporary
            .as_file()
            .set_permissions(readable)
            .map_err(io("cannot set the permissions of", path))?;
    }
    temporary.persist(path).map_err(|e| BuildError::Io {
        action: "cannot write",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Least guest memory that holds `image` on `target`: RAM from the target's RAM base up
/// to the image's end (for a position-independent image: its size past the offset loaders
/// put it at), rounded up to a whole 4 KiB page.
pub fn memory_required(image: &Image, target: &Target) -> ByteSize {
    let end = if target.image_format.is_position_independent() {
        target.layout.load_offset + image.loaded_end() - image.loaded_start()
    } else {
        image.loaded_end().saturating_sub(target.machine.ram_base)
    };
    ByteSize::new(end.div_ceil(4096) * 4096)
}

/// Memory that cannot hold an image.
#[derive(Debug, Error)]
#[error(
    "{memory} of memory ({origin}) cannot hold the image for {target}: it needs at least {required} (it is loaded at {load:#x}). Raise `memory` under [package.metadata.unik] or pass --memory"
)]
pub struct MemoryTooSmall {
    /// Configured memory.
    pub memory: ByteSize,
    /// Where the value came from.
    pub origin: String,
    /// Least memory.
    pub required: ByteSize,
    /// Target.
    pub target: String,
    /// Load address.
    pub load: u64,
}

/// Checks that `memory` holds an image that needs `required` bytes on `target`; `origin`
/// says where the value came from.
pub fn check_memory(required: u64, target: &Target, memory: ByteSize, origin: &str) -> Result<(), MemoryTooSmall> {
    if memory.bytes() < required {
        return Err(MemoryTooSmall {
            memory,
            origin: origin.to_string(),
            required: ByteSize::new(required),
            target: target.name.clone(),
            load: target.layout.load_address,
        });
    }
    Ok(())
}

/// Plans and executes a build: the toolchain probed, [`plan()`], then [`execute`].
pub fn build(shell: &Shell, request: &BuildRequest<'_>) -> Result<BuildRecord, BuildError> {
    let toolchain = Toolchain::probe(shell, request.project)?;
    let plan = plan(request, &toolchain, Presentation::of(shell))?;
    execute(shell, request, &toolchain, &plan)
}

/// Builds the image `request` asks for and returns its bill of materials' facts with its
/// record (`unik sbom`: the build wrote the document; the facts also know what it left
/// out).
pub fn build_with_bill(
    shell: &Shell,
    request: &BuildRequest<'_>,
) -> Result<(BuildRecord, unik_sbom::Facts), BuildError> {
    let toolchain = Toolchain::probe(shell, request.project)?;
    let plan = plan(request, &toolchain, Presentation::of(shell))?;
    make_image(shell, request, &toolchain, &plan)
}

/// Carries out `plan` (made by [`plan()`] from `request`): installs what the toolchain
/// lacks, writes the linker script, runs cargo, then compacts, verifies, analyses and
/// records the image.
pub fn execute(
    shell: &Shell,
    request: &BuildRequest<'_>,
    toolchain: &Toolchain,
    plan: &BuildPlan,
) -> Result<BuildRecord, BuildError> {
    make_image(shell, request, toolchain, plan).map(|(record, _)| record)
}

/// [`execute`], returning also the facts the bill of materials was made from.
fn make_image(
    shell: &Shell,
    request: &BuildRequest<'_>,
    toolchain: &Toolchain,
    plan: &BuildPlan,
) -> Result<(BuildRecord, unik_sbom::Facts), BuildError> {
    let BuildRequest {
        project,
        target,
        profile: _,
    } = request;
    let app_dir = plan.cargo.cwd.as_path();
    if let Some(rust_target) = &plan.toolchain.target {
        toolchain::ensure_target(shell, app_dir, rust_target)?;
    }
    if plan.toolchain.rust_src {
        toolchain::ensure_rust_src(shell, app_dir)?;
    }
    let out_dir = &plan.outputs.dir;
    std::fs::create_dir_all(out_dir).map_err(io("cannot create", out_dir))?;
    let script = &plan.linker_script;
    // The name carries a hash of the text: an existing file holds the same script.
    if !script.path.exists() {
        write_atomically(&script.path, script.contents.as_bytes())?;
    }
    for file in &plan.support_files {
        if let Some(folder) = file.path.parent() {
            std::fs::create_dir_all(folder).map_err(io("cannot create", folder))?;
        }
        if !file.path.exists() {
            write_atomically(&file.path, file.contents.as_bytes())?;
        }
    }
    let packed = match &plan.outputs.files {
        Some(archive) => {
            let packed = write_packed_files(plan, project, archive)?;
            shell.status(
                "Packed",
                format!(
                    "{} files and folders ({} bytes) into {}",
                    packed.entries,
                    packed.bytes,
                    archive.display()
                ),
            );
            Some(packed)
        }
        None => None,
    };
    // The notes explain how this kind of build works: said on the first build of an image
    // (and with -v), not on every rebuild.
    if shell.is_verbose() || !plan.outputs.record.exists() {
        for note in &plan.notes {
            shell.note(note);
        }
    }
    let cargo_profile = request.profile.cargo_profile(&target.platform);
    // One unik build of a cargo profile at a time in a target directory (cargo would
    // wait for its own lock anyway): renewing the host crates must not pull files from
    // under another build.
    let _lock = lock_profile(shell, &project.target_directory, &cargo_profile)?;
    let host_folder = project.target_directory.join(&cargo_profile);
    if identity::renew_host_artifacts(&project.target_directory, &cargo_profile)
        .map_err(io("cannot renew", &host_folder))?
    {
        shell.note(format!(
            "compiling the host crates of `{cargo_profile}` again: they were compiled without location-independent identities ({})",
            host_folder.display()
        ));
    }
    shell.status(
        "Building",
        format!("{} for {} ({} profile)", plan.package, plan.target, plan.profile),
    );
    let linked = run_cargo(shell, request, plan)?;

    let elf = std::fs::read(&linked).map_err(io("cannot read", &linked))?;
    let image_err = |source| BuildError::Image {
        path: linked.clone(),
        source,
    };
    let compacted = image::compact(&elf).map_err(image_err)?;
    let image = Image::parse(&compacted).map_err(image_err)?;
    verify::verify(&image, &Expectations::of(target)).map_err(|source| BuildError::Verify {
        path: linked.clone(),
        target: target.name.clone(),
        source,
    })?;

    // The file loaders read: the compact ELF itself, or the Image laid out from it.
    let file = match target.image_format {
        unik_linker::ImageFormat::PvhElf => compacted,
        unik_linker::ImageFormat::Arm64Image => {
            let bytes = unik_linker::arm64::write(&compacted).map_err(image_err)?;
            unik_linker::arm64::check(&elf, &bytes).map_err(|source| BuildError::Arm64 {
                path: linked.clone(),
                target: target.name.clone(),
                source,
            })?;
            bytes
        }
    };

    let mut functions: Vec<String> = unik_linker::syscalls::find(&elf)
        .map_err(image_err)?
        .into_iter()
        .map(|call| call.function)
        .collect();
    if !functions.is_empty() {
        functions.dedup();
        return Err(BuildError::SystemCalls {
            package: plan.package.clone(),
            target: plan.target.clone(),
            functions,
        });
    }
    let graph = unik_linker::graph::Graph::of(&elf).map_err(image_err)?;
    let catalog = unik_catalog::Catalog::shipped()?;
    let analysis = unik_catalog::analysis::analyse(&catalog, &target.name, &graph)?;
    let required = memory_required(&image, target).bytes();
    let memory = ByteSize::new(plan.memory.bytes);
    check_memory(required, target, memory, &plan.memory.origin)?;

    if let Some(files) = &packed {
        if files.bytes + required > memory.bytes() {
            return Err(BuildError::Setting {
                key: "package.metadata.unik.files".into(),
                manifest: project.manifest_path.clone(),
                message: format!(
                    "the packed files take {} bytes and the image {required}: together more than the guest's memory ({}); raise `memory` or pack less",
                    files.bytes,
                    memory.bytes()
                ),
            });
        }
        if !analysis.present.iter().any(|component| component == "files") {
            shell.warn(format!(
                "{} packs files (package.metadata.unik.files), but the program never opens a file: the image has no files component to read them",
                plan.package
            ));
        }
    }
    let devices = catalog.devices_of(&analysis.present);
    let vif_bridge = (devices.contains(&record::Device::Nic) && plan.outputs.xl.is_some()).then(|| {
        project
            .settings
            .xen_bridge
            .clone()
            .unwrap_or_else(|| unik_project::DEFAULT_XEN_BRIDGE.to_string())
    });
    write_atomically(&plan.outputs.image, &file)?;
    write_atomically(&plan.outputs.elf, &elf)?;
    let record = BuildRecord {
        schema: record::SCHEMA,
        package: plan.package.clone(),
        target: plan.target.clone(),
        profile: plan.profile.clone(),
        image: plan.outputs.image.clone(),
        elf: plan.outputs.elf.clone(),
        xl: plan.outputs.xl.clone(),
        sbom: Some(plan.outputs.sbom.clone()),
        bytes: file.len() as u64,
        loaded_bytes: image.loaded_bytes(),
        loaded: image.loaded_sizes(),
        entry: format!("{:#x}", image.entry),
        memory_required: required,
        memory: memory.bytes(),
        components: analysis.present,
        stripped: analysis.stripped,
        devices,
        vif_bridge,
        files: packed,
        volumes: project.settings.volumes.clone(),
        unik_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    if let (Some(xl_path), Some(guest_type)) = (&plan.outputs.xl, &target.xl_type) {
        let text = xl::render(&xl::XlConfig {
            name: &record.package,
            guest_type,
            kernel: &record.image,
            memory_mib: memory.bytes().div_ceil(1 << 20),
            cmdline: project.settings.cmdline.as_deref().unwrap_or_default(),
            target: &target.name,
            vif_bridge: record.vif_bridge.as_deref(),
            ramdisk: record.files.as_ref().map(|files| files.archive.as_path()),
            disks: &volume_disks(&record),
        });
        write_atomically(xl_path, text.as_bytes())?;
    }
    let built = sbom::Built {
        image: &file,
        elf: &elf,
        record: &record,
    };
    let facts = sbom::facts(shell, project, toolchain, plan, &catalog, &built)?;
    let bill = unik_sbom::cyclonedx(&facts, &unik_sbom::bill(&facts), false);
    let text = serde_json::to_string_pretty(&bill).unwrap_or_default() + "\n";
    write_atomically(&plan.outputs.sbom, text.as_bytes())?;
    write_atomically(&plan.outputs.record, record.to_json().as_bytes())?;
    Ok((record, facts))
}

/// The `.xl`'s disks for the image's volumes: a disk image beside the image for each,
/// named after the package and the volume (`kv-data.img` for `/data`), to be made with
/// `mke2fs` or pointed elsewhere.
fn volume_disks(record: &BuildRecord) -> Vec<xl::XlDisk> {
    let folder = record.image.parent().unwrap_or(Path::new("."));
    record
        .volumes
        .iter()
        .map(|volume| {
            let name = volume.trim_matches('/').replace('/', "-");
            xl::XlDisk {
                volume: volume.clone(),
                target: folder
                    .join(format!("{}-{name}.img", record.package))
                    .display()
                    .to_string(),
                read_only: false,
            }
        })
        .collect()
}

/// Packs the manifest's files into `archive`, rewriting it only when its bytes change (so
/// a build that changed nothing leaves it as it was).
fn write_packed_files(plan: &BuildPlan, project: &Project, archive: &Path) -> Result<record::PackedFiles, BuildError> {
    let packed = files::pack(&plan.packed, &project.manifest_path)?;
    if std::fs::read(archive).ok().as_deref() != Some(packed.bytes.as_slice()) {
        write_atomically(archive, &packed.bytes)?;
    }
    Ok(record::PackedFiles {
        archive: archive.to_path_buf(),
        bytes: packed.bytes.len() as u64,
        entries: packed.entries,
    })
}

/// The `image-built` JSON message `unik build --message-format json` prints for `record`.
pub fn image_built_message(record: &BuildRecord) -> serde_json::Value {
    let mut message = serde_json::json!({ "reason": "image-built" });
    if let (Some(object), Ok(serde_json::Value::Object(fields))) =
        (message.as_object_mut(), serde_json::to_value(record))
    {
        object.extend(fields);
        object.insert(
            "record".into(),
            serde_json::json!(BuildRecord::path_beside(&record.image)),
        );
    }
    message
}

/// The `build-plan` JSON message `unik build --dry-run --message-format json` prints.
pub fn build_plan_message(plan: &BuildPlan) -> serde_json::Value {
    let mut message = serde_json::json!({ "reason": "build-plan" });
    if let (Some(object), Ok(serde_json::Value::Object(fields))) = (message.as_object_mut(), serde_json::to_value(plan))
    {
        object.extend(fields);
    }
    message
}

/// Runs the plan's cargo command, passing its diagnostics on; the linked executable.
fn run_cargo(shell: &Shell, request: &BuildRequest<'_>, plan: &BuildPlan) -> Result<PathBuf, BuildError> {
    let project = request.project;
    let mut command = shell.owned_command(&plan.cargo.program);
    command.current_dir(&plan.cargo.cwd).args(&plan.cargo.args);
    for (variable, value) in &plan.cargo.env {
        match value {
            Some(value) => command.env(variable, value),
            None => command.env_remove(variable),
        };
    }
    command.stdout(Stdio::piped());
    shell.echo(&command);
    let mut child = command.spawn().map_err(BuildError::CargoNotRunnable)?;
    let supervised = unik_ui::supervise::supervise(&child);
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BuildError::CargoNotRunnable(std::io::Error::other("cargo's output is not readable")))?;

    let mut executable = None;
    let mut link_failure = None;
    let mut missing: Vec<(String, String)> = Vec::new();
    for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
        let Ok(message) = message else { continue };
        match message {
            cargo_metadata::Message::CompilerMessage(message) => {
                let rendered = message.message.rendered.as_deref().unwrap_or(&message.message.message);
                link_failure = link_failure.or_else(|| classify_link_failure(request, rendered));
                if link_failure.is_none() {
                    missing.extend(undefined_symbols(rendered));
                }
                let explained = link_failure.is_some() || rendered.contains("undefined symbol: ");
                if !explained || shell.is_verbose() {
                    shell.diagnostic(rendered);
                }
            }
            cargo_metadata::Message::CompilerArtifact(artifact)
                if artifact.target.name == project.bin && artifact.executable.is_some() =>
            {
                executable = artifact.executable.map(|p| p.into_std_path_buf());
            }
            cargo_metadata::Message::TextLine(line) => shell.diagnostic(&format!("{line}\n")),
            _ => {}
        }
    }
    let status = child.wait().map_err(BuildError::CargoNotRunnable)?;
    drop(supervised);
    if let Some(interruption) = unik_ui::supervise::interruption() {
        return Err(BuildError::Interrupted(interruption));
    }
    if let Some(failure) = link_failure {
        return Err(failure);
    }
    if !missing.is_empty() {
        missing.sort();
        missing.dedup_by(|a, b| a.0 == b.0);
        return Err(BuildError::MissingFunctions {
            package: project.package.clone(),
            target: request.target.name.clone(),
            missing,
        });
    }
    match executable {
        Some(path) if status.success() => Ok(path),
        _ => Err(BuildError::Compile {
            package: project.package.clone(),
            target: request.target.name.clone(),
        }),
    }
}

/// The symbols an `lld` message says are undefined, each with the first function that
/// references it (`>>> referenced by … :(function)`).
fn undefined_symbols(rendered: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = rendered.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(at) = line.find("undefined symbol: ") else {
            continue;
        };
        let name = line[at + "undefined symbol: ".len()..].trim().to_string();
        let mut caller = String::from("unknown");
        while let Some(next) = lines.peek() {
            if !next.trim_start().starts_with(">>>") {
                break;
            }
            let next = lines.next().unwrap_or_default();
            if let (Some(open), Some(close)) = (next.rfind(":("), next.rfind(')'))
                && caller == "unknown"
                && open + 2 < close
            {
                caller = next[open + 2..close].to_string();
            }
        }
        found.push((name, caller));
    }
    found
}

/// Recognises link errors that have a clearer explanation than the linker's.
fn classify_link_failure(request: &BuildRequest<'_>, rendered: &str) -> Option<BuildError> {
    let package = request.project.package.clone();
    if rendered.contains("undefined symbol: __unik_app_main") {
        Some(BuildError::MissingMain {
            package,
            bin: request.project.bin.clone(),
        })
    } else if rendered.contains("duplicate symbol: __unik_app_main") && request.project.uses_std {
        Some(BuildError::StdWithUnikMain { package })
    } else if rendered.contains("duplicate symbol: __unik_app_main") {
        Some(BuildError::DuplicateMain { package })
    } else if let Some(at) = rendered.find("unik: the image") {
        let message = rendered[at + "unik: ".len()..]
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        Some(BuildError::TooLarge {
            target: request.target.name.clone(),
            message,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_symbols_are_named_with_their_callers() {
        let rendered = "error: linking with `rust-lld` failed: exit status: 1\n  = note: rust-lld: error: undefined symbol: posix_spawnp\n          >>> referenced by app.cgu.0\n          >>>               /t/app.o:(app::main)\n          rust-lld: error: undefined symbol: socketpair\n          >>> referenced by std.o:(std::sys::net::pair)\n";
        assert_eq!(
            undefined_symbols(rendered),
            [
                ("posix_spawnp".to_string(), "app::main".to_string()),
                ("socketpair".to_string(), "std::sys::net::pair".to_string())
            ]
        );
    }
}
