//! The build record: the JSON file `<package>.json` the builder writes beside every image,
//! and the one description of a built image that the runner, the size report and the
//! CLI's JSON message read (instead of parsing the image again).

use crate::LoadedSizes;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the record's layout; a record of another version is rebuilt, not guessed at.
pub const SCHEMA: u32 = 3;

/// A device a component needs from the VM (`devices` in `configs/components.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Device {
    /// A console to print on.
    Console,
    /// A network interface.
    Nic,
    /// A block device.
    Disk,
}

impl Device {
    /// Its name in the catalog.
    pub fn name(self) -> &'static str {
        match self {
            Device::Console => "console",
            Device::Nic => "nic",
            Device::Disk => "disk",
        }
    }
}

/// A finished, verified image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// [`SCHEMA`].
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
    /// The `xl` configuration written beside the image (Xen targets).
    pub xl: Option<PathBuf>,
    /// The image's software bill of materials (CycloneDX JSON) beside it.
    #[serde(default)]
    pub sbom: Option<PathBuf>,
    /// Size of the image file.
    pub bytes: u64,
    /// Memory the loaded segments occupy.
    pub loaded_bytes: u64,
    /// Loaded bytes by kind.
    pub loaded: LoadedSizes,
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
    /// Devices the image's components need from the VM.
    pub devices: Vec<Device>,
    /// The dom0 bridge of the image's `vif` (an image with a NIC on a Xen target).
    pub vif_bridge: Option<String>,
    /// The packed files the image boots with as its initial ramdisk.
    #[serde(default)]
    pub files: Option<PackedFiles>,
    /// Where its volumes are mounted, in the order `unik run` attaches their disks.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Version of unik that built it.
    pub unik_version: String,
}

/// The archive of an image's packed files (`package.metadata.unik.files`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedFiles {
    /// The newc cpio archive beside the image.
    pub archive: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Files and folders in it.
    pub entries: u64,
}

/// A record that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No record beside the image.
    #[error("`{0}` has no build record beside it; unik reports only on images it built (build it with `unik build`)")]
    Missing(PathBuf),
    /// Not readable.
    #[error("cannot read the build record `{path}`: {source}")]
    Io {
        /// The record.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not a record of this version.
    #[error("`{path}` is not a build record this unik reads ({message}); rebuild the image with `unik build`")]
    Invalid {
        /// The record.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl BuildRecord {
    /// Where the record of `image` is: `<image>.json`.
    pub fn path_beside(image: &Path) -> PathBuf {
        let mut name = image.file_name().unwrap_or_default().to_os_string();
        name.push(".json");
        image.with_file_name(name)
    }

    /// Reads the record beside `image`.
    pub fn beside(image: &Path) -> Result<BuildRecord, RecordError> {
        let path = Self::path_beside(image);
        if !path.is_file() {
            return Err(RecordError::Missing(image.to_path_buf()));
        }
        let mut record = Self::read(&path)?;
        // The record travels with the image (copied elsewhere, or its folder moved): its
        // files are the ones beside it, not where the build first wrote them.
        let sibling = |suffix: &str| {
            let mut name = image.file_name().unwrap_or_default().to_os_string();
            name.push(suffix);
            image.with_file_name(name)
        };
        record.elf = sibling(".elf");
        record.xl = record.xl.as_ref().map(|_| sibling(".xl"));
        record.sbom = record.sbom.as_ref().map(|_| sibling(".cdx.json"));
        record.image = image.to_path_buf();
        Ok(record)
    }

    /// Reads the record at `path`.
    pub fn read(path: &Path) -> Result<BuildRecord, RecordError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Reads a record from its JSON `text` (read from `path`, which errors name).
    pub fn parse(text: &str, path: &Path) -> Result<BuildRecord, RecordError> {
        let invalid = |message: String| RecordError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        if schema != Some(u64::from(SCHEMA)) {
            return Err(invalid(format!(
                "schema {}, this unik reads {SCHEMA}",
                schema.map_or("(none)".to_string(), |s| s.to_string())
            )));
        }
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }

    /// The record as the JSON text written beside the image.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a build record always serialises") + "\n"
    }

    /// Whether the image needs `device` from the VM.
    pub fn needs(&self, device: Device) -> bool {
        self.devices.contains(&device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BuildRecord {
        BuildRecord {
            schema: SCHEMA,
            package: "hello".into(),
            target: "kvm-arm64".into(),
            profile: "dev".into(),
            image: "/out/hello".into(),
            elf: "/out/hello.elf".into(),
            xl: None,
            sbom: None,
            bytes: 4096,
            loaded_bytes: 8192,
            loaded: LoadedSizes {
                text: 4096,
                rodata: 0,
                data: 0,
                bss: 4096,
            },
            entry: "0x0".into(),
            memory_required: 8192,
            memory: 64 << 20,
            components: vec!["net".into()],
            stripped: vec![],
            devices: vec![Device::Console, Device::Nic],
            vif_bridge: None,
            files: None,
            volumes: vec![],
            unik_version: "0.1.0".into(),
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let folder = tempfile::tempdir().unwrap();
        let image = folder.path().join("hello");
        let written = BuildRecord {
            image: image.clone(),
            elf: folder.path().join("hello.elf"),
            ..sample()
        };
        std::fs::write(BuildRecord::path_beside(&image), written.to_json()).unwrap();
        let read = BuildRecord::beside(&image).unwrap();
        assert_eq!(read, written);
        assert!(read.needs(Device::Nic) && !read.needs(Device::Disk));
    }

    #[test]
    fn a_copied_record_names_the_files_beside_the_copy() {
        let folder = tempfile::tempdir().unwrap();
        let copy = folder.path().join("hello-copy");
        let original = BuildRecord {
            xl: Some("/out/hello.xl".into()),
            sbom: None,
            ..sample()
        };
        std::fs::write(BuildRecord::path_beside(&copy), original.to_json()).unwrap();
        let read = BuildRecord::beside(&copy).unwrap();
        assert_eq!(read.image, copy);
        assert_eq!(read.elf, folder.path().join("hello-copy.elf"));
        assert_eq!(read.xl, Some(folder.path().join("hello-copy.xl")));
        assert_eq!(read.memory, original.memory);
    }

    #[test]
    fn missing_and_foreign_records_are_named() {
        let folder = tempfile::tempdir().unwrap();
        let image = folder.path().join("true");
        let missing = BuildRecord::beside(&image).unwrap_err().to_string();
        assert!(missing.contains("no build record"), "{missing}");
        std::fs::write(BuildRecord::path_beside(&image), "{\"schema\": 1}").unwrap();
        let old = BuildRecord::beside(&image).unwrap_err().to_string();
        assert!(old.contains("schema 1, this unik reads 3"), "{old}");
    }
}
