//! Location-independent crate identities: the rustc wrapper every image build runs
//! through, so the same sources give the same image bytes in any folder, under any
//! `CARGO_HOME`.
//!
//! Two things tie cargo's output to where files live. Paths: panic locations and `file!()`
//! name each crate's sources by absolute path (the library OS's checkout, cargo's
//! registry, the sysroot). And identities: cargo hashes a path dependency outside the
//! workspace (the library OS, always) by its absolute location into `-C metadata`, which
//! rustc turns into the crate's `StableCrateId`: symbol hashes, type ids and so code
//! layout change with the folder, and every crate depending on it inherits the change.
//!
//! The wrapper fixes both per rustc invocation, in the same way for every crate (the
//! library OS is not special-cased):
//! - each crate's own folder (`CARGO_MANIFEST_DIR`) is remapped to `<name>-<version>`
//!   and its `OUT_DIR` to `<name>-<version>/out`, as cargo's `trim-paths` would;
//! - `-C metadata` is replaced by a hash of what really defines the crate: its package
//!   name and version, its arguments with machine paths replaced by placeholders (the
//!   crate's folder, the target directory, the sysroot, …) and, for every `--extern`,
//!   the identity this wrapper gave that dependency (kept in `<target-dir>/unik/identities`
//!   in a file named after the dependency's output file and folder). Arguments that do not
//!   change the code (diagnostic format, the terminal's width, output folders, path
//!   remapping) are left out, as cargo leaves them out of its own hash.
//!
//! The `unik` executable is the wrapper: cargo runs `unik <rustc> <args>` with
//! [`VARIABLE`] set, and `main` hands over to [`wrap_rustc_if_asked`] before parsing a
//! command line.

use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable that makes the `unik` executable act as rustc's wrapper; its value is a
/// [`Settings`] in its encoded form.
pub const VARIABLE: &str = "UNIK_CRATE_IDENTITY";

/// Separates the parts of [`VARIABLE`]'s value (as in `CARGO_ENCODED_RUSTFLAGS`).
pub const SEPARATOR: char = '\x1f';

/// Names the identity scheme; bumped when the wrapper changes what it does. It goes into
/// the build's rustflags so that cargo's fingerprints change with it and nothing compiled
/// under another scheme (or without the wrapper) is reused; the wrapper drops it with
/// cargo's own `-C metadata`, and hashes it into every identity.
pub const SCHEME_FLAG: &str = "-Cmetadata=unik-crate-identity-4";

/// What the wrapper needs from the build plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Where the identity of each compiled crate is kept (`<target-dir>/unik/identities`).
    pub store: PathBuf,
    /// Machine folders and the placeholder that stands for each in the identity hash.
    pub placeholders: Vec<(PathBuf, String)>,
}

impl Settings {
    /// The settings for a build whose cargo target directory is `target_dir`, with the
    /// toolchain's `sysroot` and the application's folder `app`.
    pub fn for_build(target_dir: &Path, sysroot: &Path, app: &Path) -> Settings {
        Settings {
            store: target_dir.join("unik").join("identities"),
            placeholders: vec![
                (target_dir.to_path_buf(), "<target>".into()),
                (sysroot.to_path_buf(), "<sysroot>".into()),
                (app.to_path_buf(), "<app>".into()),
            ],
        }
    }

    /// The variable's value: the store, then `folder=placeholder`, separated by
    /// [`SEPARATOR`].
    pub fn encode(&self) -> String {
        let mut text = self.store.display().to_string();
        for (folder, placeholder) in &self.placeholders {
            text += &format!("{SEPARATOR}{}={placeholder}", folder.display());
        }
        text
    }

    /// Reads [`Settings::encode`]'s form.
    pub fn decode(text: &str) -> Option<Settings> {
        let mut lines = text.split(SEPARATOR);
        let store = PathBuf::from(lines.next().filter(|line| !line.is_empty())?);
        let placeholders = lines
            .map(|line| {
                let (folder, placeholder) = line.rsplit_once('=')?;
                Some((PathBuf::from(folder), placeholder.to_string()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Settings { store, placeholders })
    }
}

/// The file in a cargo profile's host folder naming the scheme its crates were compiled
/// under.
const SCHEME_MARKER: &str = ".unik-crate-identity";

/// Makes sure the crates cargo compiles for the host (build scripts, procedural macros)
/// in `<target_dir>/<cargo_profile>` carry identities of the current scheme: cargo's
/// fingerprints of host crates do not include the rustflags that name the scheme (those
/// apply to the image's target only), so after a change of scheme, or artifacts compiled
/// before the wrapper, the folder is emptied once and they are compiled again. Returns
/// whether it was emptied. The folder holds only unik's own cargo profile's outputs.
pub fn renew_host_artifacts(target_dir: &Path, cargo_profile: &str) -> std::io::Result<bool> {
    let folder = target_dir.join(cargo_profile);
    let marker = folder.join(SCHEME_MARKER);
    if std::fs::read_to_string(&marker).is_ok_and(|scheme| scheme == SCHEME_FLAG) {
        return Ok(false);
    }
    let emptied = folder.exists();
    if emptied {
        std::fs::remove_dir_all(&folder)?;
    }
    std::fs::create_dir_all(&folder)?;
    std::fs::write(&marker, SCHEME_FLAG)?;
    Ok(emptied)
}

/// What went wrong as rustc's wrapper (printed by `main` as rustc's error would be).
#[derive(Debug, thiserror::Error)]
pub enum WrapperError {
    /// [`VARIABLE`] does not hold [`Settings`].
    #[error("{VARIABLE} is malformed (`unik build` sets it for the cargo it runs)")]
    Malformed,
    /// The identity could not be kept for the crates that depend on this one.
    #[error("cannot record a crate identity in `{}`: {source}", store.display())]
    Store {
        /// The store.
        store: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// rustc could not be started.
    #[error("cannot run `{}`: {source}", rustc.to_string_lossy())]
    Rustc {
        /// The program cargo named.
        rustc: OsString,
        /// Why.
        source: std::io::Error,
    },
}

/// When this process was started by cargo as rustc's wrapper ([`VARIABLE`] set, the
/// first argument naming rustc), runs rustc with location-independent arguments and
/// returns its exit status; otherwise `None` and the caller goes on as `unik`.
pub fn wrap_rustc_if_asked() -> Option<Result<i32, WrapperError>> {
    let settings = std::env::var(VARIABLE).ok()?;
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next()?;
    let Some(settings) = Settings::decode(&settings) else {
        return Some(Err(WrapperError::Malformed));
    };
    let args: Vec<OsString> = args.collect();
    // Arguments that are not UTF-8 (never cargo's) are passed on untouched.
    let text: Option<Vec<String>> = args.iter().map(|a| a.to_str().map(str::to_string)).collect();
    let args: Vec<OsString> = match text {
        Some(text) => {
            let crate_folders = CrateFolders::from_environment();
            let rewritten = rewrite(&text, &crate_folders, &settings, &|key| {
                read_identity(&settings.store, key)
            });
            explain(&rewritten.inputs);
            if let Some((key, identity)) = &rewritten.recorded
                && let Err(source) = write_identity(&settings.store, key, identity)
            {
                return Some(Err(WrapperError::Store {
                    store: settings.store.clone(),
                    source,
                }));
            }
            rewritten.args.into_iter().map(OsString::from).collect()
        }
        None => args,
    };
    Some(run(rustc, &args))
}

#[cfg(unix)]
fn run(rustc: OsString, args: &[OsString]) -> Result<i32, WrapperError> {
    use std::os::unix::process::CommandExt;
    // Replaces this process: signals and the exit status are rustc's own.
    let source = unik_ui::Shell::inherited_command(&rustc).args(args).exec();
    Err(WrapperError::Rustc { rustc, source })
}

#[cfg(not(unix))]
fn run(rustc: OsString, args: &[OsString]) -> Result<i32, WrapperError> {
    match unik_ui::Shell::inherited_command(&rustc).args(args).status() {
        Ok(status) => Ok(status.code().unwrap_or(1)),
        Err(source) => Err(WrapperError::Rustc { rustc, source }),
    }
}

/// The package a rustc invocation compiles, from the variables cargo sets for it.
#[derive(Clone, Debug, Default)]
pub struct CrateFolders {
    /// `CARGO_PKG_NAME`-`CARGO_PKG_VERSION`.
    pub package: Option<String>,
    /// `CARGO_MANIFEST_DIR`.
    pub manifest_dir: Option<PathBuf>,
    /// `OUT_DIR` (packages with a build script).
    pub out_dir: Option<PathBuf>,
    /// The folder rustc runs in (the workspace's root for its members): debug
    /// information names it.
    pub working_dir: Option<PathBuf>,
}

impl CrateFolders {
    fn from_environment() -> CrateFolders {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        CrateFolders {
            package: var("CARGO_PKG_NAME")
                .map(|name| format!("{name}-{}", var("CARGO_PKG_VERSION").unwrap_or_default())),
            manifest_dir: var("CARGO_MANIFEST_DIR").map(PathBuf::from),
            out_dir: var("OUT_DIR").map(PathBuf::from),
            working_dir: std::env::current_dir().ok(),
        }
    }

    /// The crate's own folders and what they are remapped to, most specific last.
    fn remaps(&self) -> Vec<(&Path, String)> {
        let Some(package) = &self.package else {
            return Vec::new();
        };
        let mut remaps = Vec::new();
        if let Some(dir) = self.working_dir.as_ref().filter(|dir| dir.parent().is_some()) {
            remaps.push((dir.as_path(), ".".to_string()));
        }
        if let Some(dir) = &self.manifest_dir {
            remaps.push((dir.as_path(), package.clone()));
        }
        if let Some(dir) = &self.out_dir {
            remaps.push((dir.as_path(), format!("{package}/out")));
        }
        remaps
    }
}

/// A rustc command line made location-independent.
#[derive(Debug, PartialEq, Eq)]
pub struct Rewritten {
    /// The arguments to run rustc with.
    pub args: Vec<String>,
    /// The crate's output key and its new identity, to record for its dependents.
    pub recorded: Option<(String, String)>,
    /// The identity and what it was hashed from ([`LOG_VARIABLE`]); empty when the
    /// command compiles nothing.
    pub inputs: String,
}

/// Rewrites one rustc command line (see the module's comment); `identity_of` answers
/// the identity recorded for a dependency's output key.
pub fn rewrite(
    args: &[String],
    crate_folders: &CrateFolders,
    settings: &Settings,
    identity_of: &dyn Fn(&str) -> Option<String>,
) -> Rewritten {
    let codegen = |i: usize, option: &str| -> Option<String> {
        let arg = &args[i];
        if arg == "-C" {
            args.get(i + 1)?.strip_prefix(&format!("{option}=")).map(str::to_string)
        } else {
            arg.strip_prefix(&format!("-C{option}=")).map(str::to_string)
        }
    };
    // Cargo gives every crate it compiles a `-C metadata` of its own; the scheme's (in
    // the rustflags, so on rustc's probes too) does not count.
    let has_metadata = (0..args.len()).any(|i| {
        codegen(i, "metadata").is_some_and(|value| SCHEME_FLAG.strip_prefix("-Cmetadata=") != Some(value.as_str()))
    });
    if !has_metadata {
        // rustc asked for its version or a target's facts, or a build script's probe:
        // nothing is compiled into the image.
        return Rewritten {
            args: args.to_vec(),
            recorded: None,
            inputs: String::new(),
        };
    }
    let mut placeholders: Vec<(String, String)> = crate_folders
        .remaps()
        .into_iter()
        .map(|(dir, to)| (dir.display().to_string(), format!("<{to}>")))
        .chain(
            settings
                .placeholders
                .iter()
                .map(|(dir, to)| (dir.display().to_string(), to.clone())),
        )
        .filter(|(dir, _)| !dir.is_empty())
        .collect();
    // The longest folder first: a crate's folder inside the target directory is the
    // crate's, not the target directory's.
    placeholders.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.len()));
    let normalise = |arg: &str| {
        placeholders
            .iter()
            .fold(arg.to_string(), |arg, (dir, to)| arg.replace(dir.as_str(), to))
    };

    let mut hasher = Sha256::new();
    let mut inputs = String::new();
    let mut feed = |part: &str| {
        hasher.update(part.as_bytes());
        hasher.update([0]);
        inputs.push_str(part);
        inputs.push(' ');
    };
    feed(SCHEME_FLAG);
    feed(crate_folders.package.as_deref().unwrap_or(""));
    let mut kept = Vec::with_capacity(args.len() + 4);
    let mut key = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        // Options written as two words (`-C x=y`, `--extern a=b`, `--out-dir d`).
        let pair = matches!(arg.as_str(), "-C" | "--extern" | "--out-dir" | "--remap-path-prefix")
            .then(|| args.get(i + 1))
            .flatten();
        let width = if pair.is_some() { 2 } else { 1 };
        let words = &args[i..i + width];
        i += width;
        if codegen(i - width, "metadata").is_some() {
            continue;
        }
        if let Some(extra) = codegen(i - width, "extra-filename") {
            key = option_value(args, "--crate-name")
                .zip(option_value(args, "--out-dir"))
                .map(|(name, dir)| store_key(Path::new(dir), &format!("{name}{extra}")));
            kept.extend_from_slice(words);
            continue;
        }
        kept.extend_from_slice(words);
        let value = pair.map(String::as_str).unwrap_or(arg);
        let skipped = ["--error-format", "--json", "--diagnostic-width", "--color", "--out-dir"]
            .iter()
            .any(|option| arg.starts_with(option))
            || arg.starts_with("--remap-path-prefix")
            || arg.starts_with("-Cincremental")
            || value.starts_with("incremental=");
        if skipped {
            continue;
        }
        if arg == "--extern" || arg.starts_with("--extern=") {
            let value = value.strip_prefix("--extern=").unwrap_or(value);
            feed("--extern");
            feed(&extern_identity(value, identity_of).unwrap_or_else(|| normalise(value)));
        } else {
            for word in words {
                feed(&normalise(word));
            }
        }
    }
    let identity: String = hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    // The crate's own folders first: a remap in the build's rustflags (std's sources)
    // comes later and wins where both apply.
    let mut rewritten: Vec<String> = crate_folders
        .remaps()
        .into_iter()
        .map(|(dir, to)| format!("--remap-path-prefix={}={to}", dir.display()))
        .collect();
    rewritten.push("-C".into());
    rewritten.push(format!("metadata={identity}"));
    rewritten.extend(kept);
    Rewritten {
        args: rewritten,
        inputs: format!("{identity} {inputs}"),
        recorded: key.map(|key| (key, identity)),
    }
}

/// The variable naming a file to which the wrapper appends each identity with the inputs
/// it hashed: to find out why two builds differ (`diff` the two files).
pub const LOG_VARIABLE: &str = "UNIK_CRATE_IDENTITY_LOG";

fn explain(inputs: &str) {
    let Some(path) = std::env::var_os(LOG_VARIABLE).filter(|_| !inputs.is_empty()) else {
        return;
    };
    // One write per line: rustc processes run in parallel.
    let line = format!("{inputs}\n");
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
        let _ = std::io::Write::write_all(&mut file, line.as_bytes());
    }
}

/// The value of `option` (`--crate-name x` or `--crate-name=x`).
fn option_value<'a>(args: &'a [String], option: &str) -> Option<&'a str> {
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix(option) {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        })
}

/// The store's name for the output `<folder>/lib<stem>.*`: the folder counts, because
/// cargo gives a host crate the same file name in every profile's folder, and each
/// folder's copy is compiled with its own arguments. The name is local to this target
/// directory, so the folder's absolute path may be in it.
fn store_key(folder: &Path, stem: &str) -> String {
    let digest = Sha256::digest(folder.as_os_str().as_encoded_bytes());
    let folder: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{stem}.{folder}")
}

/// `name=<identity>` for `--extern [prefix:]name=<folder>/lib<crate><extra>.<ext>` whose
/// identity was recorded.
fn extern_identity(value: &str, identity_of: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let (name, path) = value.split_once('=')?;
    let path = Path::new(path);
    let stem = path.file_stem()?.to_str()?;
    let key = store_key(path.parent()?, stem.strip_prefix("lib").unwrap_or(stem));
    identity_of(&key).map(|identity| format!("{name}={identity}"))
}

fn read_identity(store: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(store.join(key)).ok()?;
    let identity = text.trim();
    (!identity.is_empty()).then(|| identity.to_string())
}

fn write_identity(store: &Path, key: &str, identity: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(store)?;
    // Written whole or not at all: rustc processes run in parallel.
    let mut file = tempfile::NamedTempFile::new_in(store)?;
    std::io::Write::write_all(&mut file, identity.as_bytes())?;
    file.persist(store.join(key)).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn settings(target: &str) -> Settings {
        Settings::for_build(Path::new(target), Path::new("/sysroot"), Path::new("/app"))
    }

    fn folders(dir: &str) -> CrateFolders {
        CrateFolders {
            package: Some("unik-net-0.1.0".into()),
            manifest_dir: Some(PathBuf::from(dir)),
            out_dir: None,
            working_dir: None,
        }
    }

    fn compile(checkout: &str, target: &str, dependency: &str) -> Vec<String> {
        words(&format!(
            "--crate-name unik_net --edition=2024 {checkout}/libos/components/net/src/lib.rs --error-format=json \
             --crate-type lib -C opt-level=s -C metadata=9a8b{checkout_len:x} -C extra-filename=-0f{checkout_len:x} \
             --out-dir {target}/x86_64-unknown-none/release/deps -L dependency={target}/x86_64-unknown-none/release/deps \
             --extern smoltcp={target}/x86_64-unknown-none/release/deps/libsmoltcp-{dependency}.rlib",
            checkout_len = checkout.len()
        ))
    }

    fn metadata(args: &[String]) -> &str {
        let at = args.iter().position(|a| a.starts_with("metadata=")).unwrap();
        &args[at]["metadata=".len()..]
    }

    #[test]
    fn the_same_crate_in_two_folders_gets_one_identity() {
        let known = |key: &str| {
            Some(
                if key == "smoltcp-aaaa" || key == "smoltcp-bbbb" {
                    "5eed"
                } else {
                    "?"
                }
                .into(),
            )
        };
        let a = rewrite(
            &compile("/home/a/unik", "/home/a/app/target", "aaaa"),
            &folders("/home/a/unik/libos/components/net"),
            &settings("/home/a/app/target"),
            &known,
        );
        let b = rewrite(
            &compile("/tmp/elsewhere/u", "/tmp/t2", "bbbb"),
            &folders("/tmp/elsewhere/u/libos/components/net"),
            &settings("/tmp/t2"),
            &known,
        );
        assert_eq!(metadata(&a.args), metadata(&b.args));
        assert_ne!(metadata(&a.args), "9a8b");
        // The remap comes first, cargo's own metadata is gone, the rest is unchanged.
        assert_eq!(
            a.args[0],
            "--remap-path-prefix=/home/a/unik/libos/components/net=unik-net-0.1.0"
        );
        assert_eq!(a.args.iter().filter(|arg| arg.starts_with("metadata=")).count(), 1);
        assert!(a.args.contains(&"-C".to_string()) && a.args.contains(&"extra-filename=-0fc".to_string()));
        // Recorded under the output's name for the crates that depend on it.
        let folder = Path::new("/home/a/app/target/x86_64-unknown-none/release/deps");
        assert_eq!(a.recorded.map(|(key, _)| key), Some(store_key(folder, "unik_net-0fc")));
    }

    #[test]
    fn what_defines_the_crate_changes_its_identity() {
        let known = |_: &str| Some("5eed".to_string());
        let base = compile("/u", "/t", "aaaa");
        let identity = |args: &[String], known: &dyn Fn(&str) -> Option<String>| {
            metadata(&rewrite(args, &folders("/u/libos/components/net"), &settings("/t"), known).args).to_string()
        };
        let original = identity(&base, &known);
        let mut other_feature = base.clone();
        other_feature.extend(words("--cfg feature=\"dns\""));
        assert_ne!(identity(&other_feature, &known), original);
        // Another identity of the dependency.
        assert_ne!(identity(&base, &|_| Some("beef".to_string())), original);
        // The diagnostics' form does not count.
        let mut other_width = base.clone();
        other_width.push("--diagnostic-width=80".into());
        assert_eq!(identity(&other_width, &known), original);
    }

    #[test]
    fn one_file_name_in_two_profile_folders_is_two_outputs() {
        let deps = |profile: &str| format!("/t/{profile}/deps");
        let syn = |profile: &str| format!("syn={}/libsyn-0123.rlib", deps(profile));
        let known = |key: &str| Some(key.to_string());
        let release = extern_identity(&syn("unik-release-kvm-x86_64"), &known).unwrap();
        let dev = extern_identity(&syn("unik-dev-kvm-x86_64"), &known).unwrap();
        assert_ne!(release, dev);
        assert_eq!(
            release,
            format!(
                "syn={}",
                store_key(Path::new(&deps("unik-release-kvm-x86_64")), "syn-0123")
            )
        );
    }

    #[test]
    fn commands_without_metadata_pass_unchanged() {
        let probe = words(&format!(
            "- --crate-name ___ --print=file-names --crate-type bin {SCHEME_FLAG}"
        ));
        let rewritten = rewrite(&probe, &CrateFolders::default(), &settings("/t"), &|_| None);
        assert_eq!(rewritten.args, probe);
        assert_eq!(rewritten.recorded, None);
    }

    #[test]
    fn host_artifacts_of_another_scheme_are_compiled_again() {
        let target = tempfile::tempdir().unwrap();
        let stale = target.path().join("unik-release-kvm-x86_64/deps/libsyn-0123.rlib");
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, "").unwrap();
        assert!(renew_host_artifacts(target.path(), "unik-release-kvm-x86_64").unwrap());
        assert!(!stale.exists());
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, "").unwrap();
        // Marked: kept from now on.
        assert!(!renew_host_artifacts(target.path(), "unik-release-kvm-x86_64").unwrap());
        assert!(stale.exists());
    }

    #[test]
    fn settings_round_trip_through_the_variable() {
        let settings = settings("/home/someone/app/target");
        assert_eq!(Settings::decode(&settings.encode()), Some(settings));
        assert_eq!(Settings::decode(""), None);
    }
}
