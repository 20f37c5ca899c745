//! Files and directories (the files component): the C functions std's `fs` calls, over
//! the program's one [`unik_fs::Tree`] — the packed files of the initial ramdisk at `/`,
//! read-only, and the RAM file systems the manifest mounts (`/tmp` by default).
//!
//! The tree is made on the first call that needs it, from the platform's initial ramdisk
//! and `UNIK_FS_RAM` (the builder writes it from the manifest). An open file is a
//! descriptor object ([`OpenFile`]) whose reads, writes, seeks and `fstat` go through the
//! descriptor table's vtable, so `read`, `lseek` and `fstat` reach this module only in
//! programs that open a file.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::ffi::{CStr, c_char, c_int, c_uint, c_void};
use core::task::Waker;
use spinning_top::Spinlock;
use unik_fs::{Error, FileType, Metadata, NodeId, OpenOptions, Tree};
use unik_platform::{BootInfo, Current};

use crate::descriptor::{self, File, Readiness};
use crate::errno::{self, EBADF, EFAULT, EINVAL, ERANGE, fail, fail_size};
use crate::shared_file;

/// The RAM file systems when the manifest names none: 4 MiB at `/tmp`.
const DEFAULT_RAM_MOUNTS: &str = "/tmp=4194304";

/// The program's files, made on first use.
static TREE: Spinlock<Option<Tree<'static>>> = Spinlock::new(None);

/// Runs `action` on the tree, making it first if this is the first file call.
fn with_tree<R>(action: impl FnOnce(&mut Tree<'static>) -> R) -> R {
    let mut tree = TREE.lock();
    let tree = tree.get_or_insert_with(|| {
        let mounts = option_env!("UNIK_FS_RAM").unwrap_or(DEFAULT_RAM_MOUNTS);
        let mut tree = Tree::new(
            Current::initial_ramdisk(),
            unik_fs::ram_mounts(mounts),
            crate::time::wall_clock_seconds,
        );
        // Only images whose manifest declares volumes carry a disk driver and ext2.
        if let Some(paths) = option_env!("UNIK_FS_VOLUMES") {
            mount_volumes(&mut tree, paths);
        }
        tree
    });
    action(tree)
}

/// Mounts the volumes at `paths` (`;`-separated, as the builder writes the manifest's
/// `volumes`), each from the VM's disk of the same position (`unik run` attaches them in
/// this order). A volume that cannot be mounted is said on the console, and its folder
/// stays read-only.
fn mount_volumes(tree: &mut Tree<'static>, paths: &str) {
    use unik_platform::block::DiskDriver;
    for (index, path) in paths.split(';').filter(|path| !path.is_empty()).enumerate() {
        let (problem, detail) = match <unik_platform::Disk as DiskDriver<Current>>::open(index) {
            None => ("no disk is attached for it (unik run --volume FILE:PATH)", ""),
            Some(disk) => match unik_ext2::Ext2::open(disk, wall_clock_seconds_u32) {
                Ok(volume) => match tree.mount_volume(path, Box::new(volume)) {
                    Ok(()) => continue,
                    Err(_) => ("its path cannot hold a volume", ""),
                },
                Err(unik_ext2::Error::NotExt2) => ("its disk holds no ext2 file system", ""),
                Err(unik_ext2::Error::Unsupported(feature)) => {
                    ("its file system uses a feature unik's ext2 lacks: ", feature)
                }
                Err(_) => ("its disk could not be read", ""),
            },
        };
        for piece in ["unik: the volume at ", path, " is not mounted: ", problem, detail, "\n"] {
            unik_console::write_str(piece);
        }
    }
}

/// The wall clock in Unix seconds, as ext2 keeps its times.
fn wall_clock_seconds_u32() -> u32 {
    crate::time::wall_clock_seconds().clamp(0, i64::from(u32::MAX)) as u32
}

/// The `errno` value of a file error.
fn code(error: Error) -> c_int {
    match error {
        Error::NotFound => libc::ENOENT,
        Error::Exists => libc::EEXIST,
        Error::NotDirectory => libc::ENOTDIR,
        Error::IsDirectory => libc::EISDIR,
        Error::NotEmpty => libc::ENOTEMPTY,
        Error::ReadOnly => libc::EROFS,
        Error::NoSpace => libc::ENOSPC,
        Error::Invalid => EINVAL,
        Error::NameTooLong => libc::ENAMETOOLONG,
        Error::CrossDevice => libc::EXDEV,
        Error::Busy => libc::EBUSY,
        Error::Io => libc::EIO,
        Error::TooLarge => libc::EFBIG,
    }
}

/// The C string at `path`, or `EFAULT`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
unsafe fn path_at<'p>(path: *const c_char) -> Result<&'p [u8], c_int> {
    if path.is_null() {
        return Err(EFAULT);
    }
    // SAFETY: the caller's guarantee.
    Ok(unsafe { CStr::from_ptr(path) }.to_bytes())
}

/// The directory node a `*at` call's `dirfd` names: `None` for `AT_FDCWD`.
fn base(dirfd: c_int) -> Result<Option<NodeId>, c_int> {
    if dirfd == libc::AT_FDCWD {
        return Ok(None);
    }
    let open = descriptor::open(dirfd)?;
    let file = open.downcast::<OpenFile>().ok_or(libc::ENOTDIR)?;
    Ok(Some(file.node))
}

/// Runs `action` on the tree with relative paths starting at `base` (see [`base`]).
fn with_tree_at<R>(base: Option<NodeId>, action: impl FnOnce(&mut Tree<'static>) -> R) -> R {
    with_tree(|tree| match base {
        None => action(tree),
        Some(directory) => {
            let working = tree.working_node();
            tree.set_working_node(directory);
            let result = action(tree);
            tree.set_working_node(working);
            result
        }
    })
}

/// Runs a path call: `action` on the tree with the path at `path` relative to `dirfd`; 0 or
/// -1 with `errno`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
unsafe fn path_call(
    dirfd: c_int,
    path: *const c_char,
    action: impl FnOnce(&mut Tree<'static>, &[u8]) -> Result<(), Error>,
) -> c_int {
    // SAFETY: the caller's guarantee.
    let result = unsafe { path_at(path) }
        .and_then(|path| Ok((base(dirfd)?, path)))
        .and_then(|(base, path)| with_tree_at(base, |tree| action(tree, path)).map_err(code));
    result.map_or_else(fail, |()| 0)
}

/// Runs a descriptor call: `action` on the tree with the node of the file or directory
/// open as `fd` (`EBADF` for any other descriptor); 0 or -1 with `errno`.
fn fd_call(fd: c_int, action: impl FnOnce(&mut Tree<'static>, NodeId) -> Result<(), Error>) -> c_int {
    let result = base(fd).map_err(|_| EBADF).and_then(|node| {
        let node = node.ok_or(EBADF)?;
        with_tree(|tree| action(tree, node)).map_err(code)
    });
    result.map_or_else(fail, |()| 0)
}

/// An open file or directory: its node, offset and access mode.
pub(crate) struct OpenFile {
    pub(crate) node: NodeId,
    offset: Spinlock<u64>,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    append: bool,
}

impl Drop for OpenFile {
    /// The description's last descriptor closed: its `flock` lock ends, then the open.
    fn drop(&mut self) {
        if let Some(release) = crate::lock::release_on_close() {
            release(self.node, self as *const OpenFile as usize);
        }
        with_tree(|tree| tree.close(self.node));
    }
}

/// `st_mode`'s type bits of `file_type`.
fn type_bits(file_type: FileType) -> libc::mode_t {
    match file_type {
        FileType::File => libc::S_IFREG,
        FileType::Directory => libc::S_IFDIR,
    }
}

/// `metadata` as `stat` reports it.
fn fill_status(status: &mut libc::stat, metadata: &Metadata) {
    status.st_dev = metadata.device + 1;
    status.st_ino = metadata.inode;
    status.st_mode = type_bits(metadata.file_type) | metadata.permissions;
    status.st_nlink = metadata.links as _;
    status.st_size = metadata.size as _;
    status.st_blksize = 4096;
    status.st_blocks = metadata.size.div_ceil(512) as _;
    status.st_mtime = metadata.modified as _;
    status.st_atime = metadata.modified as _;
    status.st_ctime = metadata.modified as _;
}

impl OpenFile {
    fn metadata(&self) -> Result<Metadata, c_int> {
        with_tree(|tree| tree.metadata(self.node)).map_err(code)
    }
}

impl File for OpenFile {
    fn read(&self, buffer: &mut [u8], _nonblocking: bool) -> Result<usize, c_int> {
        if !self.readable {
            return Err(EBADF);
        }
        let mut offset = self.offset.lock();
        let count = with_tree(|tree| tree.read_at(self.node, *offset, buffer)).map_err(code)?;
        shared_file::overlay(self.node, *offset, &mut buffer[..count]);
        *offset += count as u64;
        Ok(count)
    }

    fn write(&self, bytes: &[u8], _nonblocking: bool) -> Result<usize, c_int> {
        if !self.writable {
            return Err(EBADF);
        }
        let mut offset = self.offset.lock();
        let count = with_tree(|tree| {
            if self.append {
                *offset = tree.metadata(self.node)?.size;
            }
            tree.write_at(self.node, *offset, bytes)
        })
        .map_err(code)?;
        shared_file::update(self.node, *offset, &bytes[..count]);
        *offset += count as u64;
        Ok(count)
    }

    fn readiness(&self) -> Readiness {
        (libc::POLLIN | libc::POLLOUT) as Readiness
    }

    fn watch(&self, _waker: &Waker) {}

    fn unwatch(&self, _waker: &Waker) {}

    fn mode(&self) -> libc::mode_t {
        self.metadata().map_or(libc::S_IFREG, |metadata| {
            type_bits(metadata.file_type) | metadata.permissions
        })
    }

    fn status(&self, status: &mut libc::stat) -> Result<(), c_int> {
        fill_status(status, &self.metadata()?);
        Ok(())
    }

    fn seek(&self, offset: i64, whence: c_int) -> Result<u64, c_int> {
        let mut position = self.offset.lock();
        let from = match whence {
            libc::SEEK_SET => 0,
            libc::SEEK_CUR => *position,
            libc::SEEK_END => self.metadata()?.size,
            _ => return Err(EINVAL),
        };
        let target = from.checked_add_signed(offset).ok_or(EINVAL)?;
        if target > i64::MAX as u64 {
            return Err(EINVAL);
        }
        *position = target;
        Ok(target)
    }

    fn read_at(&self, buffer: &mut [u8], offset: u64) -> Result<usize, c_int> {
        if !self.readable {
            return Err(EBADF);
        }
        let count = with_tree(|tree| tree.read_at(self.node, offset, buffer)).map_err(code)?;
        shared_file::overlay(self.node, offset, &mut buffer[..count]);
        Ok(count)
    }

    fn write_at(&self, bytes: &[u8], offset: u64) -> Result<usize, c_int> {
        if !self.writable {
            return Err(EBADF);
        }
        let count = with_tree(|tree| tree.write_at(self.node, offset, bytes)).map_err(code)?;
        shared_file::update(self.node, offset, &bytes[..count]);
        Ok(count)
    }

    /// A volume's file: what was written, and a flush request to its device; RAM and
    /// packed files have nowhere further to go.
    ///
    /// What shared mappings of it hold is written first, as Linux's `fsync` writes the
    /// dirty pages of mappings.
    fn sync(&self) -> Result<(), c_int> {
        write_back_views(Some(self.node), None)?;
        with_tree(|tree| tree.sync(self.node)).map_err(code)
    }

    fn set_len(&self, length: u64) -> Result<(), c_int> {
        if !self.writable {
            return Err(EINVAL);
        }
        with_tree(|tree| tree.set_len(self.node, length)).map_err(code)?;
        shared_file::truncate(self.node, length);
        Ok(())
    }

    /// A file mapped shared must be open for reading, and for writing too if the mapping
    /// may store (`EACCES`), as on Linux.
    fn map_shared(&self, offset: u64, length: usize, writable: bool) -> Result<*mut c_void, c_int> {
        if !self.readable || (writable && !self.writable) {
            return Err(libc::EACCES);
        }
        shared_file::map(self.node, offset, length, writable, |bytes| {
            let done = descriptor::read_fully(self, bytes, offset);
            // Past the file's end, a view holds zeroes (as Linux's last page does).
            bytes[done..].fill(0);
        })
    }

    fn unmap_shared(&self, address: *mut c_void) {
        // A failure to write back has no one to go to (`munmap` has succeeded on Linux
        // too by then).
        shared_file::unmap(address, |node, offset, bytes| {
            let _ = write_view(node, offset, bytes);
        });
    }

    fn sync_shared(&self, address: *mut c_void, durable: bool) -> Result<(), c_int> {
        write_back_views(None, Some(address))?;
        match durable {
            true => with_tree(|tree| tree.sync(self.node)).map_err(code),
            false => Ok(()),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Writes the shared views of `node` (or the one at `address`) to their files.
fn write_back_views(node: Option<NodeId>, address: Option<*mut c_void>) -> Result<(), c_int> {
    let mut result = Ok(());
    shared_file::write_back(node, address, |node, offset, bytes| {
        if let Err(error) = write_view(node, offset, bytes) {
            result = Err(error);
        }
    });
    result
}

/// Writes a view's `bytes` to node `node` at `offset`, up to the file's end (a view's last
/// page runs past it; a file cut short since it was mapped keeps its length).
fn write_view(node: NodeId, offset: u64, bytes: &[u8]) -> Result<(), c_int> {
    with_tree(|tree| {
        let size = tree.metadata(node)?.size;
        let count = size.saturating_sub(offset).min(bytes.len() as u64) as usize;
        let mut done = 0;
        while done < count {
            match tree.write_at(node, offset + done as u64, &bytes[done..count])? {
                0 => return Err(Error::NoSpace),
                written => done += written,
            }
        }
        Ok(())
    })
    .map_err(code)
}

/// Opens `path` (relative to `dirfd`) with the `O_*` `flags`; the new descriptor.
/// `/dev/null` is a device of its own, outside the tree (std opens it at start-up for a
/// standard descriptor found closed; programs open it to discard output).
fn open_file(dirfd: c_int, path: &[u8], flags: c_int, mode: c_uint) -> Result<c_int, c_int> {
    if path == b"/dev/null" {
        return Ok(descriptor::install(Arc::new(NullDevice), flags & libc::O_NONBLOCK != 0));
    }
    let access = flags & libc::O_ACCMODE;
    let (readable, writable) = match access {
        libc::O_RDONLY => (true, false),
        libc::O_WRONLY => (false, true),
        libc::O_RDWR => (true, true),
        _ => return Err(EINVAL),
    };
    let options = OpenOptions {
        write: writable,
        create: flags & libc::O_CREAT != 0,
        exclusive: flags & libc::O_EXCL != 0,
        truncate: flags & libc::O_TRUNC != 0,
        directory: flags & libc::O_DIRECTORY != 0,
        permissions: mode & 0o7777 & !0o022,
    };
    let base = base(dirfd)?;
    let node = with_tree_at(base, |tree| tree.open(path, options)).map_err(code)?;
    let file = OpenFile {
        node,
        offset: Spinlock::new(0),
        readable,
        writable,
        append: flags & libc::O_APPEND != 0,
    };
    Ok(descriptor::install(Arc::new(file), flags & libc::O_NONBLOCK != 0))
}

/// `openat(2)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's guarantee.
    let result = unsafe { path_at(path) }.and_then(|path| open_file(dirfd, path, flags, mode));
    result.unwrap_or_else(fail)
}

/// `open(2)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { openat(libc::AT_FDCWD, path, flags, mode) }
}

/// `/dev/null`: reads find the end, writes vanish.
struct NullDevice;

impl File for NullDevice {
    fn read(&self, _buffer: &mut [u8], _nonblocking: bool) -> Result<usize, c_int> {
        Ok(0)
    }

    fn write(&self, bytes: &[u8], _nonblocking: bool) -> Result<usize, c_int> {
        Ok(bytes.len())
    }

    fn readiness(&self) -> Readiness {
        (libc::POLLIN | libc::POLLOUT) as Readiness
    }

    fn watch(&self, _waker: &Waker) {}

    fn unwatch(&self, _waker: &Waker) {}

    fn mode(&self) -> libc::mode_t {
        libc::S_IFCHR | 0o666
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `fstatat(2)` (`AT_EMPTY_PATH`: the descriptor itself; there are no symbolic links to
/// not follow).
///
/// # Safety
/// `path` must be null or a NUL-terminated string, `status` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fstatat(dirfd: c_int, path: *const c_char, status: *mut libc::stat, flags: c_int) -> c_int {
    if status.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: the caller's guarantee.
    let path = match unsafe { path_at(path) } {
        Ok(path) => path,
        Err(code) => return fail(code),
    };
    if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        // SAFETY: the caller's guarantee.
        return unsafe { crate::io::fstat(dirfd, status) };
    }
    let metadata = base(dirfd)
        .and_then(|base| with_tree_at(base, |tree| tree.lookup(path).and_then(|id| tree.metadata(id))).map_err(code));
    match metadata {
        Ok(metadata) => {
            // SAFETY: `stat` is plain integers, for which all zeroes is valid.
            let mut value: libc::stat = unsafe { core::mem::zeroed() };
            fill_status(&mut value, &metadata);
            // SAFETY: the caller guarantees `status` is writable.
            unsafe { status.write(value) };
            0
        }
        Err(code) => fail(code),
    }
}

/// `stat(2)`.
///
/// # Safety
/// As [`fstatat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn stat(path: *const c_char, status: *mut libc::stat) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { fstatat(libc::AT_FDCWD, path, status, 0) }
}

/// `lstat(2)`: there are no symbolic links, so `stat`.
///
/// # Safety
/// As [`fstatat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn lstat(path: *const c_char, status: *mut libc::stat) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { fstatat(libc::AT_FDCWD, path, status, libc::AT_SYMLINK_NOFOLLOW) }
}

/// `faccessat(2)`: everything may be read; writing needs a writable file system.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn faccessat(dirfd: c_int, path: *const c_char, mode: c_int, _flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(dirfd, path, |tree, path| {
            let id = tree.lookup(path)?;
            if mode & libc::W_OK != 0 && !tree.is_writable(id) {
                return Err(Error::ReadOnly);
            }
            Ok(())
        })
    }
}

/// `access(2)`.
///
/// # Safety
/// As [`faccessat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn access(path: *const c_char, mode: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { faccessat(libc::AT_FDCWD, path, mode, 0) }
}

/// `mkdirat(2)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn mkdirat(dirfd: c_int, path: *const c_char, mode: libc::mode_t) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { path_call(dirfd, path, |tree, path| tree.make_directory(path, mode & !0o022)) }
}

/// `mkdir(2)`.
///
/// # Safety
/// As [`mkdirat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn mkdir(path: *const c_char, mode: libc::mode_t) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { mkdirat(libc::AT_FDCWD, path, mode) }
}

/// `unlinkat(2)` (`AT_REMOVEDIR`: the empty directory).
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(dirfd, path, |tree, path| {
            if flags & libc::AT_REMOVEDIR != 0 {
                tree.remove_directory(path)
            } else {
                tree.remove_file(path)
            }
        })
    }
}

/// `unlink(2)`.
///
/// # Safety
/// As [`unlinkat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn unlink(path: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { unlinkat(libc::AT_FDCWD, path, 0) }
}

/// `rmdir(2)`.
///
/// # Safety
/// As [`unlinkat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn rmdir(path: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { unlinkat(libc::AT_FDCWD, path, libc::AT_REMOVEDIR) }
}

/// `renameat(2)`.
///
/// # Safety
/// Both paths must be null or NUL-terminated strings.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn renameat(from_dirfd: c_int, from: *const c_char, to_dirfd: c_int, to: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    let paths = unsafe { path_at(from).and_then(|from| Ok((from, path_at(to)?))) };
    let result = paths.and_then(|(from, to)| {
        let (from_base, to_base) = (base(from_dirfd)?, base(to_dirfd)?);
        with_tree(|tree| {
            // Relative paths against two bases: each made absolute against its own.
            let absolute = |tree: &mut Tree<'static>, base: Option<NodeId>, path: &[u8]| -> Vec<u8> {
                if path.first() == Some(&b'/') {
                    return path.to_vec();
                }
                let mut full = tree.path_of(base.unwrap_or_else(|| tree.working_node()));
                full.push(b'/');
                full.extend_from_slice(path);
                full
            };
            let from = absolute(tree, from_base, from);
            let to = absolute(tree, to_base, to);
            tree.rename(&from, &to)
        })
        .map_err(code)
    });
    result.map_or_else(fail, |()| 0)
}

/// `rename(2)`.
///
/// # Safety
/// As [`renameat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn rename(from: *const c_char, to: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { renameat(libc::AT_FDCWD, from, libc::AT_FDCWD, to) }
}

/// `chdir(2)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn chdir(path: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { path_call(libc::AT_FDCWD, path, |tree, path| tree.change_directory(path)) }
}

/// `fchmodat(2)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fchmodat(dirfd: c_int, path: *const c_char, mode: libc::mode_t, _flags: c_int) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(dirfd, path, |tree, path| {
            let id = tree.lookup(path)?;
            tree.set_permissions(id, mode)
        })
    }
}

/// `chmod(2)`.
///
/// # Safety
/// As [`fchmodat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn chmod(path: *const c_char, mode: libc::mode_t) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { fchmodat(libc::AT_FDCWD, path, mode, 0) }
}

/// `fchmod(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fchmod(fd: c_int, mode: libc::mode_t) -> c_int {
    fd_call(fd, |tree, node| tree.set_permissions(node, mode))
}

/// Whether `owner` and `group` may be given to a file: the image's one user and group are
/// root's (0), and -1 keeps what is; any other `EINVAL` (POSIX's error for an ID the
/// system does not support).
fn check_owners(owner: libc::uid_t, group: libc::gid_t) -> Result<(), Error> {
    const KEEP: u32 = u32::MAX;
    match [owner, group].iter().all(|&id| id == 0 || id == KEEP) {
        true => Ok(()),
        false => Err(Error::Invalid),
    }
}

/// A change of owner on node `id`: nothing to change once checked (every file is root's),
/// but a read-only file refuses it, as on Linux.
fn change_owners(tree: &mut Tree<'static>, id: NodeId, owner: libc::uid_t, group: libc::gid_t) -> Result<(), Error> {
    check_owners(owner, group)?;
    match tree.is_writable(id) {
        true => Ok(()),
        false => Err(Error::ReadOnly),
    }
}

/// `fchownat(2)` (`AT_EMPTY_PATH` with an empty path: `dirfd`'s own file). See
/// [`check_owners`] for the owners a file may have.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fchownat(
    dirfd: c_int,
    path: *const c_char,
    owner: libc::uid_t,
    group: libc::gid_t,
    flags: c_int,
) -> c_int {
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return fail(EINVAL);
    }
    // SAFETY: the caller's guarantee.
    if flags & libc::AT_EMPTY_PATH != 0 && unsafe { path_at(path) }.is_ok_and(<[u8]>::is_empty) {
        return fchown(dirfd, owner, group);
    }
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(dirfd, path, |tree, path| {
            let id = tree.lookup(path)?;
            change_owners(tree, id, owner, group)
        })
    }
}

/// `chown(2)`.
///
/// # Safety
/// As [`fchownat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn chown(path: *const c_char, owner: libc::uid_t, group: libc::gid_t) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { fchownat(libc::AT_FDCWD, path, owner, group, 0) }
}

/// `lchown(2)`: as `chown`, there being no symbolic links.
///
/// # Safety
/// As [`fchownat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn lchown(path: *const c_char, owner: libc::uid_t, group: libc::gid_t) -> c_int {
    // SAFETY: the caller's guarantee.
    unsafe { fchownat(libc::AT_FDCWD, path, owner, group, libc::AT_SYMLINK_NOFOLLOW) }
}

/// `fchown(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fchown(fd: c_int, owner: libc::uid_t, group: libc::gid_t) -> c_int {
    fd_call(fd, |tree, node| change_owners(tree, node, owner, group))
}

/// The modification time a pair of `utimensat` times sets: `None` to keep it
/// (`UTIME_OMIT`). The tree keeps one time per file, the modification time, which `stat`
/// also reports as the access and change times, so the access time asked for is checked
/// and not kept.
///
/// # Safety
/// `times` must be null or point to two `timespec`s.
unsafe fn modified_from(times: *const libc::timespec) -> Result<Option<i64>, c_int> {
    if times.is_null() {
        return Ok(Some(crate::time::wall_clock_seconds()));
    }
    // SAFETY: the caller's guarantee.
    let [accessed, modified] = unsafe { times.cast::<[libc::timespec; 2]>().read() };
    let valid = |time: &libc::timespec| {
        (0..1_000_000_000).contains(&time.tv_nsec) || [libc::UTIME_NOW, libc::UTIME_OMIT].contains(&time.tv_nsec)
    };
    if !valid(&accessed) || !valid(&modified) {
        return Err(EINVAL);
    }
    Ok(match modified.tv_nsec {
        libc::UTIME_OMIT => None,
        libc::UTIME_NOW => Some(crate::time::wall_clock_seconds()),
        _ => Some(modified.tv_sec),
    })
}

/// Sets node `id`'s modification time to `modified`, if there is one to set.
fn set_modified(tree: &mut Tree<'static>, id: NodeId, modified: Option<i64>) -> Result<(), Error> {
    match modified {
        Some(seconds) => tree.set_modified(id, seconds),
        None => Ok(()),
    }
}

/// `utimensat(2)`: sets a file's modification time (see [`modified_from`]); a null `path`
/// is `dirfd`'s own file, as on Linux.
///
/// # Safety
/// `path` must be null or a NUL-terminated string, `times` null or two `timespec`s.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn utimensat(
    dirfd: c_int,
    path: *const c_char,
    times: *const libc::timespec,
    flags: c_int,
) -> c_int {
    if flags & !libc::AT_SYMLINK_NOFOLLOW != 0 {
        return fail(EINVAL);
    }
    if path.is_null() {
        // SAFETY: the caller's guarantee.
        return unsafe { futimens(dirfd, times) };
    }
    // SAFETY: the caller's guarantee.
    let modified = match unsafe { modified_from(times) } {
        Ok(modified) => modified,
        Err(error) => return fail(error),
    };
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(dirfd, path, |tree, path| {
            let id = tree.lookup(path)?;
            set_modified(tree, id, modified)
        })
    }
}

/// `futimens(3)`.
///
/// # Safety
/// `times` must be null or point to two `timespec`s.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn futimens(fd: c_int, times: *const libc::timespec) -> c_int {
    // SAFETY: the caller's guarantee.
    match unsafe { modified_from(times) } {
        Ok(modified) => fd_call(fd, |tree, node| set_modified(tree, node, modified)),
        Err(error) => fail(error),
    }
}

/// `utimes(2)`: as `utimensat` with microseconds.
///
/// # Safety
/// `path` must be null or a NUL-terminated string, `times` null or two `timeval`s.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn utimes(path: *const c_char, times: *const libc::timeval) -> c_int {
    if times.is_null() {
        // SAFETY: the caller's guarantee.
        return unsafe { utimensat(libc::AT_FDCWD, path, core::ptr::null(), 0) };
    }
    // SAFETY: the caller's guarantee.
    let pair = unsafe { times.cast::<[libc::timeval; 2]>().read() };
    let mut converted = [libc::timespec { tv_sec: 0, tv_nsec: 0 }; 2];
    for (to, from) in converted.iter_mut().zip(pair) {
        if !(0..1_000_000).contains(&from.tv_usec) {
            return fail(EINVAL);
        }
        (to.tv_sec, to.tv_nsec) = (from.tv_sec, from.tv_usec * 1000);
    }
    // SAFETY: the caller's guarantee for `path`; `converted` is two `timespec`s.
    unsafe { utimensat(libc::AT_FDCWD, path, converted.as_ptr(), 0) }
}

/// Writes `statistics` to `status` as `statfs` reports them, the other fields zero.
///
/// # Safety
/// `status` must be writable.
unsafe fn write_file_system(status: *mut libc::statfs, statistics: &unik_fs::FileSystemStatistics) {
    // SAFETY: the caller's guarantee; all zeroes is a valid `statfs`.
    let status = unsafe {
        status.write(core::mem::zeroed());
        &mut *status
    };
    // Linux's magic numbers for the kinds (`linux/magic.h`).
    const EXT2_SUPER_MAGIC: u32 = 0xef53;
    const TMPFS_MAGIC: u32 = 0x0102_1994;
    const RAMFS_MAGIC: u32 = 0x8584_58f6;
    status.f_type = match statistics.kind {
        unik_fs::FileSystemKind::Ext2 => EXT2_SUPER_MAGIC,
        unik_fs::FileSystemKind::Ram => TMPFS_MAGIC,
        unik_fs::FileSystemKind::Packed => RAMFS_MAGIC,
    } as _;
    status.f_bsize = statistics.block_size as _;
    status.f_frsize = statistics.block_size as _;
    status.f_blocks = statistics.blocks as _;
    status.f_bfree = statistics.free_blocks as _;
    status.f_bavail = statistics.free_blocks as _;
    status.f_files = statistics.files as _;
    status.f_ffree = statistics.free_files as _;
    status.f_namelen = unik_fs::NAME_MAX as _;
}

/// `statfs(2)`: the file system holding `path` (its kind, size and free room).
///
/// # Safety
/// `path` must be null or a NUL-terminated string, `status` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn statfs(path: *const c_char, status: *mut libc::statfs) -> c_int {
    if status.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: the caller's guarantee.
    unsafe {
        path_call(libc::AT_FDCWD, path, |tree, path| {
            let id = tree.lookup(path)?;
            write_file_system(status, &tree.statistics(id));
            Ok(())
        })
    }
}

/// `fstatfs(2)`.
///
/// # Safety
/// `status` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fstatfs(fd: c_int, status: *mut libc::statfs) -> c_int {
    if status.is_null() {
        return fail(EFAULT);
    }
    fd_call(fd, |tree, node| {
        // SAFETY: the caller's guarantee.
        unsafe { write_file_system(status, &tree.statistics(node)) };
        Ok(())
    })
}

/// `readlinkat(2)`: there are no symbolic links (`EINVAL` for what exists).
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn readlinkat(dirfd: c_int, path: *const c_char, _buffer: *mut c_char, _size: usize) -> isize {
    // SAFETY: the caller's guarantee.
    let result = unsafe { path_call(dirfd, path, |tree, path| tree.lookup(path).map(|_| ())) };
    if result == 0 { fail_size(EINVAL) } else { -1 }
}

/// `readlink(2)`.
///
/// # Safety
/// As [`readlinkat`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn readlink(path: *const c_char, buffer: *mut c_char, size: usize) -> isize {
    // SAFETY: the caller's guarantee.
    unsafe { readlinkat(libc::AT_FDCWD, path, buffer, size) }
}

/// Copies `text` and a NUL to `buffer` (`size` bytes): `ERANGE` if it does not fit.
///
/// # Safety
/// `buffer` must be writable for `size` bytes.
unsafe fn copy_c_string(text: &[u8], buffer: *mut c_char, size: usize) -> Result<(), c_int> {
    if text.len() >= size {
        return Err(ERANGE);
    }
    // SAFETY: the caller's guarantee; `text.len() + 1 <= size`.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast(), text.len());
        buffer.add(text.len()).write(0);
    }
    Ok(())
}

/// `getcwd(3)`: `/` until a program changes directory.
///
/// # Safety
/// `buffer` must be writable for `size` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getcwd(buffer: *mut c_char, size: usize) -> *mut c_char {
    if buffer.is_null() {
        errno::set(EINVAL);
        return core::ptr::null_mut();
    }
    // Without a tree nothing changed directory: no need to make one.
    let path = TREE
        .lock()
        .as_ref()
        .map_or_else(|| b"/".to_vec(), |tree| tree.path_of(tree.working_node()));
    // SAFETY: the caller's guarantee.
    match unsafe { copy_c_string(&path, buffer, size) } {
        Ok(()) => buffer,
        Err(code) => {
            errno::set(code);
            core::ptr::null_mut()
        }
    }
}

/// `realpath(3)`: the absolute path without `.`, `..` or repeated slashes (into a new
/// `malloc` block when `resolved` is null, else into `resolved`'s `PATH_MAX` bytes).
///
/// # Safety
/// `path` must be null or a NUL-terminated string; `resolved` null or writable for
/// `PATH_MAX` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn realpath(path: *const c_char, resolved: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's guarantee.
    let found = unsafe { path_at(path) }
        .and_then(|path| with_tree(|tree| tree.lookup(path).map(|id| tree.path_of(id))).map_err(code));
    let result = found.and_then(|full| {
        let buffer = if resolved.is_null() {
            crate::memory::malloc(full.len() + 1).cast::<c_char>()
        } else {
            resolved
        };
        if buffer.is_null() {
            return Err(libc::ENOMEM);
        }
        let size = if resolved.is_null() {
            full.len() + 1
        } else {
            libc::PATH_MAX as usize
        };
        // SAFETY: `buffer` holds `size` bytes (the caller's guarantee, or just allocated).
        unsafe { copy_c_string(&full, buffer, size) }.map(|()| buffer)
    });
    result.unwrap_or_else(|code| {
        errno::set(code);
        core::ptr::null_mut()
    })
}

/// `pread(2)`.
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pread(fd: c_int, buffer: *mut c_void, length: usize, offset: libc::off_t) -> isize {
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    let offset = u64::try_from(offset).map_err(|_| EINVAL);
    let result = offset.and_then(|offset| {
        let open = descriptor::open(fd)?;
        // SAFETY: the caller's guarantee.
        let buffer = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) };
        open.file.read_at(buffer, offset)
    });
    crate::io::size_status(result)
}

/// `pwrite(2)`.
///
/// # Safety
/// `bytes` must be readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pwrite(fd: c_int, bytes: *const c_void, length: usize, offset: libc::off_t) -> isize {
    let offset = u64::try_from(offset).map_err(|_| EINVAL);
    let result = offset.and_then(|offset| {
        let open = descriptor::open(fd)?;
        // SAFETY: the caller's guarantee.
        let bytes = unsafe { crate::io::slice(bytes, length)? };
        open.file.write_at(bytes, offset)
    });
    crate::io::size_status(result)
}

/// `fsync(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fsync(fd: c_int) -> c_int {
    let result = descriptor::open(fd).and_then(|open| open.file.sync());
    result.map_or_else(fail, |()| 0)
}

/// `fdatasync(2)`: as `fsync`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fdatasync(fd: c_int) -> c_int {
    fsync(fd)
}

/// `ftruncate(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn ftruncate(fd: c_int, length: libc::off_t) -> c_int {
    let result = u64::try_from(length)
        .map_err(|_| EINVAL)
        .and_then(|length| descriptor::open(fd)?.file.set_len(length));
    result.map_or_else(fail, |()| 0)
}

/// A directory's entries as the first `readdir` found them: name, inode number, kind.
type Listing = Vec<(Box<[u8]>, u64, FileType)>;

/// A directory stream (`DIR`): its descriptor, the listing (taken by the first `readdir`
/// after opening or rewinding, so removing entries while reading skips none, as
/// `remove_dir_all` does), where it is, and the entry `readdir` last returned.
struct Directory {
    fd: c_int,
    node: NodeId,
    listing: Option<Listing>,
    next: usize,
    entry: libc::dirent,
}

/// Every entry of directory `node`, `.` and `..` first.
fn listing(node: NodeId) -> Listing {
    with_tree(|tree| {
        let mut entries = Vec::new();
        while let Ok(Some(entry)) = tree.entry(node, entries.len()) {
            entries.push((entry.name.into(), entry.inode, entry.file_type));
        }
        entries
    })
}

/// A stream over the directory open at `fd`.
fn directory_stream(fd: c_int) -> Result<*mut libc::DIR, c_int> {
    let node = base(fd).map_err(|_| libc::ENOTDIR)?.ok_or(EBADF)?;
    if !with_tree(|tree| tree.is_directory(node)) {
        return Err(libc::ENOTDIR);
    }
    let stream = Box::new(Directory {
        fd,
        node,
        listing: None,
        next: 0,
        // SAFETY: `dirent` is plain integers and bytes, for which all zeroes is valid.
        entry: unsafe { core::mem::zeroed() },
    });
    Ok(Box::into_raw(stream).cast())
}

/// `fdopendir(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fdopendir(fd: c_int) -> *mut libc::DIR {
    directory_stream(fd).unwrap_or_else(|code| {
        errno::set(code);
        core::ptr::null_mut()
    })
}

/// `opendir(3)`.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn opendir(path: *const c_char) -> *mut libc::DIR {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    // SAFETY: the caller's guarantee.
    let result = unsafe { path_at(path) }
        .and_then(|path| open_file(libc::AT_FDCWD, path, flags, 0))
        .and_then(|fd| {
            directory_stream(fd).inspect_err(|_| {
                let _ = descriptor::close(fd);
            })
        });
    result.unwrap_or_else(|code| {
        errno::set(code);
        core::ptr::null_mut()
    })
}

/// `readdir(3)`: the next entry (`.` and `..` first), or null at the end.
///
/// # Safety
/// `stream` must come from [`opendir`] or [`fdopendir`] and not be closed.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn readdir(stream: *mut libc::DIR) -> *mut libc::dirent {
    if stream.is_null() {
        errno::set(EBADF);
        return core::ptr::null_mut();
    }
    // SAFETY: the caller's guarantee: a live `Directory`.
    let stream = unsafe { &mut *stream.cast::<Directory>() };
    let node = stream.node;
    let listing = stream.listing.get_or_insert_with(|| listing(node));
    let Some((name, inode, file_type)) = listing.get(stream.next) else {
        return core::ptr::null_mut();
    };
    let entry = &mut stream.entry;
    let name = &name[..name.len().min(entry.d_name.len() - 1)];
    for (slot, byte) in entry.d_name.iter_mut().zip(name.iter().chain([&0])) {
        *slot = *byte as c_char;
    }
    entry.d_ino = *inode;
    entry.d_off = stream.next as i64 + 1;
    entry.d_reclen = core::mem::size_of::<libc::dirent>() as u16;
    entry.d_type = match file_type {
        FileType::File => libc::DT_REG,
        FileType::Directory => libc::DT_DIR,
    };
    stream.next += 1;
    &raw mut stream.entry
}

/// `rewinddir(3)`.
///
/// # Safety
/// As [`readdir`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn rewinddir(stream: *mut libc::DIR) {
    // SAFETY: the caller's guarantee.
    if let Some(stream) = unsafe { stream.cast::<Directory>().as_mut() } {
        stream.listing = None;
        stream.next = 0;
    }
}

/// `dirfd(3)`.
///
/// # Safety
/// As [`readdir`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn dirfd(stream: *mut libc::DIR) -> c_int {
    // SAFETY: the caller's guarantee.
    match unsafe { stream.cast::<Directory>().as_ref() } {
        Some(stream) => stream.fd,
        None => fail(EINVAL),
    }
}

/// `closedir(3)`: the stream and its descriptor.
///
/// # Safety
/// As [`readdir`]; the stream is gone afterwards.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn closedir(stream: *mut libc::DIR) -> c_int {
    if stream.is_null() {
        return fail(EBADF);
    }
    // SAFETY: the caller's guarantee: made by `Box::into_raw` in `directory_stream`.
    let stream = unsafe { Box::from_raw(stream.cast::<Directory>()) };
    descriptor::close(stream.fd).map_or_else(fail, |()| 0)
}
