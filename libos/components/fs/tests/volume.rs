//! A volume in the tree: an ext2 image made by `mke2fs` mounted at `/data`, used through
//! paths as programs do, then checked by `e2fsck` and read back by `debugfs` and by a
//! second mount (what a reboot sees).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;
use unik_ext2::{BlockDevice, DeviceError, Ext2};
use unik_fs::{Error, FileType, OpenOptions, RamMount, Tree};

/// A disk image file as a block device.
struct FileDevice {
    file: std::fs::File,
    read_only: bool,
}

impl BlockDevice for FileDevice {
    fn sectors(&self) -> u64 {
        self.file.metadata().unwrap().len() / 512
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read(&mut self, sector: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.file.seek(SeekFrom::Start(sector * 512)).map_err(|_| DeviceError)?;
        self.file.read_exact(buffer).map_err(|_| DeviceError)
    }

    fn write(&mut self, sector: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        self.file.seek(SeekFrom::Start(sector * 512)).map_err(|_| DeviceError)?;
        self.file.write_all(bytes).map_err(|_| DeviceError)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.file.sync_data().map_err(|_| DeviceError)
    }
}

fn tool(program: &str, args: &[&str]) -> std::process::Output {
    let path = ["/usr/sbin", "/sbin", "/usr/bin"]
        .iter()
        .map(|folder| Path::new(folder).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{program} is missing: install Debian's e2fsprogs"));
    Command::new(path).args(args).output().unwrap()
}

fn clock() -> u32 {
    1_800_000_000
}

fn wall() -> i64 {
    1_800_000_000
}

/// A tree with no packed files, /tmp, and the ext2 image at `path` mounted at /data.
fn mounted(path: &Path, read_only: bool) -> Tree<'static> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(!read_only)
        .open(path)
        .unwrap();
    let volume = Ext2::open(FileDevice { file, read_only }, clock).unwrap();
    let mut tree = Tree::new(
        &[],
        [RamMount {
            path: "/tmp",
            limit: 4096,
        }]
        .into_iter(),
        wall,
    );
    tree.mount_volume("/data", Box::new(volume)).unwrap();
    tree
}

const CREATE: OpenOptions = OpenOptions {
    write: true,
    create: true,
    exclusive: false,
    truncate: true,
    directory: false,
    permissions: 0o644,
};

fn names(tree: &mut Tree<'_>, path: &[u8]) -> Vec<(String, FileType)> {
    let id = tree.lookup(path).unwrap();
    let mut names = Vec::new();
    let mut index = 2;
    while let Some(entry) = tree.entry(id, index).unwrap() {
        names.push((String::from_utf8(entry.name.to_vec()).unwrap(), entry.file_type));
        index += 1;
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

fn read(tree: &mut Tree<'_>, path: &[u8]) -> Vec<u8> {
    let id = tree.open(path, OpenOptions::default()).unwrap();
    let size = tree.metadata(id).unwrap().size as usize;
    let mut bytes = vec![0; size];
    assert_eq!(tree.read_at(id, 0, &mut bytes).unwrap(), size);
    tree.close(id);
    bytes
}

#[test]
fn a_volume_keeps_what_programs_write_and_e2fsck_finds_it_clean() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("data.img");
    let made = tool("mke2fs", &["-q", "-F", "-t", "ext2", image.to_str().unwrap(), "4M"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

    let mut tree = mounted(&image, false);
    assert_eq!(
        names(&mut tree, b"/data"),
        [("lost+found".to_string(), FileType::Directory)]
    );
    tree.make_directory(b"/data/keys", 0o755).unwrap();
    let file = tree.open(b"/data/keys/alpha", CREATE).unwrap();
    assert_eq!(tree.write_at(file, 0, b"one").unwrap(), 3);
    tree.sync(file).unwrap();
    tree.close(file);
    // Write a temporary file and rename it over the key: the usual atomic replace.
    let file = tree.open(b"/data/keys/alpha.tmp", CREATE).unwrap();
    tree.write_at(file, 0, b"two, longer").unwrap();
    tree.close(file);
    tree.rename(b"/data/keys/alpha.tmp", b"/data/keys/alpha").unwrap();
    assert_eq!(read(&mut tree, b"/data/keys/alpha"), b"two, longer");
    // A file removed while open keeps its blocks until closed.
    let log = tree.open(b"/data/log", CREATE).unwrap();
    tree.write_at(log, 0, &vec![5; 20_000]).unwrap();
    tree.remove_file(b"/data/log").unwrap();
    let mut buffer = [0; 4];
    assert_eq!(tree.read_at(log, 19_996, &mut buffer).unwrap(), 4);
    tree.close(log);
    assert_eq!(tree.rename(b"/data/keys/alpha", b"/tmp/alpha"), Err(Error::CrossDevice));
    assert_eq!(tree.remove_directory(b"/data/keys"), Err(Error::NotEmpty));
    assert_eq!(tree.remove_directory(b"/data"), Err(Error::Busy));
    tree.make_directory(b"/data/empty", 0o700).unwrap();
    tree.remove_directory(b"/data/empty").unwrap();
    let keys = tree.lookup(b"/data/keys/alpha").unwrap();
    // `utimes`: a time before ext2's range is clamped to it; the last one set stays.
    tree.set_modified(keys, -5).unwrap();
    assert_eq!(tree.metadata(keys).unwrap().modified, 0);
    tree.set_modified(keys, 1_234_567_890).unwrap();
    tree.sync(keys).unwrap();
    drop(tree);

    let checked = tool("e2fsck", &["-fn", image.to_str().unwrap()]);
    assert!(
        checked.status.success(),
        "e2fsck:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let listed = tool("debugfs", &["-R", "cat /keys/alpha", image.to_str().unwrap()]);
    assert_eq!(listed.stdout, b"two, longer");

    // What a reboot sees, through a read-only device this time.
    let mut tree = mounted(&image, true);
    assert_eq!(
        names(&mut tree, b"/data"),
        [
            ("keys".to_string(), FileType::Directory),
            ("lost+found".to_string(), FileType::Directory)
        ]
    );
    assert_eq!(names(&mut tree, b"/data/keys"), [("alpha".to_string(), FileType::File)]);
    assert_eq!(read(&mut tree, b"/data/keys/alpha"), b"two, longer");
    let metadata = {
        let id = tree.lookup(b"/data/keys/alpha").unwrap();
        tree.metadata(id).unwrap()
    };
    assert_eq!(
        (metadata.size, metadata.permissions, metadata.modified),
        (11, 0o644, 1_234_567_890)
    );
    let alpha = tree.lookup(b"/data/keys/alpha").unwrap();
    assert_eq!(tree.set_modified(alpha, 1), Err(Error::ReadOnly));
    // What `df` would say: mke2fs's 4 MiB in 1 KiB blocks, some of it used.
    let statistics = tree.statistics(alpha);
    assert_eq!(statistics.kind, unik_fs::FileSystemKind::Ext2);
    assert_eq!(
        (statistics.block_size, statistics.blocks, statistics.writable),
        (1024, 4096, false)
    );
    assert!(0 < statistics.free_blocks && statistics.free_blocks < statistics.blocks);
    assert!(0 < statistics.free_files && statistics.free_files < statistics.files);
    assert_eq!(tree.open(b"/data/keys/beta", CREATE), Err(Error::ReadOnly));
    assert_eq!(tree.open(b"/data/keys/alpha", CREATE), Err(Error::ReadOnly));
    assert_eq!(tree.make_directory(b"/data/new", 0o755), Err(Error::ReadOnly));
}
