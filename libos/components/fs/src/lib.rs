//! The files component: one tree of paths holding the packed files `unik build` put in
//! the initial ramdisk (read-only, served from the ramdisk's memory without copying), RAM
//! file systems (`/tmp`, and wherever the manifest says), each with a size limit that ends
//! in [`Error::NoSpace`], never in a crash, and volumes: ext2 file systems on block
//! devices ([`Volume`]).
//!
//! This crate is the data structure only ([`Tree`]): portable, without a platform, so it is
//! unit-tested on the host. The C library (`unik-libc`'s `file` module) owns the one tree
//! of a program, made on the first file call, and maps [`Error`] to `errno`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod path;
mod tree;
mod volume;

pub use tree::{DirectoryEntry, NodeId, OpenOptions, Tree};
pub use volume::{Volume, VolumeStat};

/// Why a file operation failed (each is one `errno` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No such file or directory (`ENOENT`).
    NotFound,
    /// It exists already (`EEXIST`).
    Exists,
    /// A path component, or the file asked for as a directory, is not one (`ENOTDIR`).
    NotDirectory,
    /// A directory where a file is needed (`EISDIR`).
    IsDirectory,
    /// A directory that still has entries (`ENOTEMPTY`).
    NotEmpty,
    /// The file system is read-only: the packed files (`EROFS`).
    ReadOnly,
    /// The RAM file system's limit is reached, or memory ran out (`ENOSPC`).
    NoSpace,
    /// A name that cannot be used here: `.`, `..`, a rename into itself (`EINVAL`).
    Invalid,
    /// A path component longer than [`NAME_MAX`] bytes (`ENAMETOOLONG`).
    NameTooLong,
    /// A rename between two file systems (`EXDEV`).
    CrossDevice,
    /// A mount point, which cannot be removed or renamed (`EBUSY`).
    Busy,
    /// A volume's device failed, or its file system is damaged (`EIO`).
    Io,
    /// A file larger than its file system can hold (`EFBIG`).
    TooLarge,
}

/// The longest name of a directory entry, as on Linux.
pub const NAME_MAX: usize = 255;

/// What kind of file a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Directory,
}

/// What `stat` says about a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// File or directory.
    pub file_type: FileType,
    /// Permission bits (`0o644`, …).
    pub permissions: u32,
    /// Bytes in the file (a directory: 4096, as ext4 says).
    pub size: u64,
    /// Last modification, seconds since the Unix epoch.
    pub modified: i64,
    /// The inode number, unique among live nodes.
    pub inode: u64,
    /// Names the node has (a directory: 2 plus its subdirectories).
    pub links: u64,
    /// The file system it is on (0: the packed files; RAM file systems from 1).
    pub device: u64,
}

/// What kind of file system holds a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileSystemKind {
    /// The packed files of the initial ramdisk, read-only.
    Packed,
    /// A RAM file system with a size limit.
    Ram,
    /// An ext2 volume on a disk.
    Ext2,
}

/// What `statfs` says about the file system holding a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSystemStatistics {
    /// Its kind.
    pub kind: FileSystemKind,
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks in all.
    pub blocks: u64,
    /// Blocks free.
    pub free_blocks: u64,
    /// Inodes in all (0 where there is no such limit).
    pub files: u64,
    /// Inodes free.
    pub free_files: u64,
    /// Whether it takes writes.
    pub writable: bool,
}

/// A RAM file system to mount: where, and how many bytes of file contents it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamMount<'p> {
    /// An absolute path.
    pub path: &'p str,
    /// The most bytes its files may hold together.
    pub limit: u64,
}

/// Reads `UNIK_FS_RAM`'s syntax, which the builder writes from the manifest:
/// `PATH=BYTES` pairs separated by `;` (malformed pairs are skipped).
pub fn ram_mounts(spec: &str) -> impl Iterator<Item = RamMount<'_>> {
    spec.split(';').filter_map(|pair| {
        let (path, limit) = pair.split_once('=')?;
        Some(RamMount {
            path,
            limit: limit.parse().ok()?,
        })
    })
}
