//! Embeds every `*/target.toml` in this folder and every linker-script template in
//! `../templates/linker/`, so that adding a target is adding a folder.

use std::fmt::Write;
use std::path::Path;

fn embed(out: &mut String, name: &str, dir: &Path, file_in_dir: Option<&str>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    writeln!(out, "pub(crate) const {name}: &[(&str, &str)] = &[").unwrap();
    for path in entries {
        let (key, file) = match file_in_dir {
            Some(file) if path.join(file).is_file() => (path.file_name().unwrap().to_owned(), path.join(file)),
            None if path.is_file() => (path.file_name().unwrap().to_owned(), path.clone()),
            _ => continue,
        };
        println!("cargo:rerun-if-changed={}", file.display());
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            key.to_str().unwrap(),
            file.canonicalize().unwrap()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn main() {
    // Read when the script runs, not when it was compiled: a build script binary can be
    // reused for another checkout of the same sources.
    let manifest_dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let manifest_dir = manifest_dir.as_path();
    let templates = manifest_dir.join("../templates/linker");
    println!("cargo:rerun-if-changed={}", manifest_dir.display());
    println!("cargo:rerun-if-changed={}", templates.display());
    let mut out = String::new();
    embed(&mut out, "TARGET_FILES", manifest_dir, Some("target.toml"));
    embed(&mut out, "LINKER_TEMPLATES", &templates, None);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
