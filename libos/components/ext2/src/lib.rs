//! An ext2 file system on a block device, read and written: the format the host makes with
//! `mke2fs`, checks with `e2fsck` and reads with `debugfs`, so a volume's contents can be
//! prepared and inspected with Debian's own tools.
//!
//! What it handles: revision 1 (and 0) file systems with 1, 2 or 4 KiB blocks and any inode
//! size, the `filetype` directory entries, sparse superblock backups, large files;
//! files with direct, indirect, double and triple indirect blocks (holes read as zeroes);
//! directories as linear lists of entries (an htree index is never written; the flag is
//! cleared on a directory this code changes, as the kernel does when it meets one it
//! cannot index). Volumes with features that change the on-disk layout (extents, 64-bit,
//! flexible groups, metadata checksums, a journal to replay) are refused with the feature
//! named; with an unknown read-only-compatible feature the volume opens read-only.
//!
//! Metadata is written through to the device as it changes, each change in an order that
//! leaves at worst a leaked block or inode after a crash (bitmaps before the pointers to
//! what they allocate); [`Ext2::sync`] asks the device to make everything durable.
//!
//! Portable and allocation-light: unit-tested on the host against files made by `mke2fs`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod layout;
mod volume;

pub use volume::{Ext2, FileKind, Stat};

pub use unik_platform_api::block::{BlockDevice, DeviceError, SECTOR_SIZE};

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The device failed (`EIO`).
    Device,
    /// No ext2 superblock (magic 0xEF53) at byte 1024: not an ext2 file system.
    NotExt2,
    /// The file system uses a feature this code does not handle (its name).
    Unsupported(&'static str),
    /// A structure points outside the file system or contradicts itself (`EIO`; run
    /// `e2fsck`).
    Corrupt(&'static str),
    /// No such entry (`ENOENT`).
    NotFound,
    /// The name exists (`EEXIST`).
    Exists,
    /// Not a directory (`ENOTDIR`).
    NotDirectory,
    /// A directory (`EISDIR`).
    IsDirectory,
    /// The directory has entries (`ENOTEMPTY`).
    NotEmpty,
    /// No free block or inode (`ENOSPC`).
    NoSpace,
    /// The device or the file system is read-only (`EROFS`).
    ReadOnly,
    /// A name longer than 255 bytes (`ENAMETOOLONG`).
    NameTooLong,
    /// A file larger than the file system's blocks can map (`EFBIG`).
    TooLarge,
    /// A rename of a directory into itself, or of `.`/`..` (`EINVAL`).
    Invalid,
}

impl From<DeviceError> for Error {
    fn from(_: DeviceError) -> Error {
        Error::Device
    }
}
