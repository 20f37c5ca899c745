//! What a build will do, as plain data: the cargo command with its environment and
//! rustflags, the rendered linker script, every file it writes. [`plan`] decides it
//! without touching the machine; [`crate::execute`] carries it out; `unik build --dry-run`
//! prints it.

use crate::{BuildError, BuildRequest};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_linker::{link, script};
use unik_project::Project;
use unik_targets::{ByteSize, Target};

/// The machine facts a plan depends on (found by [`Toolchain::probe`]).
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// `rustc --print sysroot` of the toolchain that builds in the application's folder.
    pub sysroot: PathBuf,
    /// Cargo's home (`$CARGO_HOME`, else `~/.cargo`): its registry holds the sources of
    /// the application's dependencies.
    pub cargo_home: Option<PathBuf>,
    /// The `unik` executable, which cargo runs as rustc's wrapper
    /// ([`crate::identity`]).
    pub rustc_wrapper: PathBuf,
}

/// How cargo's output is shown (from the shell: a terminal gets colour and progress).
#[derive(Clone, Copy, Debug, Default)]
pub struct Presentation {
    /// Colour diagnostics.
    pub color: bool,
    /// Let cargo show its progress; else (`unik -q`) `--quiet`.
    pub progress: bool,
}

/// Everything a build will do.
#[derive(Clone, Debug, Serialize)]
pub struct BuildPlan {
    /// Package.
    pub package: String,
    /// Target name.
    pub target: String,
    /// Profile name.
    pub profile: String,
    /// `no_std` or `std`.
    pub application: &'static str,
    /// The Rust target the application compiles for.
    pub rust_target: String,
    /// What the toolchain must have before cargo runs (installed with rustup if missing).
    pub toolchain: ToolchainNeeds,
    /// Notes the build prints once (nightly-only flags in use, and why).
    pub notes: Vec<String>,
    /// The cargo command.
    pub cargo: CargoCommand,
    /// The rustflags of every crate of the image (`CARGO_ENCODED_RUSTFLAGS`).
    pub rustflags: Vec<String>,
    /// The rendered linker script (written only if no file of that name exists: the name
    /// carries a hash of the contents).
    pub linker_script: PlannedFile,
    /// Further files written before cargo runs (a std program's empty `libc.a` and
    /// `libunwind.a`: std's crates ask the linker for them, and the library OS defines
    /// every function instead).
    pub support_files: Vec<PlannedFile>,
    /// Host files and folders packed into the image's ramdisk (`outputs.files`), in the
    /// manifest's order.
    pub packed: Vec<PackedSource>,
    /// What the build writes after the link.
    pub outputs: Outputs,
    /// Guest memory the image is checked against, and where the value comes from.
    pub memory: MemoryChoice,
}

/// A host file or folder the manifest packs (`package.metadata.unik.files`).
#[derive(Clone, Debug, Serialize)]
pub struct PackedSource {
    /// Where it appears in the guest.
    pub guest: String,
    /// The host path as the manifest writes it (relative to the manifest's folder).
    pub written: PathBuf,
    /// The host path.
    pub host: PathBuf,
}

/// Toolchain parts the build needs.
#[derive(Clone, Debug, Serialize)]
pub struct ToolchainNeeds {
    /// A Rust target whose prebuilt standard library must be installed.
    pub target: Option<String>,
    /// The standard library's sources (`-Zbuild-std`).
    pub rust_src: bool,
}

/// A command with its folder and environment changes.
#[derive(Clone, Debug, Serialize)]
pub struct CargoCommand {
    /// Where it runs.
    pub cwd: PathBuf,
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set (`Some`) or removed (`None`) on top of the clean environment.
    pub env: BTreeMap<String, Option<String>>,
}

/// A file the build writes, with its contents.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedFile {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub contents: String,
}

/// The files written after the link.
#[derive(Clone, Debug, Serialize)]
pub struct Outputs {
    /// Their folder.
    pub dir: PathBuf,
    /// The image.
    pub image: PathBuf,
    /// The linked ELF with symbols.
    pub elf: PathBuf,
    /// The build record (JSON).
    pub record: PathBuf,
    /// The `xl` configuration (Xen targets).
    pub xl: Option<PathBuf>,
    /// The software bill of materials (CycloneDX JSON).
    pub sbom: PathBuf,
    /// The packed files: a newc cpio archive the image boots with as its ramdisk (when
    /// the manifest packs any).
    pub files: Option<PathBuf>,
}

/// The memory an image must fit in.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryChoice {
    /// Bytes.
    pub bytes: u64,
    /// Where the value came from, for messages.
    pub origin: String,
}

/// The variable that carries rustflags to every crate cargo compiles.
pub const RUSTFLAGS_VARIABLE: &str = "CARGO_ENCODED_RUSTFLAGS";

/// Where images for `target` go: `<target-dir>/unik/<target>/` for the release profile
/// (what is deployed), `<target-dir>/unik/<target>/<profile>/` for the others, so that a dev
/// build never replaces a release image.
pub fn output_dir(project: &Project, target: &Target, profile: &crate::Profile) -> PathBuf {
    let dir = project.target_directory.join("unik").join(&target.name);
    if profile.name == "release" {
        dir
    } else {
        dir.join(&profile.name)
    }
}

/// Decides everything `request` will do; reads nothing but its arguments.
pub fn plan(
    request: &BuildRequest<'_>,
    toolchain: &Toolchain,
    presentation: Presentation,
) -> Result<BuildPlan, BuildError> {
    let BuildRequest {
        project,
        target,
        profile,
    } = request;
    let uses_std = project.uses_std;
    let rust_target = target.rust_target_for(uses_std).to_string();
    let mut notes = Vec::new();
    if uses_std {
        notes.push(format!(
            "`{}` is a std application: Rust's std is built from source for {rust_target} ({}) and LLVM's merging of identical functions is off (-Zmerge-functions=disabled: each function keeps its own name, so components are told apart), enabled on this toolchain by RUSTC_BOOTSTRAP=1",
            project.bin,
            profile.std_unstable_args().join(" ")
        ));
    } else if profile.build_std {
        notes.push(format!(
            "profile `{}` rebuilds core and alloc for size with nightly-only cargo flags ({}), enabled on this toolchain by RUSTC_BOOTSTRAP=1",
            profile.name,
            profile.unstable_args().join(" ")
        ));
    }
    let dir = output_dir(project, target, profile);
    check_settings(project, target)?;
    let linker_script = linker_script(project, target, &dir)?;
    let std_build = uses_std.then(|| StdBuild {
        sources: toolchain.sysroot.join("lib/rustlib/src/rust"),
        stub_libraries: dir.join("c-stubs"),
    });
    let support_files = std_build
        .iter()
        .flat_map(|std| {
            STUB_LIBRARIES.iter().map(|name| PlannedFile {
                path: std.stub_libraries.join(name),
                contents: EMPTY_ARCHIVE.into(),
            })
        })
        .collect();
    let mut rustflags = rustflags(target, profile, std_build.as_ref());
    // Cargo hashes rustflags into its fingerprints: artifacts compiled before the
    // wrapper (or under another identity scheme) are rebuilt, never mixed in.
    rustflags.push(crate::identity::SCHEME_FLAG.into());
    let mut cargo = cargo_command(request, &rust_target, &linker_script.path, &rustflags, presentation);
    reproducible(&mut cargo, project, toolchain, &rust_target);
    let (bytes, origin) = match project.settings.memory {
        Some(memory) => (
            memory.bytes(),
            format!("package.metadata.unik.memory in `{}`", project.manifest_path.display()),
        ),
        None => (
            target.machine.default_memory.bytes(),
            format!("the default of {}", target.name),
        ),
    };
    let file = |suffix: &str| dir.join(format!("{}{suffix}", project.package));
    let manifest_dir = project.manifest_path.parent().unwrap_or(Path::new("."));
    let packed = project
        .settings
        .files
        .iter()
        .map(|(guest, written)| PackedSource {
            guest: guest.clone(),
            written: written.clone(),
            host: manifest_dir.join(written),
        })
        .collect::<Vec<_>>();
    Ok(BuildPlan {
        package: project.package.clone(),
        target: target.name.clone(),
        profile: profile.name.clone(),
        application: if uses_std { "std" } else { "no_std" },
        toolchain: ToolchainNeeds {
            target: (!uses_std).then(|| rust_target.clone()),
            rust_src: uses_std || profile.build_std,
        },
        rust_target,
        notes,
        cargo,
        rustflags,
        linker_script,
        support_files,
        outputs: Outputs {
            image: file(""),
            elf: file(".elf"),
            record: file(".json"),
            xl: target.xl_type.is_some().then(|| file(".xl")),
            sbom: file(".cdx.json"),
            files: (!packed.is_empty()).then(|| file(".files.cpio")),
            dir,
        },
        packed,
        memory: MemoryChoice { bytes, origin },
    })
}

/// The smallest main stack a manifest may ask for: below it, even a program that only
/// prints overflows before `main`.
pub const MIN_STACK: u64 = 16 << 10;

/// Refuses manifest settings `target` cannot honour, before anything is built.
fn check_settings(project: &Project, target: &Target) -> Result<(), BuildError> {
    let setting = |key: &str, message: String| BuildError::Setting {
        key: format!("package.metadata.unik.{key}"),
        manifest: project.manifest_path.clone(),
        message,
    };
    if let Some(memory) = project.settings.memory {
        target
            .check_memory(memory)
            .map_err(|message| setting("memory", message))?;
    }
    if !project.settings.volumes.is_empty() && !target.attaches_volumes() {
        return Err(setting(
            "volumes",
            format!(
                "target {} cannot attach disks for volumes: build for a target that can (`unik targets`), or remove `volumes`",
                target.name
            ),
        ));
    }
    if let Some(line) = &project.settings.cmdline {
        target
            .check_command_line(line)
            .map_err(|message| setting("cmdline", message))?;
    }
    if let Some(stack) = project.settings.stack_size {
        let room = target.layout.max_image_end - target.layout.load_address;
        if stack.bytes() < MIN_STACK {
            return Err(setting(
                "stack-size",
                format!(
                    "a stack of {stack} bytes is too small: give at least {}",
                    ByteSize::new(MIN_STACK)
                ),
            ));
        }
        if stack.bytes() >= room {
            return Err(setting(
                "stack-size",
                format!(
                    "a stack of {stack} does not fit in the {} a {} image may span: give less",
                    ByteSize::new(room),
                    target.name
                ),
            ));
        }
    }
    Ok(())
}

/// The target's linker script, rendered, named `<package>-<hash of the text>.ld`: cargo
/// does not notice a changed script, but it does notice changed flags.
fn linker_script(project: &Project, target: &Target, dir: &Path) -> Result<PlannedFile, BuildError> {
    let template_error = |message: String| BuildError::Template {
        target: target.name.clone(),
        message,
    };
    let template = target.linker_template().map_err(|e| template_error(e.to_string()))?;
    let default_stack = if project.uses_std {
        STD_MAIN_STACK.max(target.layout.stack_size)
    } else {
        target.layout.stack_size
    };
    let stack = project.settings.stack_size.map_or(default_stack, ByteSize::bytes);
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
    let contents = script::render(template, &values).map_err(|e| template_error(e.to_string()))?;
    let path = dir.join(format!("{}-{:016x}.ld", project.package, fnv1a(contents.as_bytes())));
    Ok(PlannedFile { path, contents })
}

/// FNV-1a, to name rendered scripts by content (not security relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Makes the build's bytes independent of where the sources, cargo's home and the target
/// directory are: rustc runs through the identity wrapper ([`crate::identity`]), and C
/// code compiled by build scripts names its files relative to the same folders.
fn reproducible(cargo: &mut CargoCommand, project: &Project, toolchain: &Toolchain, rust_target: &str) {
    let app = project.manifest_path.parent().unwrap_or(Path::new("/"));
    let settings = crate::identity::Settings::for_build(&project.target_directory, &toolchain.sysroot, app);
    cargo.env.insert(
        "RUSTC_WRAPPER".into(),
        Some(toolchain.rustc_wrapper.display().to_string()),
    );
    cargo
        .env
        .insert(crate::identity::VARIABLE.into(), Some(settings.encode()));
    let cflags = format!("CFLAGS_{}", rust_target.replace('-', "_"));
    if let Some(Some(flags)) = cargo.env.get_mut(&cflags) {
        let folders = [
            (toolchain.cargo_home.as_deref(), "/cargo"),
            (Some(project.target_directory.as_path()), "/target"),
            (Some(app), "/app"),
        ];
        for (folder, to) in folders {
            if let Some(folder) = folder {
                flags.push_str(&format!(" -ffile-prefix-map={}={to}", folder.display()));
            }
        }
    }
}

/// What a std program's build needs beyond a `no_std` one's.
#[derive(Clone, Debug)]
pub struct StdBuild {
    /// Where std's sources are (`<sysroot>/lib/rustlib/src/rust`).
    pub sources: PathBuf,
    /// The folder of the empty C libraries the link is pointed at.
    pub stub_libraries: PathBuf,
}

/// The main stack of a std application unless its manifest says otherwise: room for the
/// recursion ordinary crates do on the main thread (serde's nesting, a runtime's
/// `block_on`), where no_std programs keep the target's 64 KiB. Zero-filled memory, not
/// file bytes.
pub const STD_MAIN_STACK: u64 = 256 * 1024;

/// The libraries std's crates name for the musl targets (`-lc`, `-lunwind`): the library
/// OS defines the C functions, and with `panic = "abort"` nothing unwinds.
const STUB_LIBRARIES: &[&str] = &["libc.a", "libunwind.a"];
/// An `ar` archive with no members.
const EMPTY_ARCHIVE: &str = "!<arch>\n";

/// How every std image builds: linked with the toolchain's `rust-lld` and the library OS's
/// linker script, no C runtime objects and no C library from the host (a function no crate
/// defines is an `undefined symbol` error of the link); rustix through the C library, not
/// with system-call instructions of its own (which no kernel would answer).
const STD_RUSTFLAGS: &[&str] = &[
    "-Clinker=rust-lld",
    "-Clinker-flavor=ld.lld",
    "-Clink-self-contained=no",
    "-Crelro-level=off",
    "--cfg",
    "rustix_use_libc",
    // Merged identical functions keep one of their names, often another crate's: an
    // image would seem to hold components it does not reach (README, "std programs").
    "-Zmerge-functions=disabled",
];

/// The rustflags of an image build (`std`: what a std program's build adds).
pub fn rustflags(target: &Target, profile: &crate::Profile, std: Option<&StdBuild>) -> Vec<String> {
    let mut flags = target.rustflags.clone();
    if let Some(std) = std {
        flags.extend(target.std_rustflags.iter().cloned());
        flags.extend(STD_RUSTFLAGS.iter().map(|flag| flag.to_string()));
        flags.push(format!("-Lnative={}", std.stub_libraries.display()));
        // std's panic locations name `library/std/src/…`, not this machine's sysroot
        // (shorter strings in the image, and nothing about the build machine).
        flags.push(format!("--remap-path-prefix={}/=", std.sources.display()));
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
    flags
}

fn cargo_command(
    request: &BuildRequest<'_>,
    rust_target: &str,
    script: &Path,
    rustflags: &[String],
    presentation: Presentation,
) -> CargoCommand {
    let BuildRequest {
        project,
        target,
        profile,
    } = request;
    let mut args: Vec<String> = vec![
        "rustc".into(),
        "--manifest-path".into(),
        project.manifest_path.display().to_string(),
        "--bin".into(),
        project.bin.clone(),
        "--target".into(),
        rust_target.into(),
        "--profile".into(),
        profile.cargo_profile(&target.platform),
        "--message-format".into(),
        if presentation.color {
            "json-diagnostic-rendered-ansi".into()
        } else {
            "json".into()
        },
    ];
    args.extend(profile.cargo_config_args(&target.platform));
    args.extend(if project.uses_std {
        profile.std_unstable_args()
    } else {
        profile.unstable_args()
    });
    args.extend([
        "--color".into(),
        if presentation.color { "always" } else { "never" }.into(),
    ]);
    // cargo shows its progress (a bar on a terminal, a line per crate elsewhere) unless
    // unik is quiet.
    if !presentation.progress {
        args.push("--quiet".into());
    }
    args.push("--".into());
    args.extend(link::rustc_args(script));
    if project.uses_std {
        // A std program need not name `unik` in its code: link the library OS all the same
        // (a dependency the code never names is otherwise left out).
        args.extend(["-Zunstable-options".into(), "--extern".into(), "force:unik".into()]);
    }
    let mut env = BTreeMap::new();
    if profile.build_std || project.uses_std {
        env.insert("RUSTC_BOOTSTRAP".into(), Some("1".into()));
    }
    // argv[0] of a std application.
    env.insert("UNIK_PROGRAM_NAME".into(), Some(project.bin.clone()));
    // The manifest's static address reaches the net component at compile time
    // (`option_env!`); without one, nothing from the caller's environment may stand in.
    let net = project.settings.net.as_ref();
    env.insert("UNIK_NET_IP".into(), net.map(|net| net.address.clone()));
    env.insert(
        "UNIK_NET_GATEWAY".into(),
        net.and_then(|net| net.gateway).map(|gateway| gateway.to_string()),
    );
    env.insert(
        "UNIK_NET_DNS".into(),
        net.and_then(|net| net.dns).map(|dns| dns.to_string()),
    );
    // The RAM file systems reach the files component the same way (`PATH=BYTES;…`).
    let tmpfs = match &project.settings.tmpfs {
        Some(mounts) => mounts
            .iter()
            .map(|(path, limit)| format!("{path}={}", limit.bytes()))
            .collect(),
        None => vec![format!(
            "{}={}",
            unik_project::DEFAULT_TMPFS.0,
            unik_project::DEFAULT_TMPFS.1
        )],
    };
    env.insert("UNIK_FS_RAM".into(), Some(tmpfs.join(";")));
    // Volumes likewise; without any, no disk driver or ext2 code is compiled in.
    let volumes = &project.settings.volumes;
    env.insert(
        "UNIK_FS_VOLUMES".into(),
        (!volumes.is_empty()).then(|| volumes.join(";")),
    );
    env.insert(RUSTFLAGS_VARIABLE.into(), Some(rustflags.join("\x1f")));
    if project.uses_std {
        // C code in the program's crates (`cc` build scripts) compiles for the std target.
        let suffix = rust_target.replace('-', "_");
        let compiler = &target.c_compiler;
        env.insert(format!("CC_{suffix}"), Some(compiler.cc.clone()));
        env.insert(format!("AR_{suffix}"), Some(compiler.ar.clone()));
        env.insert(format!("CFLAGS_{suffix}"), Some(compiler.cflags.join(" ")));
    }
    CargoCommand {
        cwd: project.manifest_path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        program: "cargo".into(),
        args,
        env,
    }
}

impl BuildPlan {
    /// The plan for people: what `unik build --dry-run` prints.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "build {} ({}) for {} with the {} profile\n  rust target  {}\n",
            self.package, self.application, self.target, self.profile, self.rust_target
        );
        if let Some(target) = &self.toolchain.target {
            out += &format!("  needs        the Rust target {target} (installed with rustup if missing)\n");
        }
        if self.toolchain.rust_src {
            out += "  needs        the rust-src component (installed with rustup if missing)\n";
        }
        for note in &self.notes {
            out += &format!("  note         {note}\n");
        }
        out += &format!(
            "  writes       {} (linker script, {} lines)\n",
            self.linker_script.path.display(),
            self.linker_script.contents.lines().count()
        );
        out += &format!("  in           {}\n  runs         ", self.cargo.cwd.display());
        for (key, value) in &self.cargo.env {
            match value {
                Some(value) if key == RUSTFLAGS_VARIABLE || key == crate::identity::VARIABLE => {
                    out += &format!("{key}={} ", unik_ui::shell_word(&value.replace('\x1f', " ")))
                }
                Some(value) => out += &format!("{key}={} ", unik_ui::shell_word(value)),
                None => {}
            }
        }
        out += &std::iter::once(&self.cargo.program)
            .chain(&self.cargo.args)
            .map(|word| unik_ui::shell_word(word))
            .collect::<Vec<_>>()
            .join(" ");
        out += "\n";
        let removed: Vec<&str> = self
            .cargo
            .env
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.as_str())
            .collect();
        if !removed.is_empty() {
            out += &format!("  unsets       {}\n", removed.join(", "));
        }
        out += &format!(
            "  then writes  {}, {}, {}",
            self.outputs.image.display(),
            self.outputs.elf.display(),
            self.outputs.record.display()
        );
        if let Some(xl) = &self.outputs.xl {
            out += &format!(", {}", xl.display());
        }
        out += &format!(", {}", self.outputs.sbom.display());
        out += &format!(
            "\n  memory       {} ({})\n",
            ByteSize::new(self.memory.bytes),
            self.memory.origin
        );
        out
    }
}
