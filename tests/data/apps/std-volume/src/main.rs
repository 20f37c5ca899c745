//! Files on a volume across boots: `write N` stores N keys under /data/keys, each written
//! to a temporary file, synced, renamed into place and the folder synced; `read` lists and
//! prints them; `grow` appends a large file; `readonly` tries to write (the disk attached
//! `:ro`); `stream FROM` checks that keys 0 to FROM-1 are there, then stores keys from
//! FROM on, printing `acked N` once key N is durable (for the crash test, which kills the
//! VM at any moment); `bench` measures sequential writes and reads and synced small
//! writes (under `VOLUME_ROOT`, default /data, so the same program measures the host).
use std::fs::{self, File};
use std::io::{ErrorKind, Write};

fn store(key: &str, value: &str) -> std::io::Result<()> {
    let temporary = format!("/data/keys/{key}.tmp");
    let mut file = File::create(&temporary)?;
    file.write_all(value.as_bytes())?;
    file.sync_all()?;
    fs::rename(&temporary, format!("/data/keys/{key}"))?;
    File::open("/data/keys")?.sync_all()
}

/// Key `index`'s value.
fn value(index: usize) -> String {
    format!("value {index} {}", "x".repeat(index % 50))
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
        Some("stream") => {
            let from: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0);
            if fs::create_dir("/data/keys").is_ok() {
                println!("made /data/keys");
            }
            for index in 0..from {
                let found = fs::read_to_string(format!("/data/keys/key-{index:04}"));
                if found.as_deref().ok() != Some(value(index).as_str()) {
                    println!("lost key {index}: {found:?}");
                    std::process::exit(2);
                }
            }
            println!("verified {from}");
            for index in from.. {
                store(&format!("key-{index:04}"), &value(index)).unwrap();
                println!("acked {index}");
            }
        }
        Some("read") => {
            let mut names: Vec<String> = fs::read_dir("/data/keys")
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .filter(|name| !name.ends_with(".tmp"))
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
        Some("bench") => bench(),
        Some("readonly") => {
            let error = fs::write("/data/new", "x").unwrap_err();
            println!("write: {:?}: {error}", error.kind());
            println!("{} keys readable", fs::read_dir("/data/keys").unwrap().count());
        }
        _ => println!("usage: std-volume write N | read | grow | readonly"),
    }
}

/// Sequential write and read of 16 MiB in 1 MiB chunks, and 200 synced 100-byte writes.
fn bench() {
    use std::io::Read;
    use std::time::Instant;
    let root = std::env::var("VOLUME_ROOT").unwrap_or_else(|_| "/data".into());
    let path = format!("{root}/bench.bin");
    let chunk = vec![0x5a; 1 << 20];
    let start = Instant::now();
    let mut file = File::create(&path).unwrap();
    for _ in 0..16 {
        file.write_all(&chunk).unwrap();
    }
    file.sync_all().unwrap();
    let write = start.elapsed().as_secs_f64();
    drop(file);
    let start = Instant::now();
    let mut file = File::open(&path).unwrap();
    let mut buffer = vec![0; 1 << 20];
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        total += read;
    }
    let read = start.elapsed().as_secs_f64();
    assert_eq!(total, 16 << 20);
    fs::remove_file(&path).unwrap();
    let small = format!("{root}/small.bin");
    let mut file = File::create(&small).unwrap();
    let start = Instant::now();
    for _ in 0..200 {
        file.write_all(&[7; 100]).unwrap();
        file.sync_data().unwrap();
    }
    let synced = start.elapsed().as_secs_f64();
    fs::remove_file(&small).unwrap();
    println!(
        "sequential write {:.1} MB/s, read {:.1} MB/s, synced 100-byte writes {:.0}/s",
        16.0 * 1.048_576 / write,
        16.0 * 1.048_576 / read,
        200.0 / synced
    );
}
