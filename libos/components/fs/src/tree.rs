//! The tree of nodes: directories with named children and files whose contents are
//! packed (bytes of the archive, read-only), owned (a RAM file system's, counted against
//! its mount's limit) or on a volume (a file system on a block device, whose directories
//! are read into the tree as paths first walk into them). Every node belongs to one mount;
//! operations check its rules there, and a volume's do its work.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::path::{self, Step};
use crate::volume::Volume;
use crate::{Error, FileSystemKind, FileSystemStatistics, FileType, Metadata, NAME_MAX, RamMount};

/// A node's index in the tree; its inode number is one more.
pub type NodeId = usize;

/// The root directory, on the packed files' mount.
const ROOT: NodeId = 0;

/// Where a file's bytes are.
enum Contents<'a> {
    /// In the archive the tree was made from.
    Packed(&'a [u8]),
    /// On the heap, counted against the mount's limit.
    Owned(Vec<u8>),
    /// On the mount's volume (the node's `volume` inode).
    Volume,
}

impl Contents<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Contents::Packed(bytes) => bytes,
            Contents::Owned(bytes) => bytes,
            Contents::Volume => &[],
        }
    }
}

/// A directory's children by name, in the order they were made.
type Children = Vec<(Box<[u8]>, NodeId)>;

enum Kind<'a> {
    File(Contents<'a>),
    Directory(Children),
}

struct Node<'a> {
    kind: Kind<'a>,
    permissions: u32,
    /// Index into [`Tree::mounts`].
    mount: usize,
    parent: NodeId,
    /// Whether a directory names it (a file removed while open is not, until closed).
    linked: bool,
    /// Open descriptors.
    open: u32,
    /// Seconds since the Unix epoch.
    modified: i64,
    /// Its inode on the mount's volume (none for packed and RAM nodes).
    volume: Option<u64>,
    /// A volume directory whose entries are in the tree (always, for the others).
    loaded: bool,
    /// A volume file whose last name went while it was open: its inode is freed when it
    /// closes.
    free_on_release: bool,
}

/// A file system in the tree: the packed files (read-only), a RAM one, or a volume.
struct Mount<'a> {
    /// The file system on a block device, for a volume.
    volume: Option<alloc::boxed::Box<dyn Volume + 'a>>,
    writable: bool,
    /// Most bytes of file contents.
    limit: u64,
    /// Bytes of file contents now.
    used: u64,
    /// Its root directory.
    root: NodeId,
}

/// How [`Tree::open`] opens (the `O_*` flags that matter here).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// For writing (`O_WRONLY`, `O_RDWR`).
    pub write: bool,
    /// Made if missing (`O_CREAT`).
    pub create: bool,
    /// With `create`: fail if it exists (`O_EXCL`).
    pub exclusive: bool,
    /// Emptied (`O_TRUNC`, with `write`).
    pub truncate: bool,
    /// Must be a directory (`O_DIRECTORY`).
    pub directory: bool,
    /// A new file's permission bits.
    pub permissions: u32,
}

/// One entry of a directory listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryEntry<'t> {
    /// Its name.
    pub name: &'t [u8],
    /// Its inode number.
    pub inode: u64,
    /// Its kind.
    pub file_type: FileType,
}

/// The files of a program: the packed files at `/`, RAM file systems mounted on top.
pub struct Tree<'a> {
    nodes: Vec<Option<Node<'a>>>,
    free: Vec<NodeId>,
    mounts: Vec<Mount<'a>>,
    cwd: NodeId,
    /// The wall clock, in seconds since the Unix epoch, for modification times.
    clock: fn() -> i64,
}

/// The newc mode bits of a directory and of a regular file.
const MODE_TYPE: u32 = 0o170_000;
const MODE_DIRECTORY: u32 = 0o040_000;
const MODE_FILE: u32 = 0o100_000;

impl<'a> Tree<'a> {
    /// The tree of the files in `archive` (a newc cpio; reading stops at the first damaged
    /// entry, and entries that are neither files nor directories are left out), with the
    /// RAM file systems `ram` mounted (their folders made if missing).
    pub fn new<'p>(archive: &'a [u8], ram: impl Iterator<Item = RamMount<'p>>, clock: fn() -> i64) -> Tree<'a> {
        let root = Node {
            kind: Kind::Directory(Vec::new()),
            permissions: 0o755,
            mount: 0,
            parent: ROOT,
            linked: true,
            open: 0,
            modified: 0,
            volume: None,
            loaded: true,
            free_on_release: false,
        };
        let packed = Mount {
            volume: None,
            writable: false,
            limit: 0,
            used: 0,
            root: ROOT,
        };
        let mut tree = Tree {
            nodes: alloc::vec![Some(root)],
            free: Vec::new(),
            mounts: alloc::vec![packed],
            cwd: ROOT,
            clock,
        };
        for entry in cpio_reader::iter_files(archive) {
            let name = entry.name().trim_start_matches("./").as_bytes();
            let mode = entry.mode().bits();
            let modified = i64::try_from(entry.mtime()).unwrap_or(0);
            let kind = match mode & MODE_TYPE {
                MODE_DIRECTORY => Kind::Directory(Vec::new()),
                MODE_FILE => Kind::File(Contents::Packed(entry.file())),
                _ => continue,
            };
            if let Some(id) = tree.make_path(name, kind) {
                let node = tree.node_mut(id);
                (node.permissions, node.modified) = (mode & 0o7777, modified);
            }
        }
        for mount in ram {
            let Some(root) = tree.make_path(mount.path.as_bytes(), Kind::Directory(Vec::new())) else {
                continue;
            };
            if !tree.is_directory(root) || root == ROOT {
                continue;
            }
            tree.node_mut(root).mount = tree.mounts.len();
            tree.node_mut(root).permissions = 0o1777;
            tree.mounts.push(Mount {
                volume: None,
                writable: true,
                limit: mount.limit,
                used: 0,
                root,
            });
        }
        tree
    }

    /// Mounts `volume` at `path` (made if missing): its folders appear there, read from the
    /// volume as paths walk into them. `Invalid` for the root or a file.
    pub fn mount_volume(&mut self, path: &str, volume: alloc::boxed::Box<dyn Volume + 'a>) -> Result<(), Error> {
        let root = self
            .make_path(path.as_bytes(), Kind::Directory(Vec::new()))
            .ok_or(Error::Invalid)?;
        if root == ROOT || !self.is_directory(root) {
            return Err(Error::Invalid);
        }
        let mount = self.mounts.len();
        let node = self.node_mut(root);
        node.kind = Kind::Directory(Vec::new());
        node.mount = mount;
        node.volume = Some(volume.root());
        node.loaded = false;
        self.mounts.push(Mount {
            writable: volume.writable(),
            volume: Some(volume),
            limit: 0,
            used: 0,
            root,
        });
        Ok(())
    }

    /// The volume of the mount `id` is on, and `id`'s inode there, for a volume node.
    fn on_volume(&mut self, id: NodeId) -> Option<(&mut (dyn Volume + 'a), u64)> {
        let node = self.nodes[id].as_ref()?;
        let inode = node.volume?;
        let volume = self.mounts[node.mount].volume.as_deref_mut()?;
        Some((volume, inode))
    }

    /// Reads volume directory `id`'s entries into the tree, once.
    fn load(&mut self, id: NodeId) -> Result<(), Error> {
        if self.node(id).loaded {
            return Ok(());
        }
        let Some((volume, inode)) = self.on_volume(id) else {
            return Ok(());
        };
        let entries = volume.entries(inode)?;
        for (name, inode, file_type) in entries {
            let kind = match file_type {
                FileType::File => Kind::File(Contents::Volume),
                FileType::Directory => Kind::Directory(Vec::new()),
            };
            let child = self.insert(id, &name, kind, 0)?;
            let node = self.node_mut(child);
            node.volume = Some(inode);
            node.loaded = file_type == FileType::File;
        }
        self.node_mut(id).loaded = true;
        Ok(())
    }

    /// Makes the node at `path` (relative to the root), with the directories leading to it;
    /// an existing node is kept. `None` for an empty path or a file on the way.
    fn make_path(&mut self, path: &[u8], kind: Kind<'a>) -> Option<NodeId> {
        let (folder, name) = path::split_last(path);
        let mut at = ROOT;
        for step in path::steps(folder) {
            let Step::Name(part) = step else { return None };
            at = match self.child(at, part) {
                Some(id) => id,
                None => self.insert(at, part, Kind::Directory(Vec::new()), 0o755).ok()?,
            };
        }
        if name.is_empty() || name == b"." || name == b".." || !self.is_directory(at) {
            return None;
        }
        match self.child(at, name) {
            Some(id) => Some(id),
            None => self.insert(at, name, kind, 0o644).ok(),
        }
    }

    fn node(&self, id: NodeId) -> &Node<'a> {
        self.nodes[id].as_ref().expect("node ids in the tree are live")
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node<'a> {
        self.nodes[id].as_mut().expect("node ids in the tree are live")
    }

    fn children(&self, id: NodeId) -> Result<&Children, Error> {
        match &self.node(id).kind {
            Kind::Directory(children) => Ok(children),
            Kind::File(_) => Err(Error::NotDirectory),
        }
    }

    fn child(&self, directory: NodeId, name: &[u8]) -> Option<NodeId> {
        let children = self.children(directory).ok()?;
        children.iter().find(|(found, _)| **found == *name).map(|(_, id)| *id)
    }

    /// Whether node `id` is a directory.
    pub fn is_directory(&self, id: NodeId) -> bool {
        matches!(self.node(id).kind, Kind::Directory(_))
    }

    /// Whether node `id` is on a file system that can be written.
    pub fn is_writable(&self, id: NodeId) -> bool {
        self.mounts[self.node(id).mount].writable
    }

    /// Follows `path` from the working directory (from the root if it starts with `/`).
    fn walk(&mut self, path: &[u8]) -> Result<NodeId, Error> {
        let mut at = if path.first() == Some(&b'/') { ROOT } else { self.cwd };
        for step in path::steps(path) {
            self.children(at)?;
            self.load(at)?;
            at = match step {
                Step::Up => self.node(at).parent,
                Step::Name(name) if name.len() > NAME_MAX => return Err(Error::NameTooLong),
                Step::Name(name) => self.child(at, name).ok_or(Error::NotFound)?,
            };
        }
        Ok(at)
    }

    /// The node `path` names.
    pub fn lookup(&mut self, path: &[u8]) -> Result<NodeId, Error> {
        if path.is_empty() {
            return Err(Error::NotFound);
        }
        let id = self.walk(path)?;
        if path::names_directory(path) && !self.is_directory(id) {
            return Err(Error::NotDirectory);
        }
        Ok(id)
    }

    /// The directory that holds `path`'s last component, and that component.
    fn parent_of<'p>(&mut self, path: &'p [u8]) -> Result<(NodeId, &'p [u8]), Error> {
        if path.is_empty() {
            return Err(Error::NotFound);
        }
        let (folder, name) = path::split_last(path);
        let parent = self.walk(folder)?;
        self.children(parent)?;
        self.load(parent)?;
        if name.len() > NAME_MAX {
            return Err(Error::NameTooLong);
        }
        Ok((parent, name))
    }

    /// Adds a node named `name` to `directory`, on its mount.
    fn insert(&mut self, directory: NodeId, name: &[u8], kind: Kind<'a>, permissions: u32) -> Result<NodeId, Error> {
        let modified = (self.clock)();
        let node = Node {
            kind,
            permissions,
            mount: self.node(directory).mount,
            parent: directory,
            linked: true,
            open: 0,
            modified,
            volume: None,
            loaded: true,
            free_on_release: false,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id] = Some(node);
                id
            }
            None => {
                self.nodes.try_reserve(1).map_err(|_| Error::NoSpace)?;
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        let parent = self.node_mut(directory);
        parent.modified = modified;
        if let Kind::Directory(children) = &mut parent.kind {
            children.push((name.into(), id));
        }
        Ok(id)
    }

    /// Makes a node named `name` in `directory` for a program: the rules of its mount.
    fn create(&mut self, directory: NodeId, name: &[u8], kind: Kind<'a>, permissions: u32) -> Result<NodeId, Error> {
        if name.is_empty() || name == b"." || name == b".." || self.child(directory, name).is_some() {
            return Err(Error::Exists);
        }
        if !self.is_writable(directory) {
            return Err(Error::ReadOnly);
        }
        let on_volume = match self.on_volume(directory) {
            Some((volume, inode)) => {
                let file_type = match kind {
                    Kind::File(_) => FileType::File,
                    Kind::Directory(_) => FileType::Directory,
                };
                Some(volume.create(inode, name, file_type, permissions & 0o7777)?)
            }
            None => None,
        };
        let kind = match (kind, on_volume) {
            (Kind::File(_), Some(_)) => Kind::File(Contents::Volume),
            (kind, _) => kind,
        };
        let id = self.insert(directory, name, kind, permissions & 0o7777)?;
        self.node_mut(id).volume = on_volume;
        Ok(id)
    }

    /// Opens the file or directory `path` for a descriptor (closed with [`Tree::close`]).
    pub fn open(&mut self, path: &[u8], options: OpenOptions) -> Result<NodeId, Error> {
        let id = match self.lookup(path) {
            Ok(id) => {
                if options.create && options.exclusive {
                    return Err(Error::Exists);
                }
                let directory = self.is_directory(id);
                if options.directory && !directory {
                    return Err(Error::NotDirectory);
                }
                if directory && options.write {
                    return Err(Error::IsDirectory);
                }
                if options.write && !self.is_writable(id) {
                    return Err(Error::ReadOnly);
                }
                if options.write && options.truncate {
                    self.set_len(id, 0)?;
                }
                id
            }
            Err(Error::NotFound) if options.create => {
                if path::names_directory(path) {
                    return Err(Error::IsDirectory);
                }
                let (directory, name) = self.parent_of(path)?;
                self.create(
                    directory,
                    name,
                    Kind::File(Contents::Owned(Vec::new())),
                    options.permissions,
                )?
            }
            Err(error) => return Err(error),
        };
        self.node_mut(id).open += 1;
        Ok(id)
    }

    /// Ends one [`Tree::open`] of `id`: a node removed while open goes now.
    pub fn close(&mut self, id: NodeId) {
        let node = self.node_mut(id);
        node.open = node.open.saturating_sub(1);
        if !node.linked && node.open == 0 {
            self.release(id);
        }
    }

    /// Frees node `id`, which no directory names and nobody has open.
    fn release(&mut self, id: NodeId) {
        if self.node(id).free_on_release
            && let Some((volume, inode)) = self.on_volume(id)
        {
            // Nothing to report to: a failure leaves an orphan inode for e2fsck.
            let _ = volume.release(inode);
        }
        let node = self.nodes[id].take().expect("released nodes are live");
        if let Kind::File(Contents::Owned(bytes)) = node.kind {
            self.mounts[node.mount].used -= bytes.len() as u64;
        }
        self.free.push(id);
    }

    /// The bytes of file `id`.
    fn contents(&self, id: NodeId) -> Result<&[u8], Error> {
        match &self.node(id).kind {
            Kind::File(contents) => Ok(contents.bytes()),
            Kind::Directory(_) => Err(Error::IsDirectory),
        }
    }

    /// Reads from file `id` at `offset` into `buffer`; 0 at or past the end.
    pub fn read_at(&mut self, id: NodeId, offset: u64, buffer: &mut [u8]) -> Result<usize, Error> {
        if matches!(self.node(id).kind, Kind::File(Contents::Volume)) {
            let (volume, inode) = self.on_volume(id).ok_or(Error::Io)?;
            return volume.read_at(inode, offset, buffer);
        }
        let bytes = self.contents(id)?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
        let count = buffer.len().min(bytes.len() - start);
        buffer[..count].copy_from_slice(&bytes[start..start + count]);
        Ok(count)
    }

    /// File `id`'s volume and inode, if it is a volume file that may be written.
    fn volume_file(&mut self, id: NodeId) -> Result<Option<(&mut (dyn Volume + 'a), u64)>, Error> {
        match self.node(id).kind {
            Kind::File(Contents::Volume) => {}
            Kind::Directory(_) => return Err(Error::IsDirectory),
            _ => return Ok(None),
        }
        if !self.is_writable(id) {
            return Err(Error::ReadOnly);
        }
        self.on_volume(id).map(Some).ok_or(Error::Io)
    }

    /// File `id`'s owned bytes and its mount's room for more, if it may be written.
    fn writable_contents(&mut self, id: NodeId) -> Result<(&mut Vec<u8>, u64), Error> {
        let modified = (self.clock)();
        let node = self.nodes[id].as_mut().expect("node ids in the tree are live");
        let mount = &self.mounts[node.mount];
        let room = mount.limit.saturating_sub(mount.used);
        node.modified = modified;
        match &mut node.kind {
            Kind::Directory(_) => Err(Error::IsDirectory),
            Kind::File(Contents::Packed(_) | Contents::Volume) => Err(Error::ReadOnly),
            Kind::File(Contents::Owned(_)) if !mount.writable => Err(Error::ReadOnly),
            Kind::File(Contents::Owned(bytes)) => Ok((bytes, room)),
        }
    }

    /// Writes `bytes` to file `id` at `offset`, growing it (with zeroes before `offset` if
    /// that is past the end). As much as the mount's limit allows is written;
    /// [`Error::NoSpace`] if nothing could be.
    pub fn write_at(&mut self, id: NodeId, offset: u64, bytes: &[u8]) -> Result<usize, Error> {
        if let Some((volume, inode)) = self.volume_file(id)? {
            return volume.write_at(inode, offset, bytes);
        }
        let (contents, room) = self.writable_contents(id)?;
        let length = contents.len() as u64;
        let end = offset
            .saturating_add(bytes.len() as u64)
            .min(length.saturating_add(room));
        if bytes.is_empty() {
            return Ok(0);
        }
        if end <= offset {
            return Err(Error::NoSpace);
        }
        let (start, end) = (offset as usize, end as usize);
        if end > contents.len() {
            contents.try_reserve(end - contents.len()).map_err(|_| Error::NoSpace)?;
            contents.resize(end, 0);
        }
        contents[start..end].copy_from_slice(&bytes[..end - start]);
        let grown = end as u64 - length.min(end as u64);
        let mount = self.node(id).mount;
        self.mounts[mount].used += grown;
        Ok(end - start)
    }

    /// Makes file `id` `length` bytes long (cut, or grown with zeroes).
    pub fn set_len(&mut self, id: NodeId, length: u64) -> Result<(), Error> {
        if let Some((volume, inode)) = self.volume_file(id)? {
            return volume.set_len(inode, length);
        }
        let (contents, room) = self.writable_contents(id)?;
        let old = contents.len() as u64;
        if length > old.saturating_add(room) {
            return Err(Error::NoSpace);
        }
        let new = usize::try_from(length).map_err(|_| Error::NoSpace)?;
        if new > contents.len() {
            contents.try_reserve(new - contents.len()).map_err(|_| Error::NoSpace)?;
        }
        contents.resize(new, 0);
        contents.shrink_to(new.max(64));
        let mount = self.node(id).mount;
        let used = &mut self.mounts[mount].used;
        *used = *used - old + length;
        Ok(())
    }

    /// What `stat` says about node `id`.
    pub fn metadata(&mut self, id: NodeId) -> Result<Metadata, Error> {
        let device = self.node(id).mount as u64;
        if let Some((volume, inode)) = self.on_volume(id) {
            let stat = volume.stat(inode)?;
            return Ok(Metadata {
                file_type: stat.file_type,
                permissions: stat.permissions,
                size: stat.size,
                modified: stat.modified,
                inode,
                links: stat.links,
                device,
            });
        }
        let node = self.node(id);
        let (file_type, size, links) = match &node.kind {
            Kind::File(contents) => (FileType::File, contents.bytes().len() as u64, u64::from(node.linked)),
            Kind::Directory(children) => {
                let subdirectories = children.iter().filter(|(_, child)| self.is_directory(*child)).count();
                (FileType::Directory, 4096, 2 + subdirectories as u64)
            }
        };
        Ok(Metadata {
            file_type,
            permissions: node.permissions,
            size,
            modified: node.modified,
            inode: id as u64 + 1,
            links,
            device,
        })
    }

    /// Sets node `id`'s permission bits.
    pub fn set_permissions(&mut self, id: NodeId, permissions: u32) -> Result<(), Error> {
        if !self.is_writable(id) {
            return Err(Error::ReadOnly);
        }
        if let Some((volume, inode)) = self.on_volume(id) {
            volume.set_permissions(inode, permissions & 0o7777)?;
        }
        self.node_mut(id).permissions = permissions & 0o7777;
        Ok(())
    }

    /// Sets node `id`'s modification time (Unix seconds), as `utimes` does.
    pub fn set_modified(&mut self, id: NodeId, modified: i64) -> Result<(), Error> {
        if !self.is_writable(id) {
            return Err(Error::ReadOnly);
        }
        if let Some((volume, inode)) = self.on_volume(id) {
            volume.set_modified(inode, modified)?;
        }
        self.node_mut(id).modified = modified;
        Ok(())
    }

    /// Entry `index` of directory `id`, as `readdir` lists it: `.` and `..` first, then the
    /// children in the order they were made; `None` past the last.
    pub fn entry(&mut self, id: NodeId, index: usize) -> Result<Option<DirectoryEntry<'_>>, Error> {
        self.children(id)?;
        self.load(id)?;
        let children = self.children(id)?;
        let (name, node): (&[u8], NodeId) = match index {
            0 => (b".", id),
            1 => (b"..", self.node(id).parent),
            _ => match children.get(index - 2) {
                Some((name, child)) => (name, *child),
                None => return Ok(None),
            },
        };
        let file_type = if self.is_directory(node) {
            FileType::Directory
        } else {
            FileType::File
        };
        let inode = self.node(node).volume.unwrap_or(node as u64 + 1);
        Ok(Some(DirectoryEntry { name, inode, file_type }))
    }

    /// Makes the directory `path`.
    pub fn make_directory(&mut self, path: &[u8], permissions: u32) -> Result<(), Error> {
        let (parent, name) = self.parent_of(path)?;
        self.create(parent, name, Kind::Directory(Vec::new()), permissions)?;
        Ok(())
    }

    /// Takes `name` (naming `id`) out of `directory`; the node goes unless it is open.
    fn unlink(&mut self, directory: NodeId, id: NodeId) {
        let modified = (self.clock)();
        let parent = self.node_mut(directory);
        parent.modified = modified;
        if let Kind::Directory(children) = &mut parent.kind {
            children.retain(|(_, child)| *child != id);
        }
        let node = self.node_mut(id);
        node.linked = false;
        if node.open == 0 {
            self.release(id);
        }
    }

    /// The node named by `path`'s last component, which must be a plain name, and its
    /// directory; `dot` is the error for `.` and `..`.
    fn named(&mut self, path: &[u8], dot: Error) -> Result<(NodeId, NodeId), Error> {
        let (parent, name) = self.parent_of(path)?;
        match name {
            b"" => Err(Error::Busy),
            b"." | b".." => Err(dot),
            _ => Ok((parent, self.child(parent, name).ok_or(Error::NotFound)?)),
        }
    }

    /// Removes the file `path`.
    pub fn remove_file(&mut self, path: &[u8]) -> Result<(), Error> {
        let (parent, id) = self.named(path, Error::IsDirectory).map_err(|error| match error {
            Error::Busy => Error::IsDirectory,
            other => other,
        })?;
        if self.is_directory(id) {
            return Err(Error::IsDirectory);
        }
        if path::names_directory(path) {
            return Err(Error::NotDirectory);
        }
        if !self.is_writable(parent) {
            return Err(Error::ReadOnly);
        }
        if let Some((volume, inode)) = self.on_volume(parent) {
            let released = volume.unlink(inode, path::split_last(path).1)?;
            self.node_mut(id).free_on_release = released.is_some();
        }
        self.unlink(parent, id);
        Ok(())
    }

    /// Makes what was written to the file system holding `id` durable (a volume's
    /// device is flushed; RAM and packed files have nowhere further to go).
    pub fn sync(&mut self, id: NodeId) -> Result<(), Error> {
        let mount = self.node(id).mount;
        match self.mounts[mount].volume.as_deref_mut() {
            Some(volume) => volume.sync(),
            None => Ok(()),
        }
    }

    /// Whether `id` is a mount's root.
    fn is_mount_root(&self, id: NodeId) -> bool {
        self.mounts.iter().any(|mount| mount.root == id)
    }

    /// Removes the empty directory `path`.
    pub fn remove_directory(&mut self, path: &[u8]) -> Result<(), Error> {
        let (parent, name) = self.parent_of(path)?;
        if name == b".." {
            return Err(Error::NotEmpty);
        }
        let (parent, id) = self.named(path, Error::Invalid).map(|(_, id)| (parent, id))?;
        if !self.is_directory(id) {
            return Err(Error::NotDirectory);
        }
        if self.is_mount_root(id) {
            return Err(Error::Busy);
        }
        if !self.is_writable(parent) {
            return Err(Error::ReadOnly);
        }
        self.load(id)?;
        if !self.children(id)?.is_empty() {
            return Err(Error::NotEmpty);
        }
        if let Some((volume, inode)) = self.on_volume(parent) {
            volume.remove_directory(inode, name)?;
        }
        self.unlink(parent, id);
        Ok(())
    }

    /// Whether `id` is `ancestor` or inside it.
    fn is_within(&self, mut id: NodeId, ancestor: NodeId) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            if id == ROOT {
                return false;
            }
            id = self.node(id).parent;
        }
    }

    /// Renames `from` to `to`, replacing a file there (or an empty directory, when `from`
    /// is one).
    pub fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), Error> {
        let (source_parent, source) = self.named(from, Error::Invalid)?;
        let (target_parent, target_name) = self.parent_of(to)?;
        if matches!(target_name, b"" | b"." | b"..") {
            return Err(Error::Busy);
        }
        // As Linux: another file system is EXDEV before a read-only one is EROFS.
        if self.node(source).mount != self.node(target_parent).mount {
            return Err(Error::CrossDevice);
        }
        if !self.is_writable(source_parent) {
            return Err(Error::ReadOnly);
        }
        if self.is_mount_root(source) {
            return Err(Error::Busy);
        }
        let directory = self.is_directory(source);
        if directory && self.is_within(target_parent, source) {
            return Err(Error::Invalid);
        }
        let existing = self.child(target_parent, target_name);
        if let Some(existing) = existing {
            if existing == source {
                return Ok(());
            }
            self.load(existing)?;
            match (directory, self.is_directory(existing)) {
                (false, true) => return Err(Error::IsDirectory),
                (true, false) => return Err(Error::NotDirectory),
                (true, true) if !self.children(existing)?.is_empty() => return Err(Error::NotEmpty),
                _ => {}
            }
        }
        let target_inode = self.node(target_parent).volume;
        if let (Some((volume, source_inode)), Some(target_inode)) = (self.on_volume(source_parent), target_inode) {
            let released = volume.rename(source_inode, path::split_last(from).1, target_inode, target_name)?;
            if let Some(existing) = existing {
                self.node_mut(existing).free_on_release = released.is_some();
            }
        }
        if let Some(existing) = existing {
            self.unlink(target_parent, existing);
        }
        let modified = (self.clock)();
        let parent = self.node_mut(source_parent);
        parent.modified = modified;
        if let Kind::Directory(children) = &mut parent.kind {
            children.retain(|(_, child)| *child != source);
        }
        let target = self.node_mut(target_parent);
        target.modified = modified;
        if let Kind::Directory(children) = &mut target.kind {
            children.push((target_name.into(), source));
        }
        self.node_mut(source).parent = target_parent;
        Ok(())
    }

    /// Makes `path` the working directory.
    pub fn change_directory(&mut self, path: &[u8]) -> Result<(), Error> {
        let id = self.lookup(path)?;
        if !self.is_directory(id) {
            return Err(Error::NotDirectory);
        }
        self.cwd = id;
        Ok(())
    }

    /// The working directory.
    pub fn working_node(&self) -> NodeId {
        self.cwd
    }

    /// Makes directory `id` the working directory (`*at` calls start their relative paths
    /// at their directory this way).
    pub fn set_working_node(&mut self, id: NodeId) {
        if self.is_directory(id) {
            self.cwd = id;
        }
    }

    /// Node `id`'s absolute path (a file removed while open: where it was, as far as known).
    pub fn path_of(&self, id: NodeId) -> Vec<u8> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut at = id;
        while at != ROOT {
            let parent = self.node(at).parent;
            if let Ok(children) = self.children(parent)
                && let Some((name, _)) = children.iter().find(|(_, child)| *child == at)
            {
                names.push(name);
            }
            if parent == at {
                break;
            }
            at = parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        path
    }

    /// What `statfs` says about the file system holding node `id`. A RAM file system
    /// counts its limit in 4 KiB blocks; the packed files have no free room.
    pub fn statistics(&self, id: NodeId) -> FileSystemStatistics {
        const BLOCK: u64 = 4096;
        let mount = &self.mounts[self.node(id).mount];
        if let Some(volume) = &mount.volume {
            return FileSystemStatistics {
                writable: mount.writable,
                ..volume.statistics()
            };
        }
        FileSystemStatistics {
            kind: if self.node(id).mount == 0 {
                FileSystemKind::Packed
            } else {
                FileSystemKind::Ram
            },
            block_size: BLOCK,
            blocks: mount.limit.div_ceil(BLOCK),
            free_blocks: mount.limit.saturating_sub(mount.used) / BLOCK,
            files: 0,
            free_files: 0,
            writable: mount.writable,
        }
    }

    /// Bytes the RAM file system holding node `id` has in use and may hold (the packed
    /// files: their size is not counted, and nothing may be added).
    pub fn usage(&self, id: NodeId) -> (u64, u64) {
        let mount = &self.mounts[self.node(id).mount];
        (mount.used, mount.limit)
    }
}
