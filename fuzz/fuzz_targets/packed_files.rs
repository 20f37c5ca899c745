//! The files component's tree on arbitrary bytes as its ramdisk (the loader hands the
//! guest whatever it was given), then a walk over every path the tree made, and the
//! operations a program may try on them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_fs::{OpenOptions, RamMount, Tree};

fuzz_target!(|bytes: &[u8]| {
    let mut tree = Tree::new(bytes, [RamMount { path: "/tmp", limit: 4096 }].into_iter(), || 0);
    let mut folders = vec![b"/".to_vec()];
    while let Some(folder) = folders.pop() {
        let Ok(id) = tree.lookup(&folder) else { continue };
        let mut names = Vec::new();
        let mut index = 2;
        while let Ok(Some(entry)) = tree.entry(id, index) {
            names.push(entry.name.to_vec());
            index += 1;
        }
        for name in names {
            let mut path = folder.clone();
            if path != b"/" {
                path.push(b'/');
            }
            path.extend_from_slice(&name);
            let Ok(child) = tree.lookup(&path) else { continue };
            if tree.is_directory(child) {
                folders.push(path);
            } else {
                let mut buffer = [0; 64];
                let _ = tree.read_at(child, 0, &mut buffer);
                let _ = tree.open(&path, OpenOptions { write: true, ..OpenOptions::default() });
                let _ = tree.rename(&path, b"/tmp/x");
            }
        }
    }
});
