//! Tidy: the architecture invariants of ARCHITECTURE.md that code can check, checked on
//! the source tree (host only, nothing is built), as rust-analyzer's `tidy` does. Each
//! test names the invariant it keeps; a failure says which file breaks it and how.

mod support;

use std::path::{Path, PathBuf};
use support::root;

/// Every source and documentation file of the repository that git knows or would track.
fn files() -> Vec<PathBuf> {
    let output = std::process::Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git ls-files failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .filter(|path| root().join(path).is_file())
        .collect()
}

fn rust_files_under(prefixes: &[&str]) -> Vec<PathBuf> {
    files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| prefixes.iter().any(|prefix| path.starts_with(prefix)))
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// `source` without comments, and (unless `keep_strings`) with the text of string
/// literals blanked (`""`), so that what a message says is not taken for code.
fn code_only(source: &str, keep_strings: bool) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            i += 2;
            while i < chars.len() && !chars[i..].starts_with(&['*', '/']) {
                i += 1;
            }
            i += 2;
        } else if rest.starts_with(&['\'', '"', '\'']) {
            i += 3;
        } else if rest.starts_with(&['r', '#']) || rest.starts_with(&['r', '"']) {
            let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let start = i;
            i += 2 + hashes;
            while i < chars.len() && !chars[i..].starts_with(&close) {
                i += 1;
            }
            i = (i + close.len()).min(chars.len());
            out.extend(if keep_strings {
                &chars[start..i]
            } else {
                &['"', '"'][..]
            });
        } else if chars[i] == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            out.extend(if keep_strings {
                &chars[start..i]
            } else {
                &['"', '"'][..]
            });
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The code of a Rust file (see [`code_only`]) without its `#[cfg(test)]` items: tests
/// may spell out what production code must not.
fn production_code(source: &str) -> String {
    without_tests(&code_only(source, false))
}

/// Like [`production_code`], with the text of string literals kept.
fn production_text(source: &str) -> String {
    without_tests(&code_only(source, true))
}

/// `code` without the items marked `#[cfg(test)]`.
fn without_tests(code: &str) -> String {
    let mut kept = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        rest = &rest[at..];
        // Skip the item the attribute is on: up to its `;`, or its balanced braces.
        let Some(open) = rest.find(['{', ';']) else { break };
        if rest.as_bytes()[open] == b';' {
            rest = &rest[open + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    kept.push_str(rest);
    kept
}

/// Whether `code` calls `name` (a path or macro ending in `(`) as a whole word, not as
/// the tail of a longer name (`MetadataCommand::new(`).
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The paragraph of ARCHITECTURE.md's invariants that starts with `start`.
fn invariant(start: &str) -> String {
    let text = read(Path::new("ARCHITECTURE.md"));
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no invariant starting {start:?}"));
    text[at..].split("\n- ").next().unwrap().to_string()
}

/// The folders named in backticks (`` `libos/...` ``) in `text`.
fn folders_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| word.starts_with("libos/"))
        .map(str::to_string)
        .collect()
}

/// The library-OS crates: folders under `libos/` with a Cargo.toml.
fn libos_crates() -> Vec<String> {
    files()
        .into_iter()
        .filter(|path| path.starts_with("libos") && path.ends_with("Cargo.toml"))
        .filter_map(|path| path.parent().map(|p| p.display().to_string()))
        .filter(|folder| folder != "libos")
        .collect()
}

#[test]
fn portable_library_os_crates_never_mention_target_arch() {
    let rule = invariant("**Portable library-OS crates never mention `target_arch`.**");
    let exempt = folders_in(&rule);
    assert!(!exempt.is_empty(), "the invariant names the crates that may: {rule}");
    let mut offenders = Vec::new();
    for file in rust_files_under(&["libos"]) {
        let in_exempt = exempt.iter().any(|folder| file.starts_with(folder));
        if !in_exempt && production_code(&read(&file)).contains("target_arch") {
            offenders.push(file.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "portable crates read `target_arch` (use unik_platform::Current's traits instead): {offenders:?}"
    );
}

#[test]
fn the_crates_that_forbid_unsafe_are_the_ones_architecture_lists() {
    let rule = invariant("**`unsafe` stays in the boot, arch, platform, driver-glue and heap-handover crates**");
    let listed = folders_in(&rule);
    let mut forbidding: Vec<String> = libos_crates()
        .into_iter()
        .filter(|folder| {
            let lib = root().join(folder).join("src/lib.rs");
            std::fs::read_to_string(lib).is_ok_and(|text| text.contains("#![forbid(unsafe_code)]"))
        })
        .collect();
    forbidding.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(
        forbidding, listed_sorted,
        "the library-OS crates with #![forbid(unsafe_code)] (left) differ from those ARCHITECTURE.md lists (right)"
    );
    let workspace = read(Path::new("Cargo.toml"));
    assert!(
        workspace.contains("unsafe_code = \"forbid\""),
        "the host workspace forbids unsafe code"
    );
}

#[test]
fn every_source_file_starts_with_a_module_comment() {
    let missing: Vec<String> = files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| !read(path).trim_start().starts_with("//!"))
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a `//!` first line: {missing:?}");
}

/// The host crates that ship in `unik` (not the tests, not xtask).
const PRODUCTION_HOST_CRATES: &[&str] = &[
    "cli/src",
    "builder/src",
    "runner/src",
    "project/src",
    "linker/src",
    "catalog/src",
    "targets/src",
    "report/src",
    "sbom/src",
    "ui/src",
];

#[test]
fn processes_start_only_through_the_shell_wrapper() {
    let rule = invariant("**The linker crate never spawns processes**");
    assert!(rule.contains("ui::Shell::command"), "{rule}");
    let offenders: Vec<String> = rust_files_under(PRODUCTION_HOST_CRATES)
        .into_iter()
        .filter(|file| !file.starts_with("ui/src"))
        .filter(|file| calls(&production_code(&read(file)), "Command::new("))
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "`Command::new` outside ui::Shell::command (which echoes and cleans the environment): {offenders:?}"
    );
}

#[test]
fn library_crates_never_print() {
    let libraries: Vec<&str> = PRODUCTION_HOST_CRATES
        .iter()
        .copied()
        .filter(|folder| !folder.starts_with("cli"))
        .collect();
    let mut offenders = Vec::new();
    for file in rust_files_under(&libraries) {
        let code = production_code(&read(&file));
        for printer in ["println!(", "print!(", "eprintln!(", "eprint!(", "dbg!("] {
            if calls(&code, printer) {
                offenders.push(format!("{} ({printer})", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "library crates print through unik_ui (Shell, out!, outln!), which never panics on a closed stream: {offenders:?}"
    );
}

#[test]
fn the_exit_status_line_is_defined_once() {
    let phrase = "unik: exit status";
    let definitions: Vec<String> = files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| !path.starts_with("tests") && !path.starts_with("examples"))
        .filter(|path| production_text(&read(path)).contains(phrase))
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(
        definitions,
        ["libos/boot-abi/src/lib.rs"],
        "`{phrase}` is spelled outside unik_boot_abi::EXIT_STATUS_PREFIX"
    );
}

#[test]
fn no_arm64_code_unmasks_interrupts() {
    // entry.S masks IRQ, FIQ and SError and puts code where their vectors would be.
    let unmasking: Vec<String> = files()
        .into_iter()
        .filter(|path| path.starts_with("libos"))
        .filter(|path| path.extension().is_some_and(|e| e == "rs" || e == "S"))
        .filter(|path| {
            let text: String = read(path).to_ascii_lowercase().split_whitespace().collect();
            text.contains("daifclr") || text.contains("msrdaif,")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        unmasking.is_empty(),
        "{unmasking:?} unmask interrupts on arm64, whose vector table has only the synchronous \
         entry (libos/arch/aarch64/src/entry.S): give it the IRQ entry first"
    );
}

#[test]
fn every_committed_lock_file_is_current() {
    let stale: Vec<String> = files()
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "Cargo.lock"))
        .filter(|lock| {
            let manifest = root().join(lock.with_file_name("Cargo.toml"));
            let output = std::process::Command::new(env!("CARGO"))
                .args(["update", "--quiet", "--workspace", "--locked", "--manifest-path"])
                .arg(&manifest)
                .output()
                .expect("cargo runs");
            !output.status.success()
        })
        .map(|lock| lock.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "these lock files no longer match their manifests (a build would rewrite them): \
         {stale:?}; run `cargo update --workspace --manifest-path <its Cargo.toml>` and commit it"
    );
}

/// Targets the bench does not measure yet, and why. When a target gains bench rows, it
/// leaves this list (the test below fails until it does).
const NOT_YET_BENCHED: &[&str] = &[];

#[test]
fn adding_a_target_checklist_holds_for_every_target() {
    let checklist = read(Path::new("ARCHITECTURE.md"));
    assert!(
        checklist.contains("## Adding a target"),
        "ARCHITECTURE.md has the checklist"
    );
    let platform_manifest = read(Path::new("libos/platform/Cargo.toml"));
    let platform_choice = read(Path::new("libos/platform/src/lib.rs"));
    let bench: serde_json::Value = serde_json::from_str(&read(Path::new("benchmarks/report.json"))).unwrap();
    let catalog = unik_catalog::Catalog::shipped().unwrap();
    for target in unik_targets::all() {
        let name = &target.name;
        let platform = root().join("libos/platforms").join(&target.platform);
        assert!(
            platform.join("Cargo.toml").is_file(),
            "{name}: no platform crate {}",
            platform.display()
        );
        let package = format!("unik-platform-{}", target.platform);
        assert!(
            platform_manifest.contains(&package),
            "{name}: libos/platform/Cargo.toml lacks {package}"
        );
        assert!(
            platform_choice.contains(&format!("unik_platform = \"{}\"", target.platform)),
            "{name}: libos/platform/src/lib.rs does not choose its platform"
        );
        assert!(
            catalog.get("platform").unwrap().crates.contains(&package),
            "{name}: the catalog's platform component lacks {package}"
        );
        assert!(
            support::TARGETS.contains(&name.as_str()),
            "{name}: not in the boot tests' TARGETS"
        );
        for application in ["hello", "std-hello"] {
            let golden = support::data(&format!("golden/plans/build/{application}-{name}-release.json"));
            assert!(golden.is_file(), "{name}: no golden build plan {}", golden.display());
        }
        let benched = bench["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["target"] == *name);
        assert_eq!(
            benched,
            !NOT_YET_BENCHED.contains(&name.as_str()),
            "{name}: bench rows and NOT_YET_BENCHED disagree (run `cargo xtask bench`, or say why not)"
        );
    }
}
