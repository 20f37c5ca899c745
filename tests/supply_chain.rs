//! Supply chain: images are the same bytes from any folder and any `CARGO_HOME`, and the
//! bill of materials beside each image is valid CycloneDX that lists exactly the crates
//! the size report finds code of.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{build_message, root, run, unik};

/// Held by each test while it builds: both build the examples in this checkout, and a
/// build's first renewal of its host crates must not race another build.
static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The bill's `unik:<name>` property of a component.
fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == format!("unik:{name}"))?["value"]
        .as_str()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the CycloneDX project's own JSON-schema validator (PyPI, installed by `cargo
/// xtask setup`) on `files`.
fn assert_valid_cyclonedx(files: &[PathBuf]) {
    let python = root().join("target/tools/cyclonedx/bin/python");
    assert!(
        python.exists(),
        "the CycloneDX validator is missing: run `cargo xtask setup` (it installs cyclonedx-python-lib into {})",
        python.display()
    );
    let output = Command::new(&python)
        .arg(support::data("validate_cyclonedx.py"))
        .args(files)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("valid ")).count(),
        files.len(),
        "{stdout}"
    );
}

/// The size report's crate rows with bytes: name → bytes (bracketed rows are sections,
/// padding and symbol-less bytes; `__rustc` is the compiler's own shims).
fn crate_rows(example: &str, target: &str) -> BTreeMap<String, u64> {
    let output = run(unik().current_dir(root().join("examples").join(example)).args([
        "-q",
        "size-report",
        "--release",
        "--target",
        target,
        "--by",
        "crate",
        "--format",
        "json",
    ]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap().to_string(),
                row["bytes"].as_u64().unwrap(),
            )
        })
        .filter(|(name, bytes)| *bytes > 0 && !name.starts_with('[') && !name.starts_with("__"))
        .collect()
}

/// For a no_std, a std and a network image on three targets: the bill beside the image is
/// valid CycloneDX; it names the image by its sha256, every crate row of the size report
/// with bytes and nothing else (with the same bytes), and the components the build found.
#[test]
fn the_bill_of_materials_is_valid_and_matches_the_size_report() {
    let _building = BUILDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut documents = Vec::new();
    for (example, target) in [
        ("hello", "kvm-x86_64"),
        ("std-hello", "xen-x86_64"),
        ("http", "kvm-arm64"),
    ] {
        let message = build_message(
            unik().current_dir(root().join("examples").join(example)),
            &["--release", "--target", target],
        );
        let sbom = PathBuf::from(message["sbom"].as_str().expect("the build message names the bill"));
        let image = PathBuf::from(message["image"].as_str().unwrap());
        assert_eq!(sbom, image.with_file_name(format!("{example}.cdx.json")));
        let record = read_json(&image.with_file_name(format!("{example}.json")));
        assert_eq!(record["sbom"], message["sbom"], "the build record names the bill");
        let bill = read_json(&sbom);
        let subject = &bill["metadata"]["component"];
        assert_eq!(subject["name"], example);
        let image_bytes = std::fs::read(&image).unwrap();
        let digest = {
            use sha2::Digest;
            sha2::Sha256::digest(&image_bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(
            subject["hashes"][0]["content"],
            digest.as_str(),
            "{example}: image sha256"
        );

        let rows = crate_rows(example, target);
        let mut listed: BTreeMap<String, u64> = BTreeMap::new();
        let app_crate = property(subject, "crate").unwrap().to_string();
        let app_bytes: u64 = property(subject, "bytes").unwrap().parse().unwrap();
        if app_bytes > 0 && rows.contains_key(&app_crate) {
            listed.insert(app_crate.clone(), rows[&app_crate]);
        }
        let mut components = Vec::new();
        for component in bill["components"].as_array().unwrap() {
            if component["group"] == "unik-components" {
                components.push(component["name"].as_str().unwrap().to_string());
                continue;
            }
            let name = property(component, "crate").expect("each crate names its crate");
            let bytes: u64 = property(component, "bytes").unwrap().parse().unwrap();
            assert!(bytes > 0, "{example}: {name} is listed without bytes");
            // Two packages of one crate name (std's copy of a crate) share its bytes.
            assert!(
                listed
                    .insert(name.to_string(), bytes)
                    .is_none_or(|earlier| earlier == bytes)
            );
            if component["purl"].as_str().is_some_and(|p| p.starts_with("pkg:cargo/")) {
                assert!(
                    component["hashes"][0]["content"]
                        .as_str()
                        .is_some_and(|h| h.len() == 64)
                );
                assert!(component["licenses"][0]["expression"].is_string(), "{component}");
            }
        }
        assert_eq!(
            listed.keys().collect::<Vec<_>>(),
            rows.keys()
                .filter(|name| **name != app_crate || app_bytes > 0)
                .collect::<Vec<_>>(),
            "{example} for {target}: the bill's crates are the size report's crates with bytes"
        );
        for (name, bytes) in &listed {
            if *name != app_crate {
                assert_eq!(rows[name], *bytes, "{example}: bytes of {name}");
            }
        }
        let mut expected_components: Vec<String> = record["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        expected_components.sort();
        components.sort();
        assert_eq!(components, expected_components, "{example}: library-OS components");
        assert!(
            bill["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"),
            "{bill}"
        );
        assert!(
            property(subject, "crates-left-out").unwrap().parse::<u64>().unwrap() > 0,
            "{example}: the library OS's dependency graph has crates with no code in any image"
        );
        documents.push(sbom);
    }

    // `unik sbom --all`: the same crates, and those left out with scope `excluded` and
    // their number as the bill counts them.
    let output = run(unik().current_dir(root().join("examples/http")).args([
        "-q",
        "sbom",
        "--release",
        "--target",
        "kvm-arm64",
        "--all",
        "--format",
        "json",
    ]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let all: Value = serde_json::from_str(&output.stdout).unwrap();
    let excluded: Vec<&Value> = all["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["scope"] == "excluded")
        .collect();
    let counted: usize = property(&all["metadata"]["component"], "crates-left-out")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(excluded.len(), counted);
    assert!(
        excluded
            .iter()
            .any(|c| property(c, "left-out") == Some("build time only")),
        "procedural macros are left out as build-time only"
    );
    let file = root().join("target/unik-tests/http-all.cdx.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &output.stdout).unwrap();
    documents.push(file);

    // The table for people.
    let output =
        run(unik()
            .current_dir(root().join("examples/http"))
            .args(["sbom", "--release", "--target", "kvm-arm64"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stdout.contains("smoltcp"), "{}", output.stdout);
    assert!(
        output.stdout.contains("crates with code in the image"),
        "{}",
        output.stdout
    );

    assert_valid_cyclonedx(&documents);
}

/// Copies the checkout's files (those git knows, and new ones it does not ignore) to
/// `destination`.
fn copy_checkout(destination: &Path) {
    let listed = Command::new("git")
        .current_dir(root())
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "this test copies a git checkout");
    for file in listed.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let file = String::from_utf8_lossy(file);
        let (from, to) = (root().join(&*file), destination.join(&*file));
        if !from.is_file() || file.starts_with("fuzz/") {
            continue;
        }
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        // Unchanged files keep their time, so cargo rebuilds only what changed.
        if std::fs::read(&to).ok() != std::fs::read(&from).ok() {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// The same sources built from a second copy of the checkout in a deeper folder, with a
/// `CARGO_HOME` of its own (crates fetched afresh), give the same image, `.elf` and bill
/// bytes as this checkout: a no_std program, a std program (on arm64), and axum.
#[test]
fn images_are_the_same_from_another_checkout_and_another_cargo_home() {
    let _building = BUILDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let elsewhere = root().join("target/unik-tests/elsewhere");
    let checkout = elsewhere.join("a/folder/of/another/length/unik");
    let cargo_home = elsewhere.join("cargo-home");
    copy_checkout(&checkout);
    for (example, target) in [
        ("hello", "kvm-x86_64"),
        ("std-hello", "kvm-arm64"),
        ("axum", "kvm-x86_64"),
    ] {
        let here = build_message(
            unik().current_dir(root().join("examples").join(example)),
            &["--release", "--target", target],
        );
        let there = build_message(
            unik()
                .current_dir(checkout.join("examples").join(example))
                .env("CARGO_HOME", &cargo_home),
            &["--release", "--target", target],
        );
        let image = |message: &Value| PathBuf::from(message["image"].as_str().unwrap());
        let (image_here, image_there) = (image(&here), image(&there));
        assert!(image_there.starts_with(&checkout));
        for suffix in ["", ".elf", ".cdx.json"] {
            let file = |image: &Path| {
                let mut name = image.file_name().unwrap().to_os_string();
                name.push(suffix);
                std::fs::read(image.with_file_name(name)).unwrap()
            };
            assert!(
                file(&image_here) == file(&image_there),
                "{example} for {target}: `{suffix}` differs between {} and {}",
                image_here.display(),
                image_there.display()
            );
        }
        // Nothing in the image names either folder.
        let bytes = std::fs::read(&image_here).unwrap();
        for folder in [root(), checkout.clone(), cargo_home.clone(), home_cargo()] {
            let folder = folder.display().to_string();
            assert!(
                !bytes.windows(folder.len()).any(|w| w == folder.as_bytes()),
                "{example} for {target}: the image names {folder}"
            );
        }
    }
}

fn home_cargo() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}
