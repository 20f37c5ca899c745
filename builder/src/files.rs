//! Packing the manifest's files (`package.metadata.unik.files`) into the newc cpio archive
//! the image boots with as its initial ramdisk, where the files component serves them
//! read-only.
//!
//! Why a ramdisk rather than a section of the image: the archive is a standard format the
//! host can list (`cpio -itv < app.files.cpio`), every loader passes one (QEMU's `-initrd`,
//! Xen's ramdisk module, `xl`'s `ramdisk`), and changing a packed file re-packs it without
//! compiling or linking anything.
//!
//! The archive depends only on the files' names, bytes and executable bits: entries in
//! name order, every time 0, owner root, so the same files give the same archive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::BuildError;
use crate::plan::PackedSource;

/// One entry of the archive.
enum Entry {
    Directory,
    File { host: PathBuf, executable: bool },
}

/// The archive's bytes and how many files and folders it holds.
pub struct Packed {
    /// The newc archive.
    pub bytes: Vec<u8>,
    /// Entries before the trailer.
    pub entries: u64,
}

/// The error for the source packed at `guest`.
fn error(manifest: &Path, guest: &str, message: String) -> BuildError {
    BuildError::Setting {
        key: format!("package.metadata.unik.files.\"{guest}\""),
        manifest: manifest.to_path_buf(),
        message,
    }
}

/// Whether the host file's permissions let anyone execute it.
#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    false
}

/// The archive name of `guest` joined with `relative` (no leading slash; `.` for the root).
fn archive_name(guest: &str, relative: &Path) -> String {
    let mut name = guest.trim_start_matches('/').to_string();
    for part in relative.components() {
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(&part.as_os_str().to_string_lossy());
    }
    if name.is_empty() { ".".into() } else { name }
}

/// Collects what `sources` name (symbolic links followed); a later source replaces an
/// earlier one's entry of the same name.
fn collect(sources: &[PackedSource], manifest: &Path) -> Result<BTreeMap<String, Entry>, BuildError> {
    let mut entries = BTreeMap::new();
    for source in sources {
        let fail = |message: String| error(manifest, &source.guest, message);
        let metadata = std::fs::metadata(&source.host).map_err(|e| {
            fail(format!(
                "cannot pack `{}` ({}): {e}; name a file or folder relative to the manifest's folder",
                source.written.display(),
                source.host.display()
            ))
        })?;
        if metadata.is_file() {
            let executable = is_executable(&metadata);
            let name = archive_name(&source.guest, Path::new(""));
            entries.insert(
                name,
                Entry::File {
                    host: source.host.clone(),
                    executable,
                },
            );
            continue;
        }
        for found in walkdir::WalkDir::new(&source.host)
            .follow_links(true)
            .sort_by_file_name()
        {
            let found = found.map_err(|e| fail(format!("cannot pack `{}`: {e}", source.written.display())))?;
            let relative = found.path().strip_prefix(&source.host).unwrap_or(Path::new(""));
            let name = archive_name(&source.guest, relative);
            let file_type = found.file_type();
            let entry = if file_type.is_dir() {
                Entry::Directory
            } else if file_type.is_file() {
                let metadata = found
                    .metadata()
                    .map_err(|e| fail(format!("cannot pack `{}`: {e}", found.path().display())))?;
                Entry::File {
                    host: found.path().to_path_buf(),
                    executable: is_executable(&metadata),
                }
            } else {
                return Err(fail(format!(
                    "`{}` is neither a file nor a folder (a socket, pipe or device): only files and folders can be packed",
                    found.path().display()
                )));
            };
            entries.insert(name, entry);
        }
    }
    Ok(entries)
}

/// Packs `sources` (from the manifest at `manifest`) into a newc archive.
pub fn pack(sources: &[PackedSource], manifest: &Path) -> Result<Packed, BuildError> {
    let entries = collect(sources, manifest)?;
    let mut bytes = Vec::new();
    for (inode, (name, entry)) in entries.iter().enumerate() {
        let builder = cpio::NewcBuilder::new(name)
            .ino(inode as u32 + 1)
            .uid(0)
            .gid(0)
            .mtime(0);
        let (builder, data) = match entry {
            Entry::Directory => (builder.mode(0o040_755).nlink(2), Vec::new()),
            Entry::File { host, executable } => {
                let data = std::fs::read(host)
                    .map_err(|e| error(manifest, name, format!("cannot read `{}`: {e}", host.display())))?;
                let permissions = if *executable { 0o755 } else { 0o644 };
                (builder.mode(0o100_000 | permissions).nlink(1), data)
            }
        };
        let size = u32::try_from(data.len()).map_err(|_| {
            error(
                manifest,
                name,
                format!(
                    "`{name}` is {} bytes: a packed file must be smaller than 4 GiB",
                    data.len()
                ),
            )
        })?;
        let mut writer = builder.write(&mut bytes, size);
        std::io::Write::write_all(&mut writer, &data).expect("writing to memory cannot fail");
        writer.finish().expect("writing to memory cannot fail");
    }
    cpio::newc::trailer(&mut bytes).expect("writing to memory cannot fail");
    Ok(Packed {
        bytes,
        entries: entries.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(guest: &str, host: &Path) -> PackedSource {
        PackedSource {
            guest: guest.into(),
            written: host.file_name().map(PathBuf::from).unwrap_or_default(),
            host: host.to_path_buf(),
        }
    }

    #[test]
    fn folders_and_files_pack_in_name_order_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::create_dir_all(config.join("sub")).unwrap();
        std::fs::write(config.join("b.toml"), "b").unwrap();
        std::fs::write(config.join("sub/a.txt"), "aa").unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>").unwrap();
        let sources = [
            source("/etc/app", &config),
            source("/srv/index.html", &dir.path().join("index.html")),
        ];
        let manifest = dir.path().join("Cargo.toml");
        let packed = pack(&sources, &manifest).unwrap();
        assert_eq!(packed.entries, 5);
        // Read back with the `cpio` crate's reader.
        let mut names = Vec::new();
        let mut rest = std::io::Cursor::new(packed.bytes.clone());
        loop {
            let mut reader = cpio::NewcReader::new(rest).unwrap();
            if reader.entry().is_trailer() {
                break;
            }
            let entry = reader.entry();
            names.push((entry.name().to_string(), entry.mode(), entry.mtime(), entry.file_size()));
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut reader, &mut data).unwrap();
            rest = reader.finish().unwrap();
        }
        assert_eq!(
            names,
            [
                ("etc/app".to_string(), 0o040755, 0, 0),
                ("etc/app/b.toml".to_string(), 0o100644, 0, 1),
                ("etc/app/sub".to_string(), 0o040755, 0, 0),
                ("etc/app/sub/a.txt".to_string(), 0o100644, 0, 2),
                ("srv/index.html".to_string(), 0o100644, 0, 4),
            ]
        );
        // The same files give the same bytes.
        assert_eq!(pack(&sources, &manifest).unwrap().bytes, packed.bytes);
    }

    #[test]
    fn a_missing_source_names_the_key_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let message = pack(
            &[source("/etc/app", &dir.path().join("missing"))],
            &dir.path().join("Cargo.toml"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            message.contains("package.metadata.unik.files.\"/etc/app\"") && message.contains("cannot pack `missing`"),
            "{message}"
        );
    }
}
