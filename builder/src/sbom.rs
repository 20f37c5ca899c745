//! Gathers what an image's bill of materials is made from (`unik-sbom` makes the
//! document): the application's dependency graph for the image's Rust target (`cargo
//! metadata`), checksums from Cargo.lock, the standard library's crates from the
//! toolchain's sources, and the bytes of each crate from the linked ELF.

use crate::{BuildError, io};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId, TargetKind};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use unik_linker::BuildRecord;
use unik_project::Project;
use unik_sbom::{Facts, ImageFacts, Package, Source};
use unik_ui::Shell;

/// What a build just made: the bytes of its image and linked ELF, and its record.
pub struct Built<'a> {
    /// The image file's bytes.
    pub image: &'a [u8],
    /// The linked ELF's bytes.
    pub elf: &'a [u8],
    /// The build record.
    pub record: &'a BuildRecord,
}

/// The facts of the image `built` holds, built from `project` by `plan`.
pub fn facts(
    shell: &Shell,
    project: &Project,
    toolchain: &crate::Toolchain,
    plan: &crate::BuildPlan,
    catalog: &unik_catalog::Catalog,
    built: &Built<'_>,
) -> Result<Facts, BuildError> {
    let Built { image, elf, record } = *built;
    let dir = project.manifest_path.parent().unwrap_or(Path::new("."));
    let metadata = dependency_graph(shell, project, plan)?;
    let lock_path = metadata.workspace_root.as_std_path().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).map_err(io("cannot read", &lock_path))?;
    let locked =
        unik_sbom::parse_lock(&lock).map_err(|e| BuildError::Sbom(format!("`{}`: {e}", lock_path.display())))?;
    let checksums: BTreeMap<(String, String), String> = locked
        .into_iter()
        .filter_map(|p| Some(((p.name, p.version), p.checksum?)))
        .collect();
    let to_package = |package: &cargo_metadata::Package| {
        let crate_name = package
            .targets
            .iter()
            .find(|t| t.kind.iter().any(|k| matches!(k, TargetKind::Lib | TargetKind::RLib)))
            .map_or(package.name.as_str(), |t| t.name.as_str())
            .replace('-', "_");
        Package {
            name: package.name.to_string(),
            version: package.version.to_string(),
            crate_name,
            source: Source::from_cargo(package.source.as_ref().map(|s| s.repr.as_str())),
            checksum: checksums
                .get(&(package.name.to_string(), package.version.to_string()))
                .cloned(),
            license: package.license.clone(),
        }
    };
    let app = metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == project.manifest_path)
        .ok_or_else(|| {
            BuildError::Sbom(format!(
                "`cargo metadata` does not list `{}`",
                project.manifest_path.display()
            ))
        })?;
    let (runtime, build_time) = reachable(&metadata, &app.id);
    let by_id = |id: &PackageId| metadata.packages.iter().find(|p| &p.id == id).map(to_package);
    let mut application = to_package(app);
    application.crate_name = project.bin.replace('-', "_");

    let rustc = rustc_version(shell, dir)?;
    let rustc_number = rustc.split_whitespace().nth(1).unwrap_or("0.0.0").to_string();
    let std_library = std_library(
        &toolchain.sysroot,
        toolchain.cargo_home.as_deref(),
        &rustc_number,
        project.uses_std,
    );

    let attribution = unik_linker::size::Attribution::of(elf).map_err(|source| BuildError::Image {
        path: record.elf.clone(),
        source,
    })?;
    let mut crate_bytes: BTreeMap<String, u64> = attribution
        .rows(unik_linker::size::Level::Crate)
        .into_iter()
        .map(|row| (row.name, row.bytes))
        .collect();
    // A no_std application's `main` is inlined into the unmangled entry symbol.
    let entry: u64 = attribution
        .rows(unik_linker::size::Level::Symbol)
        .iter()
        .filter(|row| row.name == unik_linker::size::APPLICATION_ENTRY)
        .map(|row| row.bytes)
        .sum();
    *crate_bytes.entry(application.crate_name.clone()).or_default() += entry;
    let components = record
        .components
        .iter()
        .map(|name| {
            let summary = catalog.get(name).map(|c| c.summary.clone()).unwrap_or_default();
            (name.clone(), summary)
        })
        .collect();
    use sha2::Digest;
    let sha256 = sha2::Sha256::digest(image).iter().map(|b| format!("{b:02x}")).collect();
    Ok(Facts {
        application,
        runtime: runtime.iter().filter_map(by_id).collect(),
        build_time: build_time.iter().filter_map(by_id).collect(),
        std_library,
        crate_bytes,
        components,
        rustc,
        unik_version: env!("CARGO_PKG_VERSION").to_string(),
        image: ImageFacts {
            file_name: record
                .image
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256,
            bytes: image.len() as u64,
            target: record.target.clone(),
            profile: record.profile.clone(),
        },
    })
}

/// `cargo metadata` with the dependencies that build for the plan's Rust target, in
/// the build's environment (dependencies under `cfg(unik_platform = "…")` are the
/// target's).
fn dependency_graph(shell: &Shell, project: &Project, plan: &crate::BuildPlan) -> Result<Metadata, BuildError> {
    let mut command = MetadataCommand::new();
    command
        .cargo_path("cargo")
        .manifest_path(&project.manifest_path)
        .other_options(vec!["--filter-platform".into(), plan.rust_target.clone()]);
    let mut command = command.cargo_command();
    unik_ui::sanitize(&mut command);
    // The build's environment: its rustflags (and RUSTC_BOOTSTRAP, which a std build's
    // nightly-only flags need even to ask rustc about the target).
    for (key, value) in &plan.cargo.env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    shell.echo(&command);
    let output = command
        .output()
        .map_err(|e| BuildError::Sbom(format!("cannot run `cargo metadata`: {e}")))?;
    if !output.status.success() {
        return Err(BuildError::Sbom(format!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    MetadataCommand::parse(String::from_utf8_lossy(&output.stdout))
        .map_err(|e| BuildError::Sbom(format!("cannot read `cargo metadata`'s output: {e}")))
}

/// The packages `app` reaches through normal dependencies (those that may have code in
/// the image), and those it reaches only through build dependencies or procedural macros.
fn reachable(metadata: &Metadata, app: &PackageId) -> (BTreeSet<PackageId>, BTreeSet<PackageId>) {
    let Some(resolve) = &metadata.resolve else {
        return Default::default();
    };
    let is_proc_macro = |id: &PackageId| {
        metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .is_some_and(|p| p.targets.iter().any(|t| t.kind.contains(&TargetKind::ProcMacro)))
    };
    let edges = |id: &PackageId| -> Vec<(PackageId, bool)> {
        resolve
            .nodes
            .iter()
            .find(|n| &n.id == id)
            .map(|node| {
                node.deps
                    .iter()
                    .filter_map(|dep| {
                        let kinds: Vec<DependencyKind> = dep.dep_kinds.iter().map(|k| k.kind).collect();
                        let normal = kinds.contains(&DependencyKind::Normal);
                        let build = kinds.contains(&DependencyKind::Build);
                        (normal || build).then(|| (dep.pkg.clone(), normal && !is_proc_macro(&dep.pkg)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let walk = |runtime_only: bool| {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([app.clone()]);
        while let Some(id) = queue.pop_front() {
            for (dep, runtime) in edges(&id) {
                if (runtime || !runtime_only) && seen.insert(dep.clone()) {
                    queue.push_back(dep);
                }
            }
        }
        seen.remove(app);
        seen
    };
    let runtime = walk(true);
    let build_time = walk(false).difference(&runtime).cloned().collect();
    (runtime, build_time)
}

fn rustc_version(shell: &Shell, dir: &Path) -> Result<String, BuildError> {
    let mut command = shell.command("rustc");
    command.current_dir(dir).arg("--version");
    shell.echo(&command);
    match command.output() {
        Ok(output) if output.status.success() => Ok(String::from_utf8_lossy(&output.stdout).trim().to_string()),
        _ => Err(BuildError::Toolchain("`rustc --version` failed".into())),
    }
}

/// The crates of Rust's standard library that can have code in an image: for a std
/// program every package of the library's Cargo.lock (built from source), else the
/// prebuilt `core`, `alloc` and `compiler_builtins`. Versions of the library's own crates
/// are rustc's; licenses come from their manifests (the rust-src component, cargo's
/// registry) where present.
fn std_library(sysroot: &Path, cargo_home: Option<&Path>, rustc_number: &str, uses_std: bool) -> Vec<Package> {
    let library = sysroot.join("lib/rustlib/src/rust/library");
    let manifests = library_manifests(&library);
    let own = |name: &str| Package {
        name: name.to_string(),
        version: rustc_number.to_string(),
        crate_name: name.replace('-', "_"),
        source: Source::Toolchain,
        checksum: None,
        license: manifests.get(name).cloned().flatten(),
    };
    let locked = std::fs::read_to_string(library.join("Cargo.lock"))
        .ok()
        .and_then(|text| unik_sbom::parse_lock(&text).ok())
        .unwrap_or_default();
    if !uses_std || locked.is_empty() {
        return ["core", "alloc", "compiler_builtins"].into_iter().map(own).collect();
    }
    locked
        .into_iter()
        .filter_map(|p| match &p.source {
            None => Some(own(&p.name)),
            // A registry crate of the library is compiled only when a build fetched it
            // (std's lock lists crates of every platform).
            Some(source) => Some(Package {
                crate_name: p.name.replace('-', "_"),
                source: Source::from_cargo(Some(source)),
                checksum: p.checksum.clone(),
                license: registry_manifest(cargo_home?, &p.name, &p.version)?,
                name: p.name,
                version: p.version,
            }),
        })
        .collect()
}

/// `package.name` → `package.license` of the manifests in the library's sources (two
/// folders deep: `library/std`, `library/compiler-builtins/compiler-builtins`).
fn library_manifests(library: &Path) -> BTreeMap<String, Option<String>> {
    let mut found = BTreeMap::new();
    let folders = std::fs::read_dir(library)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    for folder in folders {
        let nested = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path());
        for dir in std::iter::once(folder.clone()).chain(nested) {
            if let Some((name, license)) = manifest_license(&dir.join("Cargo.toml")) {
                found.entry(name).or_insert(license);
            }
        }
    }
    found
}

/// The license (when it names one) of `<name>-<version>` in cargo's registry sources;
/// `None` when it was never fetched.
fn registry_manifest(cargo_home: &Path, name: &str, version: &str) -> Option<Option<String>> {
    let registries = std::fs::read_dir(cargo_home.join("registry/src")).ok()?;
    registries
        .flatten()
        .find_map(|registry| manifest_license(&registry.path().join(format!("{name}-{version}/Cargo.toml"))))
        .map(|(_, license)| license)
}

fn manifest_license(manifest: &Path) -> Option<(String, Option<String>)> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    let package = value.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let license = package.get("license").and_then(|l| l.as_str()).map(str::to_string);
    Some((name, license))
}
