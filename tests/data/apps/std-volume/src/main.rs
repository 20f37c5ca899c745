//! Files on a volume across boots: `write N` stores N keys under /data/keys, each written
//! to a temporary file, synced and renamed into place; `read` lists and prints them;
//! `grow` appends a large file; `readonly` tries to write (the disk attached `:ro`).
use std::fs::{self, File};
use std::io::{ErrorKind, Write};

fn store(key: &str, value: &str) -> std::io::Result<()> {
    let temporary = format!("/data/keys/{key}.tmp");
    let mut file = File::create(&temporary)?;
    file.write_all(value.as_bytes())?;
    file.sync_all()?;
    fs::rename(&temporary, format!("/data/keys/{key}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") => {
            let count: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10);
            match fs::create_dir("/data/keys") {
                Ok(()) => println!("made /data/keys"),
                Err(error) if error.kind() == ErrorKind::AlreadyExists => println!("/data/keys exists"),
                Err(error) => panic!("mkdir: {error}"),
            }
            for index in 0..count {
                store(
                    &format!("key-{index:04}"),
                    &format!("value {index} {}", "x".repeat(index % 50)),
                )
                .unwrap();
            }
            println!("stored {count} keys");
        }
        Some("read") => {
            let mut names: Vec<String> = fs::read_dir("/data/keys")
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            println!("{} keys", names.len());
            for name in names.iter().take(3).chain(names.last()) {
                println!("{name} = {}", fs::read_to_string(format!("/data/keys/{name}")).unwrap());
            }
        }
        Some("grow") => {
            let mut file = File::options().create(true).append(true).open("/data/big").unwrap();
            let chunk = vec![b'z'; 1 << 20];
            for _ in 0..3 {
                file.write_all(&chunk).unwrap();
            }
            file.sync_data().unwrap();
            println!("big is {} bytes", file.metadata().unwrap().len());
        }
        Some("readonly") => {
            let error = fs::write("/data/new", "x").unwrap_err();
            println!("write: {:?}: {error}", error.kind());
            println!("{} keys readable", fs::read_dir("/data/keys").unwrap().count());
        }
        _ => println!("usage: std-volume write N | read | grow | readonly"),
    }
}
