//! File systems on block devices, as the tree uses them: [`Volume`], inode-numbered
//! operations the tree calls as programs reach the volume's folders (each directory is
//! read once, when a path first walks into it), implemented for `unik-ext2`'s volumes.

use alloc::vec::Vec;
use unik_ext2::{BlockDevice, Ext2, FileKind};

use crate::{Error, FileSystemKind, FileSystemStatistics, FileType};

/// What the tree asks of a volume's inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolumeStat {
    /// File or directory.
    pub file_type: FileType,
    /// Bytes.
    pub size: u64,
    /// Permission bits.
    pub permissions: u32,
    /// Names it has.
    pub links: u64,
    /// Last modification, Unix seconds.
    pub modified: i64,
}

/// A file system on a block device, by inode number.
pub trait Volume: Send {
    /// The root directory's inode.
    fn root(&self) -> u64;
    /// Whether it takes writes.
    fn writable(&self) -> bool;
    /// A directory's entries but `.` and `..`: name, inode, kind (other kinds left out).
    fn entries(&mut self, directory: u64) -> Result<Vec<(Vec<u8>, u64, FileType)>, Error>;
    /// An inode's metadata.
    fn stat(&mut self, node: u64) -> Result<VolumeStat, Error>;
    /// Reads a file at `offset`.
    fn read_at(&mut self, node: u64, offset: u64, buffer: &mut [u8]) -> Result<usize, Error>;
    /// Writes a file at `offset`, as much as fits.
    fn write_at(&mut self, node: u64, offset: u64, bytes: &[u8]) -> Result<usize, Error>;
    /// Sets a file's length.
    fn set_len(&mut self, node: u64, length: u64) -> Result<(), Error>;
    /// Makes an empty file or directory; its inode.
    fn create(&mut self, directory: u64, name: &[u8], file_type: FileType, permissions: u32) -> Result<u64, Error>;
    /// Removes a file's name; the inode when that was its last (for [`Volume::release`]).
    fn unlink(&mut self, directory: u64, name: &[u8]) -> Result<Option<u64>, Error>;
    /// Frees an inode no directory names, once nothing has it open.
    fn release(&mut self, node: u64) -> Result<(), Error>;
    /// Removes an empty directory.
    fn remove_directory(&mut self, directory: u64, name: &[u8]) -> Result<(), Error>;
    /// Renames, replacing the target; a replaced file's inode when that was its last name.
    fn rename(&mut self, from_directory: u64, from: &[u8], to_directory: u64, to: &[u8]) -> Result<Option<u64>, Error>;
    /// Sets permission bits.
    fn set_permissions(&mut self, node: u64, permissions: u32) -> Result<(), Error>;
    /// Sets the modification time (Unix seconds; the volume keeps what it can of it).
    fn set_modified(&mut self, node: u64, modified: i64) -> Result<(), Error>;
    /// Its kind, size and free room, as `statfs` reports them.
    fn statistics(&self) -> FileSystemStatistics;
    /// Makes everything written durable.
    fn sync(&mut self) -> Result<(), Error>;
}

/// The tree's error for an ext2 one.
fn error(error: unik_ext2::Error) -> Error {
    use unik_ext2::Error as E;
    match error {
        E::Device | E::NotExt2 | E::Unsupported(_) | E::Corrupt(_) => Error::Io,
        E::NotFound => Error::NotFound,
        E::Exists => Error::Exists,
        E::NotDirectory => Error::NotDirectory,
        E::IsDirectory => Error::IsDirectory,
        E::NotEmpty => Error::NotEmpty,
        E::NoSpace => Error::NoSpace,
        E::ReadOnly => Error::ReadOnly,
        E::NameTooLong => Error::NameTooLong,
        E::TooLarge => Error::TooLarge,
        E::Invalid => Error::Invalid,
    }
}

/// An inode number as ext2 has them (the tree's are wider).
fn inode(node: u64) -> Result<u32, Error> {
    u32::try_from(node).map_err(|_| Error::Io)
}

impl<D: BlockDevice + Send> Volume for Ext2<D> {
    fn root(&self) -> u64 {
        u64::from(Ext2::root(self))
    }

    fn writable(&self) -> bool {
        self.is_writable()
    }

    fn entries(&mut self, directory: u64) -> Result<Vec<(Vec<u8>, u64, FileType)>, Error> {
        let entries = Ext2::entries(self, inode(directory)?).map_err(error)?;
        let entries = entries.into_iter().filter_map(|(name, number, kind)| {
            let file_type = match kind {
                FileKind::File => FileType::File,
                FileKind::Directory => FileType::Directory,
                FileKind::Other => return None,
            };
            (name != b"." && name != b"..").then_some((name, u64::from(number), file_type))
        });
        Ok(entries.collect())
    }

    fn stat(&mut self, node: u64) -> Result<VolumeStat, Error> {
        let stat = Ext2::stat(self, inode(node)?).map_err(error)?;
        Ok(VolumeStat {
            file_type: if stat.kind == FileKind::Directory {
                FileType::Directory
            } else {
                FileType::File
            },
            size: stat.size,
            permissions: u32::from(stat.permissions),
            links: u64::from(stat.links),
            modified: i64::from(stat.modified),
        })
    }

    fn read_at(&mut self, node: u64, offset: u64, buffer: &mut [u8]) -> Result<usize, Error> {
        Ext2::read_at(self, inode(node)?, offset, buffer).map_err(error)
    }

    fn write_at(&mut self, node: u64, offset: u64, bytes: &[u8]) -> Result<usize, Error> {
        Ext2::write_at(self, inode(node)?, offset, bytes).map_err(error)
    }

    fn set_len(&mut self, node: u64, length: u64) -> Result<(), Error> {
        Ext2::set_len(self, inode(node)?, length).map_err(error)
    }

    fn create(&mut self, directory: u64, name: &[u8], file_type: FileType, permissions: u32) -> Result<u64, Error> {
        let kind = match file_type {
            FileType::File => FileKind::File,
            FileType::Directory => FileKind::Directory,
        };
        let number = Ext2::create(self, inode(directory)?, name, kind, permissions as u16).map_err(error)?;
        Ok(u64::from(number))
    }

    fn unlink(&mut self, directory: u64, name: &[u8]) -> Result<Option<u64>, Error> {
        let released = Ext2::unlink(self, inode(directory)?, name).map_err(error)?;
        Ok(released.map(u64::from))
    }

    fn release(&mut self, node: u64) -> Result<(), Error> {
        Ext2::release(self, inode(node)?).map_err(error)
    }

    fn remove_directory(&mut self, directory: u64, name: &[u8]) -> Result<(), Error> {
        Ext2::remove_directory(self, inode(directory)?, name).map_err(error)
    }

    fn rename(&mut self, from_directory: u64, from: &[u8], to_directory: u64, to: &[u8]) -> Result<Option<u64>, Error> {
        let released = Ext2::rename(self, inode(from_directory)?, from, inode(to_directory)?, to).map_err(error)?;
        Ok(released.map(u64::from))
    }

    fn set_permissions(&mut self, node: u64, permissions: u32) -> Result<(), Error> {
        Ext2::set_permissions(self, inode(node)?, permissions as u16).map_err(error)
    }

    fn statistics(&self) -> FileSystemStatistics {
        let (block_size, blocks, free_blocks, files, free_files) = Ext2::statistics(self);
        FileSystemStatistics {
            kind: FileSystemKind::Ext2,
            block_size: block_size as u64,
            blocks,
            free_blocks,
            files,
            free_files,
            writable: self.is_writable(),
        }
    }

    /// ext2 keeps 32-bit times: earlier or later ones are clamped to its range, as Linux
    /// does.
    fn set_modified(&mut self, node: u64, modified: i64) -> Result<(), Error> {
        let modified = modified.clamp(0, i64::from(u32::MAX)) as u32;
        Ext2::set_modified(self, inode(node)?, modified).map_err(error)
    }

    fn sync(&mut self) -> Result<(), Error> {
        Ext2::sync(self).map_err(error)
    }
}
