//! Collects the package names of the library OS (`libos/**/Cargo.toml`), so the catalog
//! can be validated against them when unik runs.

use std::path::Path;

fn packages(dir: &Path, depth: u32, names: &mut Vec<String>) {
    let manifest = dir.join("Cargo.toml");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        println!("cargo:rerun-if-changed={}", manifest.display());
        let mut in_package = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_package = line == "[package]";
            } else if in_package && let Some(value) = line.strip_prefix("name") {
                let name = value.trim_start().trim_start_matches('=').trim().trim_matches('"');
                names.push(name.to_string());
            }
        }
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target" && n != "src") {
            packages(&path, depth - 1, names);
        }
    }
}

fn main() {
    // Read when the script runs (a compiled script can be reused for another checkout).
    let libos = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../libos");
    println!("cargo:rerun-if-changed={}", libos.display());
    let mut names = Vec::new();
    packages(&libos, 3, &mut names);
    names.sort();
    names.dedup();
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("libos_crates.rs");
    std::fs::write(out, format!("pub(crate) const LIBOS_CRATES: &[&str] = &{names:?};\n")).unwrap();
}
