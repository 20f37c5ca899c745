//! The volume against Debian's e2fsprogs: `mke2fs` makes the file system, this crate
//! writes files and folders on it, `e2fsck -fn` must find nothing to fix, and `debugfs`
//! must read back what was written (and this crate what `debugfs` wrote).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;
use unik_ext2::{BlockDevice, DeviceError, Error, Ext2, FileKind, SECTOR_SIZE};

/// A disk image file as a block device, counting flush requests.
struct FileDevice {
    file: std::fs::File,
    sectors: u64,
    flushes: u32,
    read_only: bool,
}

impl FileDevice {
    fn open(path: &Path, read_only: bool) -> FileDevice {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)
            .unwrap();
        let sectors = file.metadata().unwrap().len() / SECTOR_SIZE as u64;
        FileDevice {
            file,
            sectors,
            flushes: 0,
            read_only,
        }
    }
}

impl BlockDevice for FileDevice {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read(&mut self, sector: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.file.seek(SeekFrom::Start(sector * 512)).map_err(|_| DeviceError)?;
        self.file.read_exact(buffer).map_err(|_| DeviceError)
    }

    fn write(&mut self, sector: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        assert!(!self.read_only, "a write to a read-only device");
        self.file.seek(SeekFrom::Start(sector * 512)).map_err(|_| DeviceError)?;
        self.file.write_all(bytes).map_err(|_| DeviceError)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.flushes += 1;
        self.file.sync_data().map_err(|_| DeviceError)
    }
}

fn clock() -> u32 {
    1_800_000_000
}

/// Runs an e2fsprogs tool (Debian's `e2fsprogs`, which `cargo xtask setup` installs).
fn tool(program: &str, args: &[&str]) -> std::process::Output {
    let path = ["/usr/sbin", "/sbin", "/usr/bin"]
        .iter()
        .map(|folder| Path::new(folder).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{program} is missing: install Debian's e2fsprogs"));
    Command::new(path).args(args).output().unwrap()
}

/// A fresh ext2 image of `size` with `options` for mke2fs.
fn image(dir: &Path, size: &str, options: &[&str]) -> std::path::PathBuf {
    let path = dir.join("volume.img");
    let mut args = vec!["-q", "-F", "-t", "ext2"];
    args.extend_from_slice(options);
    let path_text = path.to_str().unwrap();
    args.extend([path_text, size]);
    let made = tool("mke2fs", &args);
    assert!(
        made.status.success(),
        "mke2fs: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    path
}

/// `e2fsck -fn` must find nothing to fix.
fn assert_clean(path: &Path) {
    let checked = tool("e2fsck", &["-fn", path.to_str().unwrap()]);
    assert!(
        checked.status.success(),
        "e2fsck found problems:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

fn debugfs(path: &Path, request: &str) -> Vec<u8> {
    let output = tool("debugfs", &["-R", request, path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// Bytes that tell their offsets apart.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn read_all(volume: &mut Ext2<FileDevice>, number: u32) -> Vec<u8> {
    let size = volume.stat(number).unwrap().size as usize;
    let mut bytes = vec![0; size];
    assert_eq!(volume.read_at(number, 0, &mut bytes).unwrap(), size);
    bytes
}

fn exercise(options: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = image(dir.path(), "8M", options);
    let mut volume = Ext2::open(FileDevice::open(&path, false), clock).unwrap();
    let root = volume.root();
    let data = volume.create(root, b"data", FileKind::Directory, 0o755).unwrap();
    let small = volume.create(data, b"small.txt", FileKind::File, 0o644).unwrap();
    assert_eq!(volume.write_at(small, 0, b"hello, ext2\n").unwrap(), 12);
    // Past the direct blocks and, with 1 KiB blocks, past the single indirect ones.
    let big_bytes = pattern(300 << 10, 7);
    let big = volume.create(data, b"big.bin", FileKind::File, 0o600).unwrap();
    assert_eq!(volume.write_at(big, 0, &big_bytes).unwrap(), big_bytes.len());
    // A hole, then bytes far out.
    let sparse = volume.create(root, b"sparse", FileKind::File, 0o644).unwrap();
    volume.write_at(sparse, 2 << 20, b"end").unwrap();
    // Many entries: the directory grows past one block.
    let many = volume.create(root, b"many", FileKind::Directory, 0o755).unwrap();
    for index in 0..200 {
        let name = format!("entry-with-a-longish-name-{index:03}");
        let file = volume.create(many, name.as_bytes(), FileKind::File, 0o644).unwrap();
        volume.write_at(file, 0, name.as_bytes()).unwrap();
    }
    for index in (0..200).step_by(3) {
        let name = format!("entry-with-a-longish-name-{index:03}");
        let released = volume.unlink(many, name.as_bytes()).unwrap().unwrap();
        volume.release(released).unwrap();
    }
    // Rename within and across folders, replacing a file.
    volume.rename(data, b"small.txt", root, b"moved.txt").unwrap();
    let old = volume.create(root, b"old.txt", FileKind::File, 0o644).unwrap();
    volume.write_at(old, 0, b"old").unwrap();
    let released = volume.rename(root, b"moved.txt", root, b"old.txt").unwrap();
    volume.release(released.unwrap()).unwrap();
    let nested = volume.create(data, b"nested", FileKind::Directory, 0o755).unwrap();
    volume.rename(data, b"nested", many, b"nested").unwrap();
    assert_eq!(volume.lookup(nested, b"..").unwrap(), many);
    assert_eq!(volume.rename(root, b"many", nested, b"loop"), Err(Error::Invalid));
    // Cut a big file in the middle of its indirect blocks, then grow it with a hole.
    let cut = volume.create(root, b"cut.bin", FileKind::File, 0o644).unwrap();
    volume.write_at(cut, 0, &pattern(200 << 10, 3)).unwrap();
    volume.set_len(cut, 70_000).unwrap();
    volume.set_len(cut, 80_000).unwrap();
    let removed = volume.create(root, b"gone", FileKind::Directory, 0o755).unwrap();
    assert_eq!(volume.remove_directory(root, b"data").unwrap_err(), Error::NotEmpty);
    volume.remove_directory(root, b"gone").unwrap();
    assert_eq!(volume.lookup(root, b"gone"), Err(Error::NotFound));
    let _ = removed;
    volume.sync().unwrap();
    assert!(volume.into_device().flushes >= 1);

    assert_clean(&path);
    assert_eq!(debugfs(&path, "cat /old.txt"), b"hello, ext2\n");
    assert_eq!(debugfs(&path, "cat /data/big.bin"), big_bytes);
    assert_eq!(
        debugfs(&path, "cat /many/entry-with-a-longish-name-001"),
        b"entry-with-a-longish-name-001"
    );
    let mut cut_expected = pattern(200 << 10, 3);
    cut_expected.truncate(70_000);
    cut_expected.resize(80_000, 0);
    assert_eq!(debugfs(&path, "cat /cut.bin"), cut_expected);
    let sparse_bytes = debugfs(&path, "cat /sparse");
    assert_eq!(sparse_bytes.len(), (2 << 20) + 3);
    assert!(sparse_bytes[..2 << 20].iter().all(|&b| b == 0) && sparse_bytes.ends_with(b"end"));

    // What debugfs writes, this crate reads; and the listing holds what is left.
    let host = dir.path().join("host.txt");
    std::fs::write(&host, pattern(5000, 9)).unwrap();
    let written = tool(
        "debugfs",
        &[
            "-w",
            "-R",
            &format!("write {} /from-host", host.display()),
            path.to_str().unwrap(),
        ],
    );
    assert!(written.status.success());
    let mut volume = Ext2::open(FileDevice::open(&path, true), clock).unwrap();
    assert!(!volume.is_writable());
    let from_host = volume.lookup(root, b"from-host").unwrap();
    assert_eq!(read_all(&mut volume, from_host), pattern(5000, 9));
    let names: Vec<String> = (0..)
        .map_while(|index| volume.entry(many, index).unwrap())
        .map(|(name, _, _)| String::from_utf8(name).unwrap())
        .collect();
    assert_eq!(names.len(), 2 + 200 - 67 + 1, "{names:?}");
    assert!(names.contains(&"nested".to_string()) && !names.contains(&"entry-with-a-longish-name-000".to_string()));
    assert_eq!(volume.write_at(from_host, 0, b"x"), Err(Error::ReadOnly));
}

#[test]
fn one_kib_blocks_and_128_byte_inodes() {
    exercise(&["-b", "1024", "-I", "128"]);
}

#[test]
fn four_kib_blocks_and_debians_defaults() {
    exercise(&["-b", "4096"]);
}

#[test]
fn a_full_volume_says_so_and_stays_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = image(dir.path(), "1M", &["-b", "1024", "-I", "128", "-m", "0"]);
    let mut volume = Ext2::open(FileDevice::open(&path, false), clock).unwrap();
    let file = volume.create(volume.root(), b"fill", FileKind::File, 0o644).unwrap();
    let chunk = pattern(64 << 10, 1);
    let mut written = 0u64;
    let full = loop {
        match volume.write_at(file, written, &chunk) {
            Ok(count) => written += count as u64,
            Err(error) => break error,
        }
    };
    assert_eq!(full, Error::NoSpace);
    assert!(written > 800 << 10, "{written}");
    assert_eq!(volume.stat(file).unwrap().size, written);
    volume.sync().unwrap();
    assert_clean(&path);
}

#[test]
fn what_is_not_ext2_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let zeroes = dir.path().join("zeroes.img");
    std::fs::write(&zeroes, vec![0; 1 << 20]).unwrap();
    assert!(matches!(
        Ext2::open(FileDevice::open(&zeroes, true), clock),
        Err(Error::NotExt2)
    ));
    let ext4 = image(dir.path(), "8M", &[]);
    let made = tool("mke2fs", &["-q", "-F", "-t", "ext4", ext4.to_str().unwrap(), "8M"]);
    assert!(made.status.success());
    match Ext2::open(FileDevice::open(&ext4, true), clock) {
        Err(Error::Unsupported(feature)) => assert!(!feature.is_empty()),
        other => panic!("ext4 opened: {:?}", other.map(|_| ())),
    }
}
