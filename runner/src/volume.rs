//! Volumes under `unik run`: `--volume HOST_FILE:GUEST_PATH[:ro][:size=SIZE]` attaches a
//! disk image to the VM for the volume the image mounts at `GUEST_PATH` (the manifest's
//! `volumes`). The file holds an ext2 file system the host can check and read with
//! e2fsprogs; with `size=` a missing file is made and formatted with `mke2fs`. Nothing but
//! the volume file is ever written.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use unik_targets::ByteSize;

/// One `--volume` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeOption {
    /// The disk image on the host.
    pub file: PathBuf,
    /// Where the image mounts it.
    pub guest: String,
    /// Attached read-only (`:ro`): the guest gets `EROFS` for every write.
    pub read_only: bool,
    /// Make and format the file with this size if it does not exist (`:size=64M`).
    pub size: Option<ByteSize>,
}

/// Why a `--volume` value was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--volume {value:?}: {problem}; write HOST_FILE:GUEST_PATH, optionally with :ro and :size=64M after (data.img:/data:size=64M)"
)]
pub struct BadVolumeOption {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FromStr for VolumeOption {
    type Err = BadVolumeOption;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = |problem: String| BadVolumeOption {
            value: value.to_string(),
            problem,
        };
        let mut parts = value.split(':');
        let file = parts.next().unwrap_or_default();
        let Some(guest) = parts.next() else {
            return Err(bad("no guest path".into()));
        };
        if file.is_empty() {
            return Err(bad("the host file is empty".into()));
        }
        if !guest.starts_with('/') {
            return Err(bad(format!("`{guest}` is not an absolute guest path")));
        }
        let mut option = VolumeOption {
            file: PathBuf::from(file),
            guest: guest.trim_end_matches('/').to_string(),
            read_only: false,
            size: None,
        };
        for part in parts {
            match part.split_once('=') {
                None if part == "ro" => option.read_only = true,
                Some(("size", size)) => {
                    let size: ByteSize = size.parse().map_err(|e| bad(format!("{e}")))?;
                    if size.bytes() < 1 << 20 {
                        return Err(bad(format!(
                            "size={size} is too small for a file system: give at least 1M"
                        )));
                    }
                    option.size = Some(size);
                }
                _ => return Err(bad(format!("`{part}` is neither `ro` nor `size=SIZE`"))),
            }
        }
        if option.guest.is_empty() {
            return Err(bad("`/` holds the packed files, not a volume".into()));
        }
        Ok(option)
    }
}

/// Makes the volume `file` if it is missing and `size` is given (a sparse file of that
/// size, formatted by `mke2fs` as ext2), then checks that it holds ext2.
pub fn ensure(shell: &unik_ui::Shell, file: &Path, size: Option<ByteSize>) -> Result<(), crate::RunError> {
    let bad = |problem: String| crate::RunError::BadVolumeFile {
        file: file.to_path_buf(),
        problem,
    };
    if !file.exists() {
        let Some(size) = size else {
            return Err(bad(
                "the file does not exist: add :size=64M to have unik make an empty ext2 volume, or make one with `mke2fs -t ext2 FILE 64M`".into(),
            ));
        };
        let made = std::fs::File::create_new(file).and_then(|created| created.set_len(size.bytes()));
        made.map_err(|e| bad(format!("cannot make it: {e}")))?;
        let program = ["/usr/sbin/mke2fs", "/sbin/mke2fs"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .unwrap_or("mke2fs");
        let mut command = shell.command(program);
        command.args(["-q", "-F", "-t", "ext2"]).arg(file);
        shell.echo(&command);
        let output = command.output();
        let failure = match output {
            Ok(output) if output.status.success() => None,
            Ok(output) => Some(String::from_utf8_lossy(&output.stderr).trim().to_string()),
            Err(e) => Some(format!(
                "{e} (install Debian's e2fsprogs: `sudo apt-get install e2fsprogs`)"
            )),
        };
        if let Some(failure) = failure {
            let _ = std::fs::remove_file(file);
            return Err(bad(format!("mke2fs could not format it: {failure}")));
        }
    }
    match is_ext2(file) {
        Ok(true) => Ok(()),
        Ok(false) => Err(bad(
            "it holds no ext2 file system: give a file made with `mke2fs -t ext2`, or a new path with :size=64M".into(),
        )),
        Err(e) => Err(bad(format!("cannot read it: {e}"))),
    }
}

/// Where ext2's superblock magic is, and what it is (0xEF53, little-endian).
const MAGIC_OFFSET: u64 = 1024 + 56;
const MAGIC: [u8; 2] = [0x53, 0xEF];

/// Whether `file` starts like an ext2 file system (its superblock's magic).
pub fn is_ext2(file: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut opened = std::fs::File::open(file)?;
    if opened.metadata()?.len() < MAGIC_OFFSET + 2 {
        return Ok(false);
    }
    opened.seek(SeekFrom::Start(MAGIC_OFFSET))?;
    let mut magic = [0; 2];
    opened.read_exact(&mut magic)?;
    Ok(magic == MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_bad_ones_say_why() {
        let option: VolumeOption = "data.img:/data:size=64M".parse().unwrap();
        assert_eq!(
            option,
            VolumeOption {
                file: "data.img".into(),
                guest: "/data".into(),
                read_only: false,
                size: Some(ByteSize::new(64 << 20)),
            }
        );
        let option: VolumeOption = "/v/keys.img:/keys/:ro".parse().unwrap();
        assert!(option.read_only && option.guest == "/keys" && option.size.is_none());
        for (value, problem) in [
            ("data.img", "no guest path"),
            (":/data", "the host file is empty"),
            ("data.img:data", "not an absolute guest path"),
            ("data.img:/data:rw", "neither `ro` nor `size=SIZE`"),
            ("data.img:/data:size=lots", "not a size"),
            ("data.img:/data:size=64K", "too small"),
            ("data.img:/", "holds the packed files"),
        ] {
            let message = value.parse::<VolumeOption>().unwrap_err().to_string();
            assert!(message.contains(problem), "{value}: {message}");
        }
    }

    #[test]
    fn ext2_is_told_by_its_magic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.img");
        let mut bytes = vec![0; 4096];
        std::fs::write(&file, &bytes).unwrap();
        assert!(!is_ext2(&file).unwrap());
        bytes[1080..1082].copy_from_slice(&MAGIC);
        std::fs::write(&file, &bytes).unwrap();
        assert!(is_ext2(&file).unwrap());
        std::fs::write(&file, b"short").unwrap();
        assert!(!is_ext2(&file).unwrap());
    }
}
