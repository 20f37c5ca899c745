//! The software bill of materials of an image, as CycloneDX 1.5 JSON.
//!
//! What is in the image comes from the size attribution (the bytes of each crate, by
//! the crate names in its symbols), not from Cargo.lock: a crate the application depends
//! on but whose code the linker dropped, or one that only runs at build time, is left out
//! and counted. Each crate name with bytes is matched with the packages that compile to
//! a crate of that name (the application's dependency graph, and Rust's standard library
//! when the image holds it); a name that two packages share (two versions, or std's own
//! copy of a crate) lists both, marked as sharing the bytes. This crate is pure: the
//! builder gathers the [`Facts`] (cargo metadata, Cargo.lock, the sysroot) and the
//! attribution, and writes the document.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The CycloneDX version written.
pub const SPEC_VERSION: &str = "1.5";

/// Where a package's sources come from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A registry (its index URL; crates.io's is [`CRATES_IO`]).
    Registry(String),
    /// A git repository (its URL, with the revision when cargo records one).
    Git(String),
    /// A folder on this machine (a path dependency: the library OS, or the user's own).
    Path,
    /// Rust's standard library, from the toolchain.
    Toolchain,
}

/// crates.io's index, as cargo names it in a package's source.
pub const CRATES_IO: &str = "https://github.com/rust-lang/crates.io-index";

impl Source {
    /// From cargo's source string (`registry+URL`, `sparse+URL`, `git+URL#rev`); `None`
    /// is a path.
    pub fn from_cargo(source: Option<&str>) -> Source {
        match source {
            None => Source::Path,
            Some(source) => match source.split_once('+') {
                Some(("git", url)) => Source::Git(url.to_string()),
                Some((_, "https://index.crates.io/")) => Source::Registry(CRATES_IO.into()),
                Some((_, url)) => Source::Registry(url.to_string()),
                None => Source::Registry(source.to_string()),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Registry(url) if url == CRATES_IO => "crates.io".into(),
            Source::Registry(url) => format!("registry {url}"),
            Source::Git(url) => format!("git {url}"),
            Source::Path => "path".into(),
            Source::Toolchain => "toolchain".into(),
        }
    }
}

/// A package that may have code in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Package name (`serde_json`, `unik-net`).
    pub name: String,
    /// Version.
    pub version: String,
    /// The name of the crate it compiles to, as symbols carry it (`unik_net`).
    pub crate_name: String,
    /// Where it comes from.
    pub source: Source,
    /// The sha256 Cargo.lock records (registry packages).
    pub checksum: Option<String>,
    /// The manifest's SPDX license expression.
    pub license: Option<String>,
}

/// The image the bill describes.
#[derive(Clone, Debug)]
pub struct ImageFacts {
    /// The image file's name.
    pub file_name: String,
    /// sha256 of its bytes, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// unik target.
    pub target: String,
    /// Build profile.
    pub profile: String,
}

/// Everything the bill is made from.
#[derive(Clone, Debug)]
pub struct Facts {
    /// The application's own package (its binary crate is the image's `main`).
    pub application: Package,
    /// Packages the application reaches at run time (normal dependencies, transitively).
    pub runtime: Vec<Package>,
    /// Packages it reaches only at build time (build scripts, procedural macros).
    pub build_time: Vec<Package>,
    /// The crates of Rust's standard library the toolchain links in.
    pub std_library: Vec<Package>,
    /// Loaded bytes by crate name (the size report's crate rows; bracketed rows are not
    /// crates).
    pub crate_bytes: BTreeMap<String, u64>,
    /// Library-OS components present, with what each does.
    pub components: Vec<(String, String)>,
    /// `rustc --version`.
    pub rustc: String,
    /// The version of unik.
    pub unik_version: String,
    /// The image.
    pub image: ImageFacts,
}

/// One package with code in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Present {
    /// The package.
    pub package: Package,
    /// The bytes its crate name has in the image.
    pub bytes: u64,
    /// How many listed packages share those bytes (1 unless the crate name is ambiguous).
    pub shared_by: usize,
}

/// Why a package of the graph is not in the bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// It is a run-time dependency, but none of its code was linked into the image.
    NoCodeInImage,
    /// It runs only at build time.
    BuildTimeOnly,
}

impl Reason {
    /// For tables and the JSON.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::NoCodeInImage => "no code in the image",
            Reason::BuildTimeOnly => "build time only",
        }
    }
}

/// What is in the image and what is not.
#[derive(Clone, Debug)]
pub struct Bill {
    /// Bytes of the application's own crate.
    pub application_bytes: u64,
    /// Packages with code in the image, by name then version.
    pub present: Vec<Present>,
    /// Packages of the application's graph left out, and why.
    pub left_out: Vec<(Package, Reason)>,
    /// Crate names with bytes that no known package compiles to.
    pub unmatched: Vec<(String, u64)>,
}

/// Whether a size-report crate row names a crate: bracketed rows are sections, padding
/// and symbol-less bytes; `__`-prefixed names are the compiler's own shims (`__rustc`).
pub fn is_crate(name: &str) -> bool {
    !name.starts_with('[') && !name.starts_with("__") && !name.is_empty()
}

/// Matches the crate names with bytes to packages.
pub fn bill(facts: &Facts) -> Bill {
    let candidates = |crate_name: &str| -> Vec<&Package> {
        let mut found: Vec<&Package> = facts
            .runtime
            .iter()
            .chain(&facts.std_library)
            .filter(|p| p.crate_name == crate_name)
            .collect();
        found.sort_by(|a, b| (&a.name, &a.version, &a.source).cmp(&(&b.name, &b.version, &b.source)));
        found.dedup_by(|a, b| a.name == b.name && a.version == b.version && a.source == b.source);
        found
    };
    let mut present = Vec::new();
    let mut unmatched = Vec::new();
    let mut application_bytes = 0;
    for (crate_name, &bytes) in &facts.crate_bytes {
        if !is_crate(crate_name) || bytes == 0 {
            continue;
        }
        if *crate_name == facts.application.crate_name {
            application_bytes = bytes;
            continue;
        }
        let found = candidates(crate_name);
        if found.is_empty() {
            unmatched.push((crate_name.clone(), bytes));
        }
        for package in &found {
            present.push(Present {
                package: (*package).clone(),
                bytes,
                shared_by: found.len(),
            });
        }
    }
    present.sort_by(|a, b| (&a.package.name, &a.package.version).cmp(&(&b.package.name, &b.package.version)));
    let is_present = |p: &Package| {
        present
            .iter()
            .any(|q| q.package.name == p.name && q.package.version == p.version && q.package.source == p.source)
    };
    let mut left_out: Vec<(Package, Reason)> = facts
        .runtime
        .iter()
        .filter(|p| !is_present(p))
        .map(|p| (p.clone(), Reason::NoCodeInImage))
        .chain(facts.build_time.iter().map(|p| (p.clone(), Reason::BuildTimeOnly)))
        .collect();
    left_out.sort_by(|a, b| (a.1, &a.0.name, &a.0.version).cmp(&(b.1, &b.0.name, &b.0.version)));
    left_out.dedup_by(|a, b| a.0.name == b.0.name && a.0.version == b.0.version && a.0.source == b.0.source);
    Bill {
        application_bytes,
        present,
        left_out,
        unmatched,
    }
}

/// The CycloneDX document of `bill`; with `all`, the packages left out are listed too,
/// with scope `excluded` and the reason.
pub fn cyclonedx(facts: &Facts, bill: &Bill, all: bool) -> Value {
    let property = |name: &str, value: String| json!({ "name": name, "value": value });
    let mut components: Vec<Value> = bill
        .present
        .iter()
        .map(|present| {
            let mut component = package_component(&present.package, &facts.rustc);
            let mut properties = vec![
                property("unik:crate", present.package.crate_name.clone()),
                property("unik:bytes", present.bytes.to_string()),
            ];
            if present.shared_by > 1 {
                properties.push(property("unik:bytes-shared-by", present.shared_by.to_string()));
            }
            component["properties"] = json!(properties);
            component
        })
        .collect();
    for (name, description) in &facts.components {
        components.push(json!({
            "type": "library",
            "bom-ref": format!("unik-component:{name}"),
            "group": "unik-components",
            "name": name,
            "version": facts.unik_version,
            "description": description,
        }));
    }
    if all {
        for (package, reason) in &bill.left_out {
            let mut component = package_component(package, &facts.rustc);
            component["scope"] = json!("excluded");
            component["properties"] = json!([property("unik:left-out", reason.describe().into())]);
            components.push(component);
        }
    }
    let application = &facts.application;
    let rustc_version = facts.rustc.split_whitespace().nth(1).unwrap_or("unknown").to_string();
    let mut subject_properties = vec![
        property("unik:target", facts.image.target.clone()),
        property("unik:profile", facts.image.profile.clone()),
        property("unik:image-bytes", facts.image.bytes.to_string()),
        property("unik:crate", application.crate_name.clone()),
        property("unik:bytes", bill.application_bytes.to_string()),
        property("unik:crates-left-out", bill.left_out.len().to_string()),
    ];
    for (name, bytes) in &bill.unmatched {
        subject_properties.push(property("unik:unmatched-crate", format!("{name} ({bytes} bytes)")));
    }
    let mut subject = json!({
        "type": "application",
        "bom-ref": "image",
        "name": application.name,
        "version": application.version,
        "description": format!("unikernel image {} for {}", facts.image.file_name, facts.image.target),
        "hashes": [{ "alg": "SHA-256", "content": facts.image.sha256 }],
        "properties": subject_properties,
    });
    if let Some(license) = &application.license {
        subject["licenses"] = json!([{ "expression": license }]);
    }
    let references: Vec<Value> = components
        .iter()
        .filter(|c| c.get("scope").is_none())
        .filter_map(|c| c.get("bom-ref").cloned())
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number(&facts.image.sha256, all),
        "version": 1,
        "metadata": {
            "tools": { "components": [
                { "type": "application", "name": "unik", "version": facts.unik_version },
                { "type": "application", "name": "rustc", "version": rustc_version, "description": facts.rustc },
            ]},
            "component": subject,
        },
        "components": components,
        "dependencies": [{ "ref": "image", "dependsOn": references }],
    })
}

fn package_component(package: &Package, rustc: &str) -> Value {
    let reference = match package.source {
        Source::Toolchain => format!("rust-std:{}@{}", package.name, package.version),
        _ => format!("{}@{}", package.name, package.version),
    };
    let mut component = json!({
        "type": "library",
        "bom-ref": reference,
        "name": package.name,
        "version": package.version,
    });
    match &package.source {
        Source::Registry(url) if url == CRATES_IO => {
            component["purl"] = json!(format!("pkg:cargo/{}@{}", package.name, package.version));
        }
        Source::Registry(url) => {
            component["purl"] = json!(format!(
                "pkg:cargo/{}@{}?repository_url={}",
                package.name,
                package.version,
                percent_encoded(url)
            ));
        }
        Source::Git(url) => {
            component["externalReferences"] = json!([{ "type": "vcs", "url": url }]);
        }
        Source::Path => {}
        Source::Toolchain => {
            component["group"] = json!("rust-std");
            component["description"] = json!(format!("Rust's standard library, from {rustc}"));
        }
    }
    if let Some(checksum) = &package.checksum {
        component["hashes"] = json!([{ "alg": "SHA-256", "content": checksum }]);
    }
    if let Some(license) = &package.license {
        component["licenses"] = json!([{ "expression": license }]);
    }
    component
}

/// Percent-encodes what a purl qualifier value may not hold.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A serial number that is the same for the same image (reproducible), in RFC 4122 form.
fn serial_number(image_sha256: &str, all: bool) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("unik-sbom:{image_sha256}:{all}"));
    let mut bytes: [u8; 16] = digest[..16].try_into().unwrap_or_default();
    // Version 8 (custom), variant 10.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The bill as a table for people: the crates in the image, then (with `all`) those
/// left out.
pub fn table(facts: &Facts, bill: &Bill, all: bool) -> String {
    let mut out = format!(
        "{} for {}: {} crates with code in the image, {} left out{}\n\n",
        facts.application.name,
        facts.image.target,
        bill.present.len(),
        bill.left_out.len(),
        if all { "" } else { " (--all lists them)" }
    );
    out += &format!(
        "{:<28} {:<12} {:>8}  {:<24} {}\n",
        "crate", "version", "bytes", "license", "source"
    );
    let mut row = |name: &str, version: &str, bytes: String, license: &str, source: String| {
        out += &format!("{name:<28} {version:<12} {bytes:>8}  {license:<24} {source}\n");
    };
    let application = &facts.application;
    row(
        &application.name,
        &application.version,
        bill.application_bytes.to_string(),
        application.license.as_deref().unwrap_or("-"),
        "the application".into(),
    );
    for present in &bill.present {
        let bytes = if present.shared_by > 1 {
            format!("{}*", present.bytes)
        } else {
            present.bytes.to_string()
        };
        let p = &present.package;
        row(
            &p.name,
            &p.version,
            bytes,
            p.license.as_deref().unwrap_or("-"),
            p.source.describe(),
        );
    }
    if bill.present.iter().any(|p| p.shared_by > 1) {
        out += "* bytes of one crate name that several packages compile to, counted for each\n";
    }
    if !facts.components.is_empty() {
        let names: Vec<&str> = facts.components.iter().map(|(name, _)| name.as_str()).collect();
        out += &format!("\nlibrary-OS components: {}\n", names.join(", "));
    }
    if all && !bill.left_out.is_empty() {
        out += "\nleft out:\n";
        for (package, reason) in &bill.left_out {
            out += &format!("  {:<28} {:<12} {}\n", package.name, package.version, reason.describe());
        }
    }
    out
}

/// One `[[package]]` of a Cargo.lock.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Locked {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source (absent for path packages).
    pub source: Option<String>,
    /// sha256 of the `.crate` file.
    pub checksum: Option<String>,
}

/// A Cargo.lock that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LockError(String);

/// The packages of a Cargo.lock.
pub fn parse_lock(text: &str) -> Result<Vec<Locked>, LockError> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Locked>,
    }
    toml::from_str::<Lock>(text)
        .map(|lock| lock.package)
        .map_err(|e| LockError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str, source: Source) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            crate_name: name.replace('-', "_"),
            source,
            checksum: Some("ab".repeat(32)),
            license: Some("MIT OR Apache-2.0".into()),
        }
    }

    fn facts() -> Facts {
        let crates_io = || Source::Registry(CRATES_IO.into());
        Facts {
            application: Package {
                checksum: None,
                ..package("my-app", "1.0.0", Source::Path)
            },
            runtime: vec![
                package("unik-net", "0.1.0", Source::Path),
                package("smoltcp", "0.12.0", crates_io()),
                package("hashbrown", "0.15.2", crates_io()),
                package("log", "0.4.22", crates_io()),
            ],
            build_time: vec![package("cc", "1.2.0", crates_io())],
            std_library: vec![
                package("core", "1.95.0", Source::Toolchain),
                package("hashbrown", "0.15.5", crates_io()),
            ],
            crate_bytes: [
                ("my_app", 300),
                ("unik_net", 4000),
                ("smoltcp", 20000),
                ("hashbrown", 1500),
                ("core", 9000),
                ("mystery", 12),
                ("[padding]", 64),
                ("__rustc", 100),
            ]
            .into_iter()
            .map(|(name, bytes)| (name.to_string(), bytes))
            .collect(),
            components: vec![("net".into(), "TCP/IP".into())],
            rustc: "rustc 1.95.0 (abc 2026-01-01)".into(),
            unik_version: "0.1.0".into(),
            image: ImageFacts {
                file_name: "my-app".into(),
                sha256: "cd".repeat(32),
                bytes: 4096,
                target: "kvm-x86_64".into(),
                profile: "release".into(),
            },
        }
    }

    #[test]
    fn only_crates_with_bytes_are_in_the_bill_and_the_rest_is_counted() {
        let facts = facts();
        let bill = bill(&facts);
        let names: Vec<(&str, &str)> = bill
            .present
            .iter()
            .map(|p| (p.package.name.as_str(), p.package.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("core", "1.95.0"),
                ("hashbrown", "0.15.2"),
                ("hashbrown", "0.15.5"),
                ("smoltcp", "0.12.0"),
                ("unik-net", "0.1.0")
            ]
        );
        assert!(
            bill.present
                .iter()
                .filter(|p| p.package.name == "hashbrown")
                .all(|p| p.shared_by == 2)
        );
        assert_eq!(bill.application_bytes, 300);
        assert_eq!(bill.unmatched, [("mystery".to_string(), 12)]);
        let left: Vec<(&str, Reason)> = bill.left_out.iter().map(|(p, r)| (p.name.as_str(), *r)).collect();
        assert_eq!(left, [("log", Reason::NoCodeInImage), ("cc", Reason::BuildTimeOnly)]);
    }

    #[test]
    fn the_document_names_the_image_and_each_crate() {
        let facts = facts();
        let bill = bill(&facts);
        let bom = cyclonedx(&facts, &bill, false);
        assert_eq!(bom["specVersion"], "1.5");
        assert_eq!(bom["metadata"]["component"]["hashes"][0]["content"], "cd".repeat(32));
        assert_eq!(bom["metadata"]["tools"]["components"][1]["version"], "1.95.0");
        let components = bom["components"].as_array().unwrap();
        // Five packages and one library-OS component; nothing excluded without --all.
        assert_eq!(components.len(), 6);
        assert!(components.iter().all(|c| c.get("scope").is_none()));
        let smoltcp = components.iter().find(|c| c["name"] == "smoltcp").unwrap();
        assert_eq!(smoltcp["purl"], "pkg:cargo/smoltcp@0.12.0");
        assert_eq!(smoltcp["properties"][0]["value"], "smoltcp");
        assert_eq!(smoltcp["properties"][1]["value"], "20000");
        // Reproducible: the same image gives the same document.
        assert_eq!(bom, cyclonedx(&facts, &bill, false));
        let serial = bom["serialNumber"].as_str().unwrap();
        assert_eq!(serial.len(), "urn:uuid:".len() + 36);
        let all = cyclonedx(&facts, &bill, true);
        let excluded: Vec<&Value> = all["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["scope"] == "excluded")
            .collect();
        assert_eq!(excluded.len(), 2);
    }

    #[test]
    fn cargo_sources_are_told_apart() {
        assert_eq!(
            Source::from_cargo(Some("registry+https://github.com/rust-lang/crates.io-index")),
            Source::Registry(CRATES_IO.into())
        );
        assert_eq!(
            Source::from_cargo(Some("sparse+https://index.crates.io/")),
            Source::Registry(CRATES_IO.into())
        );
        assert_eq!(
            Source::from_cargo(Some("git+https://example.org/x.git#0123")),
            Source::Git("https://example.org/x.git#0123".into())
        );
        assert_eq!(Source::from_cargo(None), Source::Path);
    }

    #[test]
    fn a_lockfile_reads_back_its_packages() {
        let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ff\"\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\n";
        let packages = parse_lock(lock).unwrap();
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].checksum.as_deref(), Some("ff"));
        assert_eq!(packages[1].source, None);
        assert!(parse_lock("[[package]]\nname = 1").is_err());
    }
}
