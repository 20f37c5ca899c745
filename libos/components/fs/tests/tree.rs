//! The tree against the rules std programs rely on: packed files read-only, RAM file
//! systems writable up to their limit, POSIX's answers for the edge cases.

use unik_fs::{Error, FileType, OpenOptions, RamMount, Tree};

/// A newc archive, as `unik build` writes it: `(name, mode, contents)`.
fn archive(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (name, mode, data) in entries {
        let builder = cpio::NewcBuilder::new(name).mode(*mode).mtime(1_700_000_000);
        let mut writer = builder.write(&mut bytes, data.len() as u32);
        std::io::Write::write_all(&mut writer, data).unwrap();
        writer.finish().unwrap();
    }
    cpio::newc::trailer(&mut bytes).unwrap();
    bytes
}

fn clock() -> i64 {
    1_800_000_000
}

fn packed() -> Vec<u8> {
    archive(&[
        ("etc", 0o040755, b""),
        ("etc/app", 0o040755, b""),
        ("etc/app/config.toml", 0o100644, b"port = 8080\n"),
        ("srv/index.html", 0o100444, b"<h1>hi</h1>"),
        ("dev/null", 0o020666, b""),
    ])
}

fn tree(archive: &[u8], limit: u64) -> Tree<'_> {
    Tree::new(archive, [RamMount { path: "/tmp", limit }].into_iter(), clock)
}

fn read_all(tree: &mut Tree<'_>, path: &str) -> Vec<u8> {
    let id = tree.lookup(path.as_bytes()).unwrap();
    let mut buffer = vec![0; 4096];
    let count = tree.read_at(id, 0, &mut buffer).unwrap();
    buffer.truncate(count);
    buffer
}

const WRITE: OpenOptions = OpenOptions {
    write: true,
    create: true,
    exclusive: false,
    truncate: true,
    directory: false,
    permissions: 0o644,
};

#[test]
fn packed_files_are_served_from_the_archive() {
    let bytes = packed();
    let mut tree = tree(&bytes, 1024);
    assert_eq!(read_all(&mut tree, "/etc/app/config.toml"), b"port = 8080\n");
    assert_eq!(read_all(&mut tree, "etc/./app/../app//config.toml"), b"port = 8080\n");
    let id = tree.lookup(b"/srv/index.html").unwrap();
    let metadata = tree.metadata(id).unwrap();
    assert_eq!(
        (
            metadata.file_type,
            metadata.size,
            metadata.permissions,
            metadata.modified
        ),
        (FileType::File, 11, 0o444, 1_700_000_000)
    );
    // Folders missing from the archive are made; other kinds of entry are left out.
    let srv = tree.lookup(b"/srv").unwrap();
    assert!(tree.is_directory(srv));
    assert_eq!(tree.lookup(b"/dev/null"), Err(Error::NotFound));
    assert_eq!(tree.lookup(b"/etc/app/config.toml/"), Err(Error::NotDirectory));
    assert_eq!(tree.lookup(b"/etc/app/config.toml/x"), Err(Error::NotDirectory));
    assert_eq!(tree.lookup(b"/etc/nope"), Err(Error::NotFound));
    assert_eq!(tree.lookup(b""), Err(Error::NotFound));
    let long = format!("/{}", "x".repeat(256));
    assert_eq!(tree.lookup(long.as_bytes()), Err(Error::NameTooLong));
    let mut buffer = [0; 4];
    assert_eq!(tree.read_at(id, 9, &mut buffer), Ok(2));
    assert_eq!(tree.read_at(id, 100, &mut buffer), Ok(0));
}

#[test]
fn packed_files_are_read_only() {
    let bytes = packed();
    let mut tree = tree(&bytes, 1024);
    assert_eq!(tree.open(b"/etc/app/config.toml", WRITE), Err(Error::ReadOnly));
    assert_eq!(tree.open(b"/etc/new", WRITE), Err(Error::ReadOnly));
    assert_eq!(tree.make_directory(b"/etc/d", 0o755), Err(Error::ReadOnly));
    assert_eq!(tree.remove_file(b"/etc/app/config.toml"), Err(Error::ReadOnly));
    assert_eq!(tree.rename(b"/srv/index.html", b"/srv/x"), Err(Error::ReadOnly));
    let id = tree.open(b"/srv/index.html", OpenOptions::default()).unwrap();
    assert_eq!(tree.write_at(id, 0, b"x"), Err(Error::ReadOnly));
    assert_eq!(tree.set_len(id, 0), Err(Error::ReadOnly));
    assert_eq!(tree.set_permissions(id, 0o600), Err(Error::ReadOnly));
    assert_eq!(tree.set_modified(id, 0), Err(Error::ReadOnly));
    let statistics = tree.statistics(id);
    assert_eq!(
        (statistics.kind, statistics.writable, statistics.free_blocks),
        (unik_fs::FileSystemKind::Packed, false, 0)
    );
}

#[test]
fn a_ram_file_system_holds_files_up_to_its_limit() {
    let bytes = packed();
    let mut tree = tree(&bytes, 10);
    let id = tree.open(b"/tmp/a", WRITE).unwrap();
    assert_eq!(tree.write_at(id, 0, b"hello"), Ok(5));
    assert_eq!(tree.write_at(id, 3, b"p!"), Ok(2));
    assert_eq!(read_all(&mut tree, "/tmp/a"), b"help!");
    // A write past the limit is cut short, the next one has no space.
    assert_eq!(tree.write_at(id, 5, b" me now"), Ok(5));
    assert_eq!(tree.write_at(id, 10, b"x"), Err(Error::NoSpace));
    assert_eq!(tree.usage(id), (10, 10));
    // Overwriting inside the file needs no room.
    assert_eq!(tree.write_at(id, 0, b"H"), Ok(1));
    assert_eq!(tree.set_len(id, 11), Err(Error::NoSpace));
    tree.set_len(id, 2).unwrap();
    assert_eq!(tree.usage(id), (2, 10));
    // A hole reads as zeroes.
    assert_eq!(tree.write_at(id, 4, b"z"), Ok(1));
    assert_eq!(read_all(&mut tree, "/tmp/a"), b"He\0\0z");
    assert_eq!(tree.metadata(id).unwrap().modified, 1_800_000_000);
    let statistics = tree.statistics(id);
    assert_eq!(statistics.kind, unik_fs::FileSystemKind::Ram);
    assert_eq!(
        (statistics.block_size, statistics.blocks, statistics.free_blocks),
        (4096, 1, 0)
    );
    tree.set_modified(id, -86_400).unwrap();
    assert_eq!(tree.metadata(id).unwrap().modified, -86_400);
    // Removing a file gives its room back once it is closed.
    tree.remove_file(b"/tmp/a").unwrap();
    assert_eq!(tree.lookup(b"/tmp/a"), Err(Error::NotFound));
    assert_eq!(tree.metadata(id).unwrap().links, 0);
    assert_eq!(read_all_open(&mut tree, id), b"He\0\0z");
    tree.close(id);
    let other = tree.open(b"/tmp/b", WRITE).unwrap();
    assert_eq!(tree.usage(other), (0, 10));
}

/// Directory `id`'s entries: name and kind.
fn listing(tree: &mut Tree<'_>, id: usize) -> Vec<(String, FileType)> {
    let mut names = Vec::new();
    while let Some(entry) = tree.entry(id, names.len()).unwrap() {
        names.push((String::from_utf8(entry.name.to_vec()).unwrap(), entry.file_type));
    }
    names
}

fn read_all_open(tree: &mut Tree<'_>, id: usize) -> Vec<u8> {
    let mut buffer = vec![0; 64];
    let count = tree.read_at(id, 0, &mut buffer).unwrap();
    buffer.truncate(count);
    buffer
}

#[test]
fn open_follows_posix() {
    let bytes = packed();
    let mut tree = tree(&bytes, 100);
    let exclusive = OpenOptions {
        exclusive: true,
        ..WRITE
    };
    let id = tree.open(b"/tmp/f", exclusive).unwrap();
    tree.write_at(id, 0, b"abc").unwrap();
    assert_eq!(tree.open(b"/tmp/f", exclusive), Err(Error::Exists));
    // Without O_TRUNC the contents stay; with it they go.
    let kept = OpenOptions {
        truncate: false,
        ..WRITE
    };
    let again = tree.open(b"/tmp/f", kept).unwrap();
    assert_eq!(tree.metadata(again).unwrap().size, 3);
    tree.open(b"/tmp/f", WRITE).unwrap();
    assert_eq!(tree.metadata(again).unwrap().size, 0);
    assert_eq!(tree.open(b"/tmp", WRITE), Err(Error::IsDirectory));
    assert_eq!(tree.open(b"/tmp/new/", WRITE), Err(Error::IsDirectory));
    assert_eq!(tree.open(b"/tmp/missing/f", WRITE), Err(Error::NotFound));
    assert_eq!(tree.open(b"/tmp/f/g", WRITE), Err(Error::NotDirectory));
    let directory = OpenOptions {
        directory: true,
        ..OpenOptions::default()
    };
    assert_eq!(tree.open(b"/tmp/f", directory), Err(Error::NotDirectory));
    assert!(tree.open(b"/tmp", directory).is_ok());
    assert_eq!(tree.open(b"/tmp/nothing", OpenOptions::default()), Err(Error::NotFound));
}

#[test]
fn directories_list_and_remove_as_on_linux() {
    let bytes = packed();
    let mut tree = tree(&bytes, 100);
    tree.make_directory(b"/tmp/d", 0o755).unwrap();
    assert_eq!(tree.make_directory(b"/tmp/d", 0o755), Err(Error::Exists));
    assert_eq!(tree.make_directory(b"/tmp/x/y", 0o755), Err(Error::NotFound));
    assert_eq!(tree.make_directory(b"/", 0o755), Err(Error::Exists));
    let f = tree.open(b"/tmp/d/f", WRITE).unwrap();
    tree.close(f);
    let d = tree.lookup(b"/tmp/d").unwrap();
    let names = listing(&mut tree, d);
    assert_eq!(
        names,
        [
            (".".to_string(), FileType::Directory),
            ("..".to_string(), FileType::Directory),
            ("f".to_string(), FileType::File)
        ]
    );
    assert_eq!(tree.remove_directory(b"/tmp/d"), Err(Error::NotEmpty));
    assert_eq!(tree.remove_file(b"/tmp/d"), Err(Error::IsDirectory));
    assert_eq!(tree.remove_directory(b"/tmp/d/f"), Err(Error::NotDirectory));
    assert_eq!(tree.remove_directory(b"/tmp"), Err(Error::Busy));
    assert_eq!(tree.remove_directory(b"/tmp/d/."), Err(Error::Invalid));
    assert_eq!(tree.remove_directory(b"/tmp/d/.."), Err(Error::NotEmpty));
    assert_eq!(tree.remove_directory(b"/etc/app"), Err(Error::ReadOnly));
    tree.remove_file(b"/tmp/d/f").unwrap();
    tree.remove_directory(b"/tmp/d/").unwrap();
    assert_eq!(tree.lookup(b"/tmp/d"), Err(Error::NotFound));
    assert_eq!(
        {
            let config = tree.lookup(b"/etc/app/config.toml").unwrap();
            tree.entry(config, 0).map(|entry| entry.map(|entry| entry.inode))
        },
        Err(Error::NotDirectory)
    );
}

#[test]
fn rename_replaces_like_rename_2() {
    let bytes = packed();
    let mut tree = tree(&bytes, 100);
    for name in [&b"/tmp/a"[..], b"/tmp/b"] {
        let id = tree.open(name, WRITE).unwrap();
        tree.write_at(id, 0, name).unwrap();
        tree.close(id);
    }
    tree.make_directory(b"/tmp/d", 0o755).unwrap();
    tree.make_directory(b"/tmp/e", 0o755).unwrap();
    tree.rename(b"/tmp/a", b"/tmp/b").unwrap();
    assert_eq!(read_all(&mut tree, "/tmp/b"), b"/tmp/a");
    assert_eq!(tree.lookup(b"/tmp/a"), Err(Error::NotFound));
    let b = tree.lookup(b"/tmp/b").unwrap();
    assert_eq!(tree.usage(b).0, 6);
    assert_eq!(tree.rename(b"/tmp/b", b"/tmp/d"), Err(Error::IsDirectory));
    assert_eq!(tree.rename(b"/tmp/d", b"/tmp/b"), Err(Error::NotDirectory));
    assert_eq!(tree.rename(b"/tmp/d", b"/tmp/d/inside"), Err(Error::Invalid));
    assert_eq!(tree.rename(b"/tmp/b", b"/etc/b"), Err(Error::CrossDevice));
    assert_eq!(tree.rename(b"/etc/app/config.toml", b"/etc/x"), Err(Error::ReadOnly));
    assert_eq!(tree.rename(b"/tmp/missing", b"/tmp/c"), Err(Error::NotFound));
    assert_eq!(tree.rename(b"/tmp", b"/tmp2"), Err(Error::CrossDevice));
    tree.rename(b"/tmp/b", b"/tmp/d/b").unwrap();
    tree.rename(b"/tmp/e", b"/tmp/d2").unwrap();
    tree.rename(b"/tmp/d2", b"/tmp/d/b").map(|_| ()).unwrap_err();
    tree.rename(b"/tmp/d/b", b"/tmp/d/b").unwrap();
    assert_eq!(read_all(&mut tree, "/tmp/d/b"), b"/tmp/a");
}

#[test]
fn the_working_directory_moves_and_relative_paths_follow() {
    let bytes = packed();
    let mut tree = tree(&bytes, 100);
    assert_eq!(tree.path_of(tree.working_node()), b"/");
    tree.change_directory(b"/etc/app").unwrap();
    assert_eq!(tree.path_of(tree.working_node()), b"/etc/app");
    assert_eq!(read_all(&mut tree, "config.toml"), b"port = 8080\n");
    assert_eq!(tree.change_directory(b"config.toml"), Err(Error::NotDirectory));
    tree.change_directory(b"../../..").unwrap();
    assert_eq!(tree.path_of(tree.working_node()), b"/");
}

#[test]
fn a_damaged_archive_gives_the_entries_before_the_damage() {
    let mut bytes = packed();
    let cut = bytes.len() - 200;
    bytes.truncate(cut);
    let mut tree = tree(&bytes, 100);
    assert!(tree.lookup(b"/etc/app").is_ok());
    let mut garbage = Tree::new(b"not an archive", std::iter::empty(), clock);
    assert_eq!(garbage.lookup(b"/tmp"), Err(Error::NotFound));
    assert!(garbage.lookup(b"/").is_ok());
}

#[test]
fn ram_mounts_come_from_the_builders_text() {
    let mounts: Vec<_> = unik_fs::ram_mounts("/tmp=4096;/var/cache=1;bad;/x=y").collect();
    assert_eq!(
        mounts,
        [
            RamMount {
                path: "/tmp",
                limit: 4096
            },
            RamMount {
                path: "/var/cache",
                limit: 1
            }
        ]
    );
}
