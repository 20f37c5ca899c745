//! Builds an application into an image for one target.
//!
//! One `cargo rustc` per target compiles the application and the library OS together
//! (so LTO and `--gc-sections` see the whole program) with the target's flags, the
//! `unik_platform` cfgs and the rendered linker script. The linked ELF is then compacted,
//! verified and written to `<target-dir>/unik/<target>/<package>`, with the linked ELF
//! (`.elf`, symbols kept, for analysis) and a JSON build record (`.json`) beside it.

use serde::Serialize;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use thiserror::Error;
use unik_linker::{Expectations, Image, ImageError, VerifyError, image, link, script, verify};
use unik_project::Project;
use unik_targets::{ByteSize, Target};
use unik_ui::Shell;

pub mod profile;
mod toolchain;
pub mod xl;

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

/// A finished, verified image.
#[derive(Clone, Debug, Serialize)]
pub struct BuildRecord {
    /// Version of this record's layout.
    pub schema: u32,
    /// Package name.
    pub package: String,
    /// Target name.
    pub target: String,
    /// Profile name.
    pub profile: String,
    /// The image file.
    pub image: PathBuf,
    /// The linked ELF with symbols, for analysis.
    pub elf: PathBuf,
    /// Size of the image file.
    pub bytes: u64,
    /// Memory the loaded segments occupy.
    pub loaded_bytes: u64,
    /// Loaded bytes by kind.
    pub loaded: Loaded,
    /// Entry point address.
    pub entry: String,
    /// Least guest memory that holds the image.
    pub memory_required: u64,
    /// Guest memory from the manifest or the target's default.
    pub memory: u64,
    /// Optional components the image holds (catalog names).
    pub components: Vec<String>,
    /// Optional components the target provides that the image does not hold.
    pub stripped: Vec<String>,
    /// Version of unik that built it.
    pub unik_version: String,
}

/// Loaded bytes by kind (see [`unik_linker::LoadedSizes`]).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Loaded {
    /// Executable bytes.
    pub text: u64,
    /// Read-only data.
    pub rodata: u64,
    /// Initialised writable data.
    pub data: u64,
    /// Zero-filled memory: bss, stack, page tables.
    pub bss: u64,
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
    #[error(
        "{memory} of memory ({origin}) cannot hold the image for {target}: it needs at least {required} (the image is loaded at {load:#x} and ends at {end:#x}). Raise `memory` under [package.metadata.unik] or pass --memory"
    )]
    MemoryTooSmall {
        /// Configured memory.
        memory: ByteSize,
        /// Where the value came from.
        origin: String,
        /// Least memory.
        required: ByteSize,
        /// Target.
        target: String,
        /// Load address.
        load: u64,
        /// End of the image.
        end: u64,
    },
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

/// Where images for `target` go: `<target-dir>/unik/<target>/` for the release profile
/// (what is deployed), `<target-dir>/unik/<target>/<profile>/` for the others, so that a dev
/// build never replaces a release image.
pub fn output_dir(project: &Project, target: &Target, profile: &Profile) -> PathBuf {
    let dir = project.target_directory.join("unik").join(&target.name);
    if profile.name == "release" {
        dir
    } else {
        dir.join(&profile.name)
    }
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

/// Checks that `memory` holds `image`; `origin` says where the value came from.
pub fn check_memory(image: &Image, target: &Target, memory: ByteSize, origin: &str) -> Result<(), BuildError> {
    let required = memory_required(image, target);
    if memory < required {
        return Err(BuildError::MemoryTooSmall {
            memory,
            origin: origin.to_string(),
            required,
            target: target.name.clone(),
            load: target.layout.load_address,
            end: image.loaded_end(),
        });
    }
    Ok(())
}

/// Builds, compacts, verifies and records the image.
pub fn build(shell: &Shell, request: &BuildRequest<'_>) -> Result<BuildRecord, BuildError> {
    let BuildRequest {
        project,
        target,
        profile,
    } = request;
    let app_dir = project.manifest_path.parent().unwrap_or(Path::new("."));
    let std_sources = if project.uses_std {
        // Tier 3: rustup has no prebuilt std for the Hermit targets; it is built here.
        let sources = toolchain::ensure_rust_src(shell, app_dir)?;
        shell.note(format!(
            "`{}` is a std application: Rust's std is built from source for {} ({}), enabled on this toolchain by RUSTC_BOOTSTRAP=1",
            project.bin,
            target.std_rust_target,
            profile.std_unstable_args().join(" ")
        ));
        Some(sources)
    } else {
        toolchain::ensure_target(shell, app_dir, &target.rust_target)?;
        None
    };
    if profile.build_std && !project.uses_std {
        toolchain::ensure_rust_src(shell, app_dir)?;
        shell.note(format!(
            "profile `{}` rebuilds core and alloc for size with nightly-only cargo flags ({}), enabled on this toolchain by RUSTC_BOOTSTRAP=1",
            profile.name,
            profile.unstable_args().join(" ")
        ));
    }

    let out_dir = output_dir(project, target, profile);
    std::fs::create_dir_all(&out_dir).map_err(io("cannot create", &out_dir))?;
    let script_path = write_linker_script(project, target, &out_dir)?;

    shell.status(
        "Building",
        format!("{} for {} ({} profile)", project.package, target.name, profile.name),
    );
    let linked = run_cargo(shell, request, app_dir, &script_path, std_sources.as_deref())?;

    let elf = std::fs::read(&linked).map_err(io("cannot read", &linked))?;
    let image_err = |source| BuildError::Image {
        path: linked.clone(),
        source,
    };
    let compacted = image::compact(&elf).map_err(image_err)?;
    let image = Image::parse(&compacted).map_err(image_err)?;
    let format = match target.image_format {
        unik_targets::ImageFormat::PvhElf => unik_linker::ImageFormat::PvhElf,
        unik_targets::ImageFormat::Arm64Image => unik_linker::ImageFormat::Arm64Image,
    };
    let expectations = Expectations {
        format,
        machine: target.arch.elf_machine(),
        load_address: target.layout.load_address,
    };
    verify::verify(&image, &expectations).map_err(|source| BuildError::Verify {
        path: linked.clone(),
        target: target.name.clone(),
        source,
    })?;

    // The file loaders read: the compact ELF itself, or the Image laid out from it.
    let file = match format {
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

    let graph = unik_linker::graph::Graph::of(&elf).map_err(image_err)?;
    let catalog = unik_catalog::Catalog::shipped()?;
    let analysis = unik_catalog::analysis::analyse(&catalog, &target.name, &graph)?;

    let (memory, origin) = match project.settings.memory {
        Some(memory) => (
            memory,
            format!("package.metadata.unik.memory in `{}`", project.manifest_path.display()),
        ),
        None => (target.machine.default_memory, format!("the default of {}", target.name)),
    };
    check_memory(&image, target, memory, &origin)?;

    let image_path = out_dir.join(&project.package);
    let elf_path = out_dir.join(format!("{}.elf", project.package));
    write_atomically(&image_path, &file)?;
    write_atomically(&elf_path, &elf)?;
    let sizes = image.loaded_sizes();
    let record = BuildRecord {
        schema: 1,
        package: project.package.clone(),
        target: target.name.clone(),
        profile: profile.name.clone(),
        image: image_path,
        elf: elf_path,
        bytes: file.len() as u64,
        loaded_bytes: image.loaded_bytes(),
        loaded: Loaded {
            text: sizes.text,
            rodata: sizes.rodata,
            data: sizes.data,
            bss: sizes.bss,
        },
        entry: format!("{:#x}", image.entry),
        memory_required: memory_required(&image, target).bytes(),
        memory: memory.bytes(),
        components: analysis.present,
        stripped: analysis.stripped,
        unik_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    if let Some(guest_type) = &target.xl_type {
        let xl_path = out_dir.join(format!("{}.xl", project.package));
        let text = xl::render(&xl::XlConfig {
            name: &project.package,
            guest_type,
            kernel: &record.image,
            memory_mib: memory.bytes().div_ceil(1 << 20),
            cmdline: project.settings.cmdline.as_deref().unwrap_or_default(),
            target: &target.name,
            vif_bridge: xl_vif_bridge(project, &record.components),
        });
        write_atomically(&xl_path, text.as_bytes())?;
    }
    let record_path = out_dir.join(format!("{}.json", project.package));
    let json = serde_json::to_string_pretty(&record).expect("a build record always serialises");
    write_atomically(&record_path, (json + "\n").as_bytes())?;
    Ok(record)
}

/// The bridge of the `vif` an image's `.xl` declares: the manifest's, or the default, for
/// an image with the net component; `None` for one without.
pub fn xl_vif_bridge<'a>(project: &'a Project, components: &[String]) -> Option<&'a str> {
    components.iter().any(|component| component == "net").then(|| {
        project
            .settings
            .xen_bridge
            .as_deref()
            .unwrap_or(unik_project::DEFAULT_XEN_BRIDGE)
    })
}

/// Renders the target's linker script into `out_dir`. The file name carries a hash of
/// the contents: cargo does not notice a changed script, but it does notice changed flags.
fn write_linker_script(project: &Project, target: &Target, out_dir: &Path) -> Result<PathBuf, BuildError> {
    let template_error = |message: String| BuildError::Template {
        target: target.name.clone(),
        message,
    };
    let template = target.linker_template().map_err(|e| template_error(e.to_string()))?;
    let stack = project
        .settings
        .stack_size
        .map_or(target.layout.stack_size, ByteSize::bytes);
    // Only std applications have thread-local storage to describe.
    let tls_info = if project.uses_std {
        unik_targets::linker_fragment("tls-info.ld")
            .ok_or_else(|| template_error("templates/linker/tls-info.ld is missing".into()))?
    } else {
        ""
    };
    let values = [
        ("load_address", format!("{:#x}", target.layout.load_address)),
        ("max_image_end", format!("{:#x}", target.layout.max_image_end)),
        ("stack_size", format!("{:#x}", stack.div_ceil(4096) * 4096)),
        ("tls_info", tls_info.to_string()),
    ];
    let text = script::render(template, &values).map_err(|e| template_error(e.to_string()))?;
    let path = out_dir.join(format!("{}-{:016x}.ld", project.package, fnv1a(text.as_bytes())));
    if !path.exists() {
        write_atomically(&path, text.as_bytes())?;
    }
    Ok(path)
}

/// FNV-1a, to name rendered scripts by content (not security relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The Rust target an application compiles for on `target`.
pub fn rust_target<'a>(project: &Project, target: &'a Target) -> &'a str {
    if project.uses_std {
        &target.std_rust_target
    } else {
        &target.rust_target
    }
}

/// The `CARGO_ENCODED_RUSTFLAGS` of an image build (`std_sources`: where std's sources
/// are, for a std application).
fn rustflags(target: &Target, profile: &Profile, std_sources: Option<&Path>) -> String {
    let mut flags = target.rustflags.clone();
    if let Some(sources) = std_sources {
        flags.extend(target.std_rustflags.iter().cloned());
        // std's panic locations name `library/std/src/…`, not this machine's sysroot
        // (shorter strings in the image, and nothing about the build machine).
        flags.push(format!("--remap-path-prefix={}/=", sources.display()));
    }
    flags.extend([
        "--cfg".into(),
        "unik_platform".into(),
        "--cfg".into(),
        format!("unik_platform=\"{}\"", target.platform),
    ]);
    for cfg in &profile.cfg {
        flags.extend(["--cfg".into(), cfg.clone()]);
    }
    flags.extend(profile.rustflags.iter().cloned());
    flags.join("\x1f")
}
/// `std_sources`: where std's sources are, for a std application.
fn run_cargo(
    shell: &Shell,
    request: &BuildRequest<'_>,
    app_dir: &Path,
    script: &Path,
    std_sources: Option<&Path>,
) -> Result<PathBuf, BuildError> {
    let BuildRequest {
        project,
        target,
        profile,
    } = request;
    let mut command = shell.command("cargo");
    command
        .current_dir(app_dir)
        .arg("rustc")
        .arg("--manifest-path")
        .arg(&project.manifest_path)
        .args([
            "--bin",
            &project.bin,
            "--target",
            rust_target(project, target),
            "--profile",
            &profile.cargo_profile(&target.platform),
        ])
        .arg("--message-format")
        .arg(if shell.is_color() {
            "json-diagnostic-rendered-ansi"
        } else {
            "json"
        })
        .args(profile.cargo_config_args(&target.platform))
        .args(if project.uses_std {
            profile.std_unstable_args()
        } else {
            profile.unstable_args()
        })
        .args(["--color", if shell.is_color() { "always" } else { "never" }]);
    // On a terminal cargo draws its progress bar; elsewhere only unik's plain status lines.
    if !shell.is_verbose() && !shell.is_terminal() {
        command.arg("--quiet");
    }
    if profile.build_std || project.uses_std {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    // argv[0] of a std application.
    command.env("UNIK_PROGRAM_NAME", &project.bin);
    // The manifest's static address reaches the net component at compile time
    // (`option_env!`); without one, nothing from the caller's environment may stand in.
    for (variable, value) in [
        (
            "UNIK_NET_IP",
            project.settings.net.as_ref().map(|net| net.address.clone()),
        ),
        (
            "UNIK_NET_GATEWAY",
            project
                .settings
                .net
                .as_ref()
                .and_then(|net| net.gateway)
                .map(|gateway| gateway.to_string()),
        ),
    ] {
        match value {
            Some(value) => command.env(variable, value),
            None => command.env_remove(variable),
        };
    }
    command.arg("--").args(link::rustc_args(script));
    if project.uses_std {
        // A std program need not name `unik` in its code: link the library OS all the same
        // (a dependency the code never names is otherwise left out).
        command.args(["-Zunstable-options", "--extern", "force:unik"]);
    }
    command
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(target, profile, std_sources))
        .stdout(Stdio::piped());
    shell.echo(&command);
    let mut child = command.spawn().map_err(BuildError::CargoNotRunnable)?;
    let stdout = child.stdout.take().expect("stdout is piped");

    let mut executable = None;
    let mut link_failure = None;
    for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
        let Ok(message) = message else { continue };
        match message {
            cargo_metadata::Message::CompilerMessage(message) => {
                let rendered = message.message.rendered.as_deref().unwrap_or(&message.message.message);
                link_failure = link_failure.or_else(|| classify_link_failure(request, rendered));
                if link_failure.is_none() || shell.is_verbose() {
                    eprint!("{rendered}");
                }
            }
            cargo_metadata::Message::CompilerArtifact(artifact)
                if artifact.target.name == project.bin && artifact.executable.is_some() =>
            {
                executable = artifact.executable.map(|p| p.into_std_path_buf());
            }
            cargo_metadata::Message::TextLine(line) => println!("{line}"),
            _ => {}
        }
    }
    let status = child.wait().map_err(BuildError::CargoNotRunnable)?;
    if let Some(failure) = link_failure {
        return Err(failure);
    }
    match executable {
        Some(path) if status.success() => Ok(path),
        _ => Err(BuildError::Compile {
            package: project.package.clone(),
            target: target.name.clone(),
        }),
    }
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
