//! std::fs as programs use it: packed read-only files (configuration, a static page) and a
//! RAM /tmp. Run on the host with `FILES_ROOT` pointing at the same tree, the first part
//! prints the same lines as in the unikernel; the part after `guest only:` checks what
//! only the guest has (a read-only `/etc`, a /tmp that fills up).
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};

fn root() -> String {
    std::env::var("FILES_ROOT").unwrap_or_default()
}

fn at(path: &str) -> String {
    format!("{}{path}", root())
}

/// An error as a line: its kind and text, both the same on Linux and in the guest.
fn error(error: std::io::Error) -> String {
    format!("{:?}: {error}", error.kind())
}

fn names(folder: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(at(folder))
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let kind = if entry.file_type().unwrap().is_dir() { "/" } else { "" };
            format!("{}{kind}", entry.file_name().to_string_lossy())
        })
        .collect();
    names.sort();
    names
}

fn packed() {
    let config = fs::read_to_string(at("/etc/app/app.toml")).unwrap();
    println!("app.toml: {:?}", config);
    let metadata = fs::metadata(at("/etc/app/app.toml")).unwrap();
    println!(
        "app.toml: {} bytes, file {}, mode {:o}",
        metadata.len(),
        metadata.is_file(),
        metadata.permissions().mode() & 0o777
    );
    println!("/etc/app: {:?}", names("/etc/app"));
    println!(
        "/etc/app is a folder: {}",
        fs::metadata(at("/etc/app")).unwrap().is_dir()
    );
    let page = File::open(at("/srv/index.html")).unwrap();
    println!("index.html has {} lines", BufReader::new(&page).lines().count());
    let mut page = File::open(at("/srv/index.html")).unwrap();
    page.seek(SeekFrom::Start(16)).unwrap();
    let mut heading = [0; 15];
    page.read_exact(&mut heading).unwrap();
    println!("at 16: {:?}", String::from_utf8_lossy(&heading));
    println!("end at {}", page.seek(SeekFrom::End(-5)).unwrap());
    let mut tail = String::new();
    page.read_to_string(&mut tail).unwrap();
    println!("tail: {tail:?}");
    let mut word = [0; 6];
    println!(
        "read_at 36: {} {:?}",
        page.read_at(&mut word, 36).unwrap(),
        String::from_utf8_lossy(&word)
    );
    println!("read_at past the end: {}", page.read_at(&mut word, 1000).unwrap());
    for conf in names("/etc/app/conf.d") {
        let text = fs::read_to_string(at(&format!("/etc/app/conf.d/{conf}"))).unwrap();
        println!("conf.d/{conf}: {}", text.trim());
    }
    let canonical = fs::canonicalize(at("/etc/app/conf.d/../app.toml")).unwrap();
    println!(
        "canonical: {}",
        canonical.display().to_string().trim_start_matches(&root())
    );
    println!(
        "missing: {}",
        error(File::open(at("/etc/app/missing.toml")).unwrap_err())
    );
    println!(
        "file as folder: {}",
        error(fs::read_dir(at("/etc/app/app.toml")).map(|_| ()).unwrap_err())
    );
    println!("folder as file: {}", error(fs::read(at("/etc/app")).unwrap_err()));
    println!(
        "exists: {} {}",
        fs::exists(at("/srv/index.html")).unwrap(),
        fs::exists(at("/srv/nothing")).unwrap()
    );
}

fn scratch() {
    let work = at("/tmp/work");
    fs::create_dir_all(format!("{work}/a/b")).unwrap();
    fs::write(format!("{work}/notes.txt"), "first line\n").unwrap();
    let mut notes = OpenOptions::new()
        .append(true)
        .open(format!("{work}/notes.txt"))
        .unwrap();
    notes.write_all(b"second line\n").unwrap();
    notes.sync_all().unwrap();
    println!("notes: {:?}", fs::read_to_string(format!("{work}/notes.txt")).unwrap());
    let metadata = fs::metadata(format!("{work}/notes.txt")).unwrap();
    println!(
        "notes: {} bytes, mode {:o}",
        metadata.len(),
        metadata.permissions().mode() & 0o777
    );
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(format!("{work}/data.bin"))
        .unwrap();
    file.write_all(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    file.write_at(b"XY", 2).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    println!("data: {bytes:?}");
    file.set_len(3).unwrap();
    println!("cut to {}", file.metadata().unwrap().len());
    file.set_len(6).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    bytes.clear();
    file.read_to_end(&mut bytes).unwrap();
    println!("grown: {bytes:?}");
    file.seek(SeekFrom::Start(10)).unwrap();
    file.write_all(b"!").unwrap();
    println!("after a hole: {} bytes", file.metadata().unwrap().len());
    drop(file);
    println!(
        "create_new again: {}",
        error(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(format!("{work}/notes.txt"))
                .unwrap_err()
        )
    );
    fs::rename(format!("{work}/notes.txt"), format!("{work}/a/notes.txt")).unwrap();
    fs::copy(format!("{work}/a/notes.txt"), format!("{work}/a/b/copy.txt")).unwrap();
    println!("work: {:?}", names("/tmp/work"));
    println!("work/a: {:?}", names("/tmp/work/a"));
    println!(
        "copy: {:?}",
        fs::read_to_string(format!("{work}/a/b/copy.txt")).unwrap()
    );
    println!(
        "remove full folder: {}",
        error(fs::remove_dir(format!("{work}/a")).unwrap_err())
    );
    println!(
        "remove folder as file: {}",
        error(fs::remove_file(format!("{work}/a")).unwrap_err())
    );
    println!(
        "mkdir again: {}",
        error(fs::create_dir(format!("{work}/a")).unwrap_err())
    );
    println!(
        "rename onto a folder: {}",
        error(fs::rename(format!("{work}/data.bin"), format!("{work}/a")).unwrap_err())
    );
    // A file removed while open stays readable through its descriptor.
    let mut open = File::open(format!("{work}/a/b/copy.txt")).unwrap();
    fs::remove_file(format!("{work}/a/b/copy.txt")).unwrap();
    let mut text = String::new();
    open.read_to_string(&mut text).unwrap();
    println!(
        "removed but open: {} bytes, exists {}",
        text.len(),
        fs::exists(format!("{work}/a/b/copy.txt")).unwrap()
    );
    std::env::set_current_dir(format!("{work}/a")).unwrap();
    println!(
        "cwd: {}",
        std::env::current_dir()
            .unwrap()
            .display()
            .to_string()
            .trim_start_matches(&root())
    );
    println!(
        "relative: {:?}",
        fs::read_to_string("notes.txt").unwrap().lines().next()
    );
    std::env::set_current_dir(at("/")).unwrap();
    fs::remove_dir_all(&work).unwrap();
    println!("after remove_dir_all: {}", fs::exists(&work).unwrap());
}

/// `flock` locks as std's `File::lock` family takes them: held by an open file description,
/// excluding other opens of the same file, ended by `unlock` or by closing. (A `lock` that
/// waits for another thread to let go is libc-edges', which has threads.)
fn locks() {
    let path = at("/tmp/lock");
    let first = File::create(&path).unwrap();
    let second = File::open(&path).unwrap();
    let tried = |file: &File, exclusive: bool| {
        let result = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match result {
            Ok(()) => "locked".to_string(),
            Err(fs::TryLockError::WouldBlock) => "would block".to_string(),
            Err(fs::TryLockError::Error(failure)) => error(failure),
        }
    };
    first.lock().unwrap();
    println!("second, exclusive while first holds it: {}", tried(&second, true));
    println!("second, shared while first holds it: {}", tried(&second, false));
    println!(
        "a copy of first shares its lock: {}",
        tried(&first.try_clone().unwrap(), true)
    );
    first.unlock().unwrap();
    println!("second, shared after unlock: {}", tried(&second, false));
    println!("first, shared beside it: {}", tried(&first, false));
    println!("first, exclusive while second shares: {}", tried(&first, true));
    drop(second);
    println!("first, exclusive once second closed: {}", tried(&first, true));
    drop(first);
    fs::remove_file(&path).unwrap();
}

/// Modification times set through std (`futimens`), and what a read-only file says.
fn times() {
    use std::time::{Duration, UNIX_EPOCH};
    let path = at("/tmp/dated");
    let file = File::create(&path).unwrap();
    let then = UNIX_EPOCH + Duration::from_secs(1_234_567_890);
    file.set_modified(then).unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    println!(
        "set_modified: {:?}",
        modified.duration_since(UNIX_EPOCH).unwrap().as_secs()
    );
    let times = fs::FileTimes::new().set_modified(then + Duration::from_secs(60));
    file.set_times(times).unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    println!(
        "set_times: {:?}",
        modified.duration_since(UNIX_EPOCH).unwrap().as_secs()
    );
    let read_only = File::open(&path).unwrap();
    println!(
        "set_modified through a read-only open: {:?}",
        read_only.set_modified(then).map_err(error)
    );
    fs::remove_file(&path).unwrap();
}

fn guest_only() {
    println!("guest only:");
    println!(
        "write packed: {}",
        error(fs::write("/etc/app/app.toml", "x").unwrap_err())
    );
    println!(
        "create in packed: {}",
        error(File::create("/srv/new.html").unwrap_err())
    );
    println!(
        "mkdir in packed: {}",
        error(fs::create_dir("/etc/app/new").unwrap_err())
    );
    println!(
        "remove packed: {}",
        error(fs::remove_file("/srv/index.html").unwrap_err())
    );
    println!("rename out of /tmp: {}", {
        fs::write("/tmp/move", "m").unwrap();
        error(fs::rename("/tmp/move", "/etc/move").unwrap_err())
    });
    // /tmp holds 256 KiB: the write that passes the limit is cut short, the next fails.
    let mut big = File::create("/tmp/big").unwrap();
    let chunk = vec![7u8; 100 << 10];
    let mut written = 0;
    let full = loop {
        match big.write(&chunk) {
            Ok(count) => written += count,
            Err(error) => break error,
        }
    };
    println!("filled /tmp with {written} bytes, then: {}", error(full));
    // Removed while open, a file keeps its bytes until it is closed.
    fs::remove_file("/tmp/big").unwrap();
    println!(
        "still full while open: {}",
        error(fs::write("/tmp/x", [1]).unwrap_err())
    );
    drop(big);
    fs::remove_file("/tmp/move").unwrap();
    fs::write("/tmp/again", vec![1u8; 200 << 10]).unwrap();
    println!(
        "after removing: wrote {} bytes",
        fs::metadata("/tmp/again").unwrap().len()
    );
    println!("mmap of a packed file: {}", mapped());
}

/// The first line of a packed file through `mmap`, as a memory-mapping crate reads it.
fn mapped() -> String {
    unsafe extern "C" {
        fn mmap(address: *mut u8, length: usize, protection: i32, flags: i32, fd: i32, offset: i64) -> *mut u8;
    }
    let file = File::open("/etc/app/app.toml").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    // PROT_READ, MAP_PRIVATE.
    let bytes = unsafe { mmap(std::ptr::null_mut(), 4096, 1, 2, fd, 0) };
    let text = unsafe { std::slice::from_raw_parts(bytes, 18) };
    String::from_utf8_lossy(text).into_owned()
}

fn main() {
    packed();
    scratch();
    locks();
    times();
    if root().is_empty() {
        guest_only();
    }
}
