//! Edge cases of the C functions the library OS provides, printed one per line with their
//! results and `errno`: the test runs this program on the host's Linux, the reference, and
//! in the unikernel, and compares the outputs.

use libc::{c_int, c_void};
use std::ffi::CStr;

unsafe extern "C" {
    /// In glibc and musl, but not declared by the `libc` crate for musl.
    fn getentropy(buffer: *mut c_void, length: usize) -> c_int;
    /// In glibc and musl, but not declared by the `libc` crate.
    fn pthread_mutexattr_gettype(attributes: *const libc::pthread_mutexattr_t, kind: *mut c_int) -> c_int;
}

fn errno() -> c_int {
    // SAFETY: the C library's errno location is always valid.
    unsafe { *libc::__errno_location() }
}

fn clear_errno() {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = 0 };
}

/// Prints `name: result` and, for a failure (-1), the errno's name.
fn report(name: &str, result: i64) {
    if result == -1 {
        println!("{name}: -1 {}", errno_name(errno()));
    } else {
        println!("{name}: {result}");
    }
}

fn errno_name(code: c_int) -> String {
    let names = [
        (libc::EPERM, "EPERM"),
        (libc::ENOENT, "ENOENT"),
        (libc::EBADF, "EBADF"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EFAULT, "EFAULT"),
        (libc::EINVAL, "EINVAL"),
        (libc::ENOTTY, "ENOTTY"),
        (libc::ESPIPE, "ESPIPE"),
        (libc::ERANGE, "ERANGE"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::ETIMEDOUT, "ETIMEDOUT"),
        (libc::EBUSY, "EBUSY"),
        (libc::EIO, "EIO"),
        (libc::EDEADLK, "EDEADLK"),
        (libc::ESRCH, "ESRCH"),
        (libc::EROFS, "EROFS"),
        (libc::EACCES, "EACCES"),
        (libc::EOWNERDEAD, "EOWNERDEAD"),
        (libc::ENOTRECOVERABLE, "ENOTRECOVERABLE"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    ];
    names
        .iter()
        .find(|(value, _)| *value == code)
        .map_or_else(|| format!("errno {code}"), |(_, name)| name.to_string())
}

fn descriptors() {
    // SAFETY: every pointer passed is valid for the length given (or the length is 0).
    unsafe {
        report("write(-1)", libc::write(-1, b"x".as_ptr().cast(), 1) as i64);
        report("write(1, null, 0)", libc::write(1, std::ptr::null(), 0) as i64);
        let mut buffer = [0u8; 4];
        report("read(0, 4)", libc::read(0, buffer.as_mut_ptr().cast(), 4) as i64);
        report("close(99)", libc::close(99).into());
        report("dup(99)", libc::dup(99).into());
        report("fcntl(99, F_GETFD)", libc::fcntl(99, libc::F_GETFD).into());
        report("fcntl(1, F_GETFD)", libc::fcntl(1, libc::F_GETFD).into());
        report("lseek(1)", libc::lseek(1, 0, libc::SEEK_SET));
        clear_errno();
        let tty = libc::isatty(1);
        println!("isatty(1): {tty} {}", errno_name(errno()));
        let copy = libc::dup(1);
        println!("dup(1) is above 2: {}", copy > 2);
        report("write(dup(1), 0)", libc::write(copy, b"".as_ptr().cast(), 0) as i64);
        report("close(dup(1))", libc::close(copy).into());
        let high = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 10);
        println!("fcntl(1, F_DUPFD_CLOEXEC, 10) is at least 10: {}", high >= 10);
        report("close(that)", libc::close(high).into());
    }
}

/// File locks: `flock` between two opens of one file, and `fcntl` record locks, which a
/// process never conflicts with itself over.
fn file_locks() {
    let path = std::ffi::CString::new(format!("/tmp/libc-edges-{}.lock", std::process::id())).unwrap();
    let record = |kind: c_int| libc::flock {
        l_type: kind as _,
        l_whence: libc::SEEK_SET as _,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // SAFETY: the path is a C string; every `struct flock` pointer is to a live one.
    unsafe {
        let writable = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_RDWR, 0o600);
        let readable = libc::open(path.as_ptr(), libc::O_RDONLY);
        report("flock(writable, LOCK_EX)", libc::flock(writable, libc::LOCK_EX).into());
        report(
            "flock(readable, LOCK_EX | LOCK_NB)",
            libc::flock(readable, libc::LOCK_EX | libc::LOCK_NB).into(),
        );
        report("flock(readable, LOCK_SH | LOCK_EX)", libc::flock(readable, 3).into());
        // LOCK_MAND (32): mandatory locks, gone from Linux, which accepts and ignores them.
        report("flock(readable, LOCK_MAND | LOCK_EX)", libc::flock(readable, 34).into());
        report("flock(99, LOCK_SH)", libc::flock(99, libc::LOCK_SH).into());
        report("flock(writable, LOCK_UN)", libc::flock(writable, libc::LOCK_UN).into());
        report(
            "flock(readable, LOCK_SH | LOCK_NB)",
            libc::flock(readable, libc::LOCK_SH | libc::LOCK_NB).into(),
        );
        let mut lock = record(libc::F_WRLCK);
        report(
            "fcntl(readable, F_SETLK, F_WRLCK)",
            libc::fcntl(readable, libc::F_SETLK, &mut lock).into(),
        );
        let mut lock = record(libc::F_RDLCK);
        report(
            "fcntl(readable, F_SETLKW, F_RDLCK)",
            libc::fcntl(readable, libc::F_SETLKW, &mut lock).into(),
        );
        let mut lock = record(libc::F_WRLCK);
        report(
            "fcntl(writable, F_GETLK, F_WRLCK)",
            libc::fcntl(writable, libc::F_GETLK, &mut lock).into(),
        );
        println!("F_GETLK finds it free: {}", c_int::from(lock.l_type) == libc::F_UNLCK);
        let mut lock = record(7);
        report(
            "fcntl(writable, F_SETLK, 7)",
            libc::fcntl(writable, libc::F_SETLK, &mut lock).into(),
        );
        libc::close(readable);
        // A blocked `flock` waits until the holder's description closes.
        report(
            "flock(writable, LOCK_EX) again",
            libc::flock(writable, libc::LOCK_EX).into(),
        );
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let other = libc::open(path.as_ptr(), libc::O_RDONLY);
                let locked = libc::flock(other, libc::LOCK_EX);
                libc::close(other);
                locked
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        println!("the waiting thread is done while it is held: {}", waiter.is_finished());
        libc::close(writable);
        report("its flock once the holder closed", waiter.join().unwrap().into());
        libc::unlink(path.as_ptr());
    }
}

unsafe extern "C" fn by_value(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to the i32 elements.
    unsafe { (*a.cast::<i32>()).cmp(&*b.cast::<i32>()) as c_int }
}

/// The string searches, `qsort` and the calendar that C code in crates calls.
fn strings_and_calendar() {
    // SAFETY: C strings, a live array, a live `tm`.
    unsafe {
        let text = c"key=value=x".as_ptr();
        println!("strchr '=': {}", libc::strchr(text, b'=' as c_int).offset_from(text));
        println!("strrchr '=': {}", libc::strrchr(text, b'=' as c_int).offset_from(text));
        println!("strchr '#' is null: {}", libc::strchr(text, b'#' as c_int).is_null());
        println!("strcspn '=': {}", libc::strcspn(text, c"=".as_ptr()));
        println!("strspn 'eky': {}", libc::strspn(text, c"eky".as_ptr()));
        println!(
            "strcmp sign: {}",
            libc::strcmp(c"ab".as_ptr(), c"abc".as_ptr()).signum()
        );
        println!("strncmp 2: {}", libc::strncmp(c"abX".as_ptr(), c"abY".as_ptr(), 2));
        let mut values = [5, -3, 9, 0, 5, 12, -8];
        libc::qsort(values.as_mut_ptr().cast(), values.len(), 4, Some(by_value));
        println!("qsort: {values:?}");
        let mut calendar: libc::tm = std::mem::zeroed();
        let seconds: libc::time_t = 951_827_696;
        libc::gmtime_r(&seconds, &mut calendar);
        println!(
            "gmtime_r: {}-{}-{} {}:{}:{} weekday {} yearday {}",
            calendar.tm_year + 1900,
            calendar.tm_mon + 1,
            calendar.tm_mday,
            calendar.tm_hour,
            calendar.tm_min,
            calendar.tm_sec,
            calendar.tm_wday,
            calendar.tm_yday
        );
        let mut now: libc::timeval = std::mem::zeroed();
        libc::gettimeofday(&mut now, std::ptr::null_mut());
        let seconds = libc::time(std::ptr::null_mut());
        println!("gettimeofday agrees with time: {}", (seconds - now.tv_sec).abs() <= 1);
    }
}

/// Vectored and polled console I/O, and what the descriptors say they are. Standard input
/// is empty (`/dev/null` on the host); standard output is not a terminal.
fn vectored_and_polled() {
    // SAFETY: every pointer passed is valid for the length given.
    unsafe {
        let parts = [
            libc::iovec {
                iov_base: b"writev: ".as_ptr().cast_mut().cast(),
                iov_len: 8,
            },
            libc::iovec {
                iov_base: b"two parts\n".as_ptr().cast_mut().cast(),
                iov_len: 10,
            },
        ];
        report("  writev returned", libc::writev(1, parts.as_ptr(), 2) as i64);
        report("writev(1, 0 parts)", libc::writev(1, parts.as_ptr(), 0) as i64);
        report("writev(-1)", libc::writev(-1, parts.as_ptr(), 2) as i64);
        report("writev(1, -1 parts)", libc::writev(1, parts.as_ptr(), -1) as i64);
        let mut buffer = [0u8; 8];
        let into = [libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: 8,
        }];
        report("readv(0)", libc::readv(0, into.as_ptr(), 1) as i64);
        report("readv(99)", libc::readv(99, into.as_ptr(), 1) as i64);
        let mut fds = [
            libc::pollfd {
                fd: 1,
                events: libc::POLLOUT,
                revents: 0,
            },
            libc::pollfd {
                fd: -1,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: 99,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        report("poll(stdout, -1, 99)", libc::poll(fds.as_mut_ptr(), 3, 0).into());
        println!(
            "  revents: {:#x} {:#x} {:#x}",
            fds[0].revents, fds[1].revents, fds[2].revents
        );
        report("poll(none, 1 ms)", libc::poll(std::ptr::null_mut(), 0, 1).into());
        let mut size: libc::winsize = std::mem::zeroed();
        report(
            "ioctl(1, TIOCGWINSZ)",
            libc::ioctl(1, libc::TIOCGWINSZ, &mut size).into(),
        );
        report(
            "ioctl(99, TIOCGWINSZ)",
            libc::ioctl(99, libc::TIOCGWINSZ, &mut size).into(),
        );
        println!("isatty(1): {} {}", libc::isatty(1), errno_name(errno()));
        let mut status: libc::stat = std::mem::zeroed();
        report("fstat(99)", libc::fstat(99, &mut status).into());
    }
}

fn clocks() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut time: libc::timespec = std::mem::zeroed();
        report("clock_gettime(9999)", libc::clock_gettime(9999, &mut time).into());
        report(
            "clock_getres(MONOTONIC)",
            libc::clock_getres(libc::CLOCK_MONOTONIC, &mut time).into(),
        );
        println!("  resolution: {}s {}ns", time.tv_sec, time.tv_nsec);
        let mut long: libc::timespec = std::mem::zeroed();
        long.tv_nsec = 2_000_000_000;
        report("nanosleep(2e9 ns)", libc::nanosleep(&long, std::ptr::null_mut()).into());
        long.tv_nsec = -1;
        report("nanosleep(-1 ns)", libc::nanosleep(&long, std::ptr::null_mut()).into());
        let short = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1000,
        };
        println!(
            "clock_nanosleep(9999): {}",
            errno_name(libc::clock_nanosleep(9999, 0, &short, std::ptr::null_mut()))
        );
        report("nanosleep(1 us)", libc::nanosleep(&short, std::ptr::null_mut()).into());
    }
}

fn memory() {
    // SAFETY: every block is used within its size and freed once.
    unsafe {
        // Through black_box: LLVM may otherwise assume an allocation succeeds.
        let zero = std::hint::black_box(libc::malloc(std::hint::black_box(0)));
        println!("malloc(0) is not null: {}", !zero.is_null());
        libc::free(zero);
        clear_errno();
        let huge = std::hint::black_box(libc::calloc(std::hint::black_box(usize::MAX), 2));
        println!("calloc(MAX, 2): null {} {}", huge.is_null(), errno_name(errno()));
        let mut block: *mut c_void = std::ptr::null_mut();
        println!(
            "posix_memalign(3): {}",
            errno_name(libc::posix_memalign(&mut block, 3, 16))
        );
        println!("posix_memalign(64): {}", libc::posix_memalign(&mut block, 64, 100));
        println!("  aligned: {}", block as usize % 64 == 0);
        libc::free(block);
        let aligned = libc::aligned_alloc(256, 512);
        println!("aligned_alloc(256, 512) aligned: {}", aligned as usize % 256 == 0);
        libc::free(aligned);
        let grown = libc::realloc(std::ptr::null_mut(), 4).cast::<u8>();
        grown.copy_from(b"abcd".as_ptr(), 4);
        let grown = libc::realloc(grown.cast(), 4096).cast::<u8>();
        println!(
            "realloc keeps the contents: {}",
            std::slice::from_raw_parts(grown, 4) == b"abcd"
        );
        libc::free(grown.cast());
        let mut bytes = [0u8; 300];
        report(
            "getrandom(32)",
            libc::getrandom(bytes.as_mut_ptr().cast(), 32, 0) as i64,
        );
        report("getentropy(256)", getentropy(bytes.as_mut_ptr().cast(), 256).into());
        report("getentropy(257)", getentropy(bytes.as_mut_ptr().cast(), 257).into());
        let page = libc::memalign(4096, 10);
        println!("memalign(4096, 10) aligned: {}", page as usize % 4096 == 0);
        libc::free(page);

        let anonymous = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        let read_write = libc::PROT_READ | libc::PROT_WRITE;
        let mapped = libc::mmap(std::ptr::null_mut(), 10_000, read_write, anonymous, -1, 0);
        println!(
            "mmap(10000): page-aligned {}",
            mapped != libc::MAP_FAILED && mapped as usize % 4096 == 0
        );
        println!(
            "  zero-filled: {}",
            std::slice::from_raw_parts(mapped.cast::<u8>(), 10_000)
                .iter()
                .all(|&b| b == 0)
        );
        report(
            "madvise(DONTNEED)",
            libc::madvise(mapped, 4096, libc::MADV_DONTNEED).into(),
        );
        report("mprotect(READ|WRITE)", libc::mprotect(mapped, 4096, read_write).into());
        report("munmap", libc::munmap(mapped, 10_000).into());
        let page = libc::mmap(std::ptr::null_mut(), 4096, read_write, anonymous, -1, 0);
        page.cast::<u8>().write_bytes(7, 4096);
        let grown = libc::mremap(page, 4096, 3 * 4096, libc::MREMAP_MAYMOVE);
        let bytes = std::slice::from_raw_parts(grown.cast::<u8>(), 3 * 4096);
        println!(
            "mremap(MAYMOVE, 1 -> 3 pages): kept {} zeroes after {}",
            bytes[..4096].iter().all(|&b| b == 7),
            bytes[4096..].iter().all(|&b| b == 0)
        );
        let shrunk = libc::mremap(grown, 3 * 4096, 4096, 0);
        println!("mremap(3 -> 1 page) stays: {}", shrunk == grown);
        clear_errno();
        println!(
            "mremap(0 bytes): failed {} {}",
            libc::mremap(shrunk, 4096, 0, 0) == libc::MAP_FAILED,
            errno_name(errno())
        );
        println!(
            "mremap(flags 0x100): failed {} {}",
            libc::mremap(shrunk, 4096, 8192, 0x100) == libc::MAP_FAILED,
            errno_name(errno())
        );
        println!(
            "mremap(unaligned): failed {} {}",
            libc::mremap(shrunk.cast::<u8>().add(1).cast(), 4096, 8192, 0) == libc::MAP_FAILED,
            errno_name(errno())
        );
        report("munmap(remapped)", libc::munmap(shrunk, 4096).into());
        // A file mapping grown: the file's next bytes, zeroes past its end in the last page.
        let path = std::ffi::CString::new(format!("/tmp/libc-edges-{}.map", std::process::id())).unwrap();
        let contents: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(path.to_str().unwrap(), &contents).unwrap();
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
        let first = libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ, libc::MAP_PRIVATE, fd, 0);
        libc::close(fd);
        let whole = libc::mremap(first, 4096, 3 * 4096, libc::MREMAP_MAYMOVE);
        let bytes = std::slice::from_raw_parts(whole.cast::<u8>(), 3 * 4096);
        println!(
            "mremap(file, 1 -> 3 pages): the file {} then zeroes {}",
            bytes[..10_000] == contents[..],
            bytes[10_000..].iter().all(|&b| b == 0)
        );
        libc::munmap(whole, 3 * 4096);
        libc::unlink(path.as_ptr());
        shared_file_mappings();
        clear_errno();
        let failed = libc::mmap(std::ptr::null_mut(), 0, read_write, anonymous, -1, 0);
        println!(
            "mmap(0 bytes): failed {} {}",
            failed == libc::MAP_FAILED,
            errno_name(errno())
        );
    }
}

/// Shared file mappings: stores reach the file and its readers, writes to the file show in
/// the mapping, two mappings of one range see each other, `msync` checks its arguments.
fn shared_file_mappings() {
    let path = std::ffi::CString::new(format!("/tmp/libc-edges-{}.shared", std::process::id())).unwrap();
    std::fs::write(path.to_str().unwrap(), vec![b'.'; 5000]).unwrap();
    let shared = libc::MAP_SHARED;
    let read_write = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: the path is a C string; each mapping is used within its length.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDWR);
        let map = libc::mmap(std::ptr::null_mut(), 8192, read_write, shared, fd, 0).cast::<u8>();
        println!(
            "mmap(SHARED, read-write): ok {}",
            map.cast::<c_void>() != libc::MAP_FAILED
        );
        map.copy_from(b"HELLO".as_ptr(), 5);
        let mut read = [0u8; 5];
        libc::pread(fd, read.as_mut_ptr().cast(), 5, 0);
        println!("  pread sees the store: {}", &read == b"HELLO");
        libc::pwrite(fd, b"xyz".as_ptr().cast(), 3, 100);
        println!(
            "  the mapping sees pwrite: {}",
            std::slice::from_raw_parts(map.add(100), 3) == b"xyz"
        );
        println!(
            "  past the end of the file: zeroes {}",
            std::slice::from_raw_parts(map.add(5000), 3192).iter().all(|&b| b == 0)
        );
        let again = libc::mmap(std::ptr::null_mut(), 8192, libc::PROT_READ, shared, fd, 0).cast::<u8>();
        map.add(7).write(b'!');
        println!(
            "  a second mapping sees the first's stores: {}",
            again.add(7).read() == b'!'
        );
        report("  munmap(second)", libc::munmap(again.cast(), 8192).into());
        report("  msync(MS_SYNC)", libc::msync(map.cast(), 8192, libc::MS_SYNC).into());
        report(
            "  msync(MS_SYNC | MS_ASYNC)",
            libc::msync(map.cast(), 8192, libc::MS_SYNC | libc::MS_ASYNC).into(),
        );
        report(
            "  msync(unaligned)",
            libc::msync(map.add(1).cast(), 100, libc::MS_ASYNC).into(),
        );
        map.add(4999).write(b'$');
        report("  munmap", libc::munmap(map.cast(), 8192).into());
        libc::close(fd);
        let contents = std::fs::read(path.to_str().unwrap()).unwrap();
        println!(
            "the file after munmap: {} bytes, {:?} .. {:?}",
            contents.len(),
            String::from_utf8_lossy(&contents[..8]),
            String::from_utf8_lossy(&contents[4998..])
        );
        let read_only = libc::open(path.as_ptr(), libc::O_RDONLY);
        clear_errno();
        let refused = libc::mmap(std::ptr::null_mut(), 4096, read_write, shared, read_only, 0);
        println!(
            "mmap(SHARED, read-write) of a read-only descriptor: failed {} {}",
            refused == libc::MAP_FAILED,
            errno_name(errno())
        );
        libc::close(read_only);
        libc::unlink(path.as_ptr());
    }
}

/// Modification times (`utimes`, `utimensat`, `futimens`) and owners (`chown` and co.,
/// to the program's own user and group, which is all a program that is not root may give).
fn file_times_and_owners() {
    let path = std::ffi::CString::new(format!("/tmp/libc-edges-{}.times", std::process::id())).unwrap();
    let mtime = |fd: c_int| {
        // SAFETY: a zeroed `stat` is valid; `fstat` fills it.
        let mut status: libc::stat = unsafe { std::mem::zeroed() };
        unsafe { libc::fstat(fd, &mut status) };
        status.st_mtime
    };
    let timeval = |seconds, micros| libc::timeval {
        tv_sec: seconds,
        tv_usec: micros,
    };
    let timespec = |seconds, nanos| libc::timespec {
        tv_sec: seconds,
        tv_nsec: nanos,
    };
    // SAFETY: the path is a C string; every pointer is to a live pair of times.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_RDWR, 0o600);
        let times = [timeval(5, 0), timeval(1_000_000_000, 250_000)];
        report(
            "utimes(file, 2001-09-09)",
            libc::utimes(path.as_ptr(), times.as_ptr()).into(),
        );
        println!("  st_mtime: {}", mtime(fd));
        let times = [timespec(0, libc::UTIME_NOW), timespec(0, libc::UTIME_OMIT)];
        report(
            "utimensat(UTIME_NOW, UTIME_OMIT)",
            libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), 0).into(),
        );
        println!("  st_mtime kept: {}", mtime(fd) == 1_000_000_000);
        report("futimens(fd, null)", libc::futimens(fd, std::ptr::null()).into());
        println!("  st_mtime is now: {}", mtime(fd) > 1_700_000_000);
        let times = [timeval(0, 0), timeval(0, 1_000_000)];
        report(
            "utimes(1000000 microseconds)",
            libc::utimes(path.as_ptr(), times.as_ptr()).into(),
        );
        let times = [timespec(0, 0), timespec(0, -1)];
        report("futimens(-1 nanoseconds)", libc::futimens(fd, times.as_ptr()).into());
        report(
            "utimensat(flags 0x4000)",
            libc::utimensat(libc::AT_FDCWD, path.as_ptr(), std::ptr::null(), 0x4000).into(),
        );
        report(
            "utimes(missing)",
            libc::utimes(c"/tmp/libc-edges-missing".as_ptr(), std::ptr::null()).into(),
        );
        report("futimens(99)", libc::futimens(99, std::ptr::null()).into());
        let (user, group) = (libc::geteuid(), libc::getegid());
        report("fchown(fd, -1, -1)", libc::fchown(fd, u32::MAX, u32::MAX).into());
        report("fchown(fd, own user and group)", libc::fchown(fd, user, group).into());
        report(
            "chown(file, own user, -1)",
            libc::chown(path.as_ptr(), user, u32::MAX).into(),
        );
        report(
            "lchown(file, -1, own group)",
            libc::lchown(path.as_ptr(), u32::MAX, group).into(),
        );
        report(
            "fchownat(flags 0x4000)",
            libc::fchownat(libc::AT_FDCWD, path.as_ptr(), user, group, 0x4000).into(),
        );
        report(
            "chown(missing)",
            libc::chown(c"/tmp/libc-edges-missing".as_ptr(), user, group).into(),
        );
        report("fchown(99)", libc::fchown(99, user, group).into());
        libc::close(fd);
        libc::unlink(path.as_ptr());
    }
}

/// `dlopen` and `dlsym` of what no program has: null, and `dlerror` says why once.
fn dynamic_loading() {
    // SAFETY: C strings, and the texts `dlerror` returns are NUL-terminated.
    unsafe {
        let handle = libc::dlopen(c"libunik-edge-missing.so".as_ptr(), libc::RTLD_NOW);
        println!("dlopen(missing): null {}", handle.is_null());
        println!("  dlerror says why: {}", !libc::dlerror().is_null());
        println!("  dlerror again is null: {}", libc::dlerror().is_null());
        let symbol = libc::dlsym(libc::RTLD_DEFAULT, c"unik_edge_no_such_symbol".as_ptr());
        println!("dlsym(missing): null {}", symbol.is_null());
        println!("  dlerror says why: {}", !libc::dlerror().is_null());
    }
}

fn signals() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        report("sigaction(0)", libc::sigaction(0, std::ptr::null(), &mut old).into());
        report("sigaction(65)", libc::sigaction(65, std::ptr::null(), &mut old).into());
        report(
            "sigaction(SIGUSR1)",
            libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut old).into(),
        );
        println!("  SIGUSR1 is SIG_DFL: {}", old.sa_sigaction == libc::SIG_DFL);
        let previous = libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        println!(
            "signal(SIGPIPE) was SIG_IGN (std sets it): {}",
            previous == libc::SIG_IGN
        );
        let mut set: libc::sigset_t = std::mem::zeroed();
        report("sigemptyset", libc::sigemptyset(&mut set).into());
        report("sigaddset(SIGUSR2)", libc::sigaddset(&mut set, libc::SIGUSR2).into());
        println!("sigismember(SIGUSR2): {}", libc::sigismember(&set, libc::SIGUSR2));
        println!("sigismember(SIGUSR1): {}", libc::sigismember(&set, libc::SIGUSR1));
        report("sigaddset(0)", libc::sigaddset(&mut set, 0).into());
        report("sigfillset", libc::sigfillset(&mut set).into());
        report("sigdelset(SIGUSR1)", libc::sigdelset(&mut set, libc::SIGUSR1).into());
        println!("  sigismember(SIGUSR1): {}", libc::sigismember(&set, libc::SIGUSR1));
        println!("  sigismember(SIGTERM): {}", libc::sigismember(&set, libc::SIGTERM));
        report("sigdelset(65)", libc::sigdelset(&mut set, 65).into());
        let mut old: libc::sigset_t = std::mem::zeroed();
        report("sigprocmask(99)", libc::sigprocmask(99, &set, &mut old).into());
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        report(
            "sigprocmask(BLOCK, USR2)",
            libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old).into(),
        );
        report(
            "sigprocmask(query)",
            libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut old).into(),
        );
        println!("  USR2 blocked: {}", libc::sigismember(&old, libc::SIGUSR2));
        println!(
            "pthread_sigmask(UNBLOCK, USR2): {}",
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut())
        );
        println!(
            "pthread_sigmask(99): {}",
            errno_name(libc::pthread_sigmask(99, &set, std::ptr::null_mut()))
        );
        let mut stack: libc::stack_t = std::mem::zeroed();
        report(
            "sigaltstack(query)",
            libc::sigaltstack(std::ptr::null(), &mut stack).into(),
        );
        println!("  disabled: {}", stack.ss_flags & libc::SS_DISABLE != 0);
    }
}

fn process() {
    // SAFETY: every pointer passed points to a live value of the size given.
    unsafe {
        report("sysconf(_SC_PAGESIZE)", libc::sysconf(libc::_SC_PAGESIZE));
        report("sysconf(-1)", libc::sysconf(-1));
        let mut small = [0 as libc::c_char; 1];
        clear_errno();
        let cwd = libc::getcwd(small.as_mut_ptr(), 1);
        println!("getcwd(1 byte): null {} {}", cwd.is_null(), errno_name(errno()));
        println!("getauxval(AT_PAGESZ): {}", libc::getauxval(libc::AT_PAGESZ));
        let value = libc::getenv(c"UNIK_EDGE".as_ptr());
        let value = if value.is_null() {
            "(none)".into()
        } else {
            CStr::from_ptr(value).to_string_lossy().into_owned()
        };
        println!("getenv(UNIK_EDGE): {value}");
        println!(
            "getenv(UNIK_NOT_SET) is null: {}",
            libc::getenv(c"UNIK_NOT_SET".as_ptr()).is_null()
        );
        for code in [
            libc::EPERM,
            libc::ENOENT,
            libc::ENOSYS,
            libc::EAGAIN,
            libc::ECONNREFUSED,
            4242,
        ] {
            let mut text = [0 as libc::c_char; 64];
            let status = libc::strerror_r(code, text.as_mut_ptr(), text.len());
            println!(
                "strerror_r({code}): {status} {}",
                CStr::from_ptr(text.as_ptr()).to_string_lossy()
            );
        }
        let mut tiny = [0 as libc::c_char; 4];
        println!(
            "strerror_r(ENOENT, 4 bytes): {}",
            errno_name(libc::strerror_r(libc::ENOENT, tiny.as_mut_ptr(), 4))
        );
        println!(
            "gai_strerror(EAI_NONAME): {}",
            CStr::from_ptr(libc::gai_strerror(libc::EAI_NONAME)).to_string_lossy()
        );
        let mut system: libc::utsname = std::mem::zeroed();
        report("uname", libc::uname(&mut system).into());
        let field = |text: &[libc::c_char]| CStr::from_ptr(text.as_ptr()).to_string_lossy().into_owned();
        println!(
            "  sysname {}, machine is the target's: {}",
            field(&system.sysname),
            field(&system.machine) == std::env::consts::ARCH
        );
        println!(
            "  release has a version number: {}",
            field(&system.release)
                .split('.')
                .next()
                .is_some_and(|major| major.parse::<u32>().is_ok())
        );
        let mut host = [0 as libc::c_char; 1];
        report("gethostname(1 byte)", libc::gethostname(host.as_mut_ptr(), 1).into());
        let mut host = [0 as libc::c_char; 256];
        report("gethostname", libc::gethostname(host.as_mut_ptr(), 256).into());
        println!(
            "  names the machine uname does: {}",
            field(&host) == field(&system.nodename)
        );
        for text in [c"42", c"  -17xyz", c"+8", c"- 3", c"", c"2147483647"] {
            println!(
                "atoi({text:?}): {} atol: {} atoll: {}",
                libc::atoi(text.as_ptr()),
                libc::atol(text.as_ptr()),
                libc::atoll(text.as_ptr())
            );
        }
        let copy = libc::strdup(c"copied".as_ptr());
        println!("strdup: {:?}", CStr::from_ptr(copy));
        libc::free(copy.cast());
        let copy = libc::strndup(c"copied".as_ptr(), 4);
        println!("strndup(4): {:?}", CStr::from_ptr(copy));
        libc::free(copy.cast());
        let mut buffer = [1 as libc::c_char; 8];
        libc::strcpy(buffer.as_mut_ptr(), c"abc".as_ptr());
        println!("strcpy: {:?} then {}", CStr::from_ptr(buffer.as_ptr()), buffer[4]);
        let mut volume: libc::statfs = std::mem::zeroed();
        report("statfs(/tmp)", libc::statfs(c"/tmp".as_ptr(), &mut volume).into());
        println!("  block size: {}", volume.f_bsize > 0);
        report(
            "statfs(missing)",
            libc::statfs(c"/tmp/libc-edges-missing".as_ptr(), &mut volume).into(),
        );
        report("fstatfs(99)", libc::fstatfs(99, &mut volume).into());
    }
}

/// Normal, recursive and error-checking mutexes, locked again by their holder and by
/// another thread.
fn mutex_types() {
    // SAFETY: every mutex and attribute object is initialised before use and outlives it.
    unsafe {
        let outcome = |code: c_int| if code == 0 { "0".to_string() } else { errno_name(code) };
        let mut attributes: libc::pthread_mutexattr_t = std::mem::zeroed();
        report(
            "pthread_mutexattr_init",
            libc::pthread_mutexattr_init(&mut attributes).into(),
        );
        println!(
            "pthread_mutexattr_settype(99): {}",
            errno_name(libc::pthread_mutexattr_settype(&mut attributes, 99))
        );
        for (name, kind) in [
            ("normal", libc::PTHREAD_MUTEX_NORMAL),
            ("recursive", libc::PTHREAD_MUTEX_RECURSIVE),
            ("error-checking", libc::PTHREAD_MUTEX_ERRORCHECK),
        ] {
            libc::pthread_mutexattr_settype(&mut attributes, kind);
            let mut read = -1;
            pthread_mutexattr_gettype(&attributes, &mut read);
            println!("{name} mutex: type kept {}", read == kind);
            let mutex: &'static mut libc::pthread_mutex_t = Box::leak(Box::new(std::mem::zeroed()));
            libc::pthread_mutex_init(mutex, &attributes);
            println!("  lock: {}", libc::pthread_mutex_lock(mutex));
            if kind != libc::PTHREAD_MUTEX_NORMAL {
                println!("  lock again: {}", outcome(libc::pthread_mutex_lock(mutex)));
            }
            println!("  trylock: {}", outcome(libc::pthread_mutex_trylock(mutex)));
            let address = mutex as *mut libc::pthread_mutex_t as usize;
            let checks_holder = kind != libc::PTHREAD_MUTEX_NORMAL;
            let other = std::thread::spawn(move || {
                let mutex = address as *mut libc::pthread_mutex_t;
                // Unlocking a normal mutex another thread holds is undefined.
                let unlock = if checks_holder {
                    libc::pthread_mutex_unlock(mutex)
                } else {
                    0
                };
                (libc::pthread_mutex_trylock(mutex), unlock)
            });
            let (trylock, unlock) = other.join().unwrap();
            println!("  another thread's trylock: {}", outcome(trylock));
            if checks_holder {
                println!("  another thread's unlock: {}", outcome(unlock));
                let mut unlocks = Vec::new();
                for _ in 0..4 {
                    unlocks.push(outcome(libc::pthread_mutex_unlock(mutex)));
                }
                println!("  unlocks: {}", unlocks.join(" "));
            }
        }
        report(
            "pthread_mutexattr_destroy",
            libc::pthread_mutexattr_destroy(&mut attributes).into(),
        );

        // A robust mutex whose holder's thread ends passes to the next locker.
        let mut attributes: libc::pthread_mutexattr_t = std::mem::zeroed();
        libc::pthread_mutexattr_init(&mut attributes);
        println!(
            "setpshared(SHARED): {}",
            outcome(libc::pthread_mutexattr_setpshared(
                &mut attributes,
                libc::PTHREAD_PROCESS_SHARED
            ))
        );
        println!(
            "setpshared(5): {}",
            outcome(libc::pthread_mutexattr_setpshared(&mut attributes, 5))
        );
        println!(
            "setrobust(5): {}",
            outcome(libc::pthread_mutexattr_setrobust(&mut attributes, 5))
        );
        println!(
            "setrobust(ROBUST): {}",
            outcome(libc::pthread_mutexattr_setrobust(
                &mut attributes,
                libc::PTHREAD_MUTEX_ROBUST
            ))
        );
        let mutex: &'static mut libc::pthread_mutex_t = Box::leak(Box::new(std::mem::zeroed()));
        libc::pthread_mutex_init(mutex, &attributes);
        let address = mutex as *mut libc::pthread_mutex_t as usize;
        let holder = move || {
            std::thread::spawn(move || libc::pthread_mutex_lock(address as *mut libc::pthread_mutex_t))
                .join()
                .unwrap()
        };
        println!("robust: a thread locks it and ends: {}", outcome(holder()));
        println!("  lock: {}", outcome(libc::pthread_mutex_lock(mutex)));
        println!("  consistent: {}", outcome(libc::pthread_mutex_consistent(mutex)));
        println!("  consistent again: {}", outcome(libc::pthread_mutex_consistent(mutex)));
        println!("  unlock: {}", outcome(libc::pthread_mutex_unlock(mutex)));
        println!("  a thread locks it and ends: {}", outcome(holder()));
        println!("  trylock: {}", outcome(libc::pthread_mutex_trylock(mutex)));
        println!(
            "  unlock without making it consistent: {}",
            outcome(libc::pthread_mutex_unlock(mutex))
        );
        println!("  lock: {}", outcome(libc::pthread_mutex_lock(mutex)));
        libc::pthread_mutexattr_destroy(&mut attributes);
    }
}

fn threads() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut key: libc::pthread_key_t = 0;
        report("pthread_key_create", libc::pthread_key_create(&mut key, None).into());
        let value = 0x1234usize as *const c_void;
        report("pthread_setspecific", libc::pthread_setspecific(key, value).into());
        println!(
            "pthread_getspecific is what was set: {}",
            libc::pthread_getspecific(key) == value.cast_mut()
        );
        report("pthread_key_delete", libc::pthread_key_delete(key).into());
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        report("pthread_attr_init", libc::pthread_attr_init(&mut attr).into());
        println!(
            "pthread_attr_setstacksize(100): {}",
            errno_name(libc::pthread_attr_setstacksize(&mut attr, 100))
        );
        println!(
            "pthread_attr_setstacksize(1 MiB): {}",
            libc::pthread_attr_setstacksize(&mut attr, 1 << 20)
        );
        let mut size = 0usize;
        libc::pthread_attr_getstacksize(&attr, &mut size);
        println!("  stack size: {size}");
        report("pthread_attr_destroy", libc::pthread_attr_destroy(&mut attr).into());
        println!(
            "pthread_equal(self, self): {}",
            libc::pthread_equal(libc::pthread_self(), libc::pthread_self()) != 0
        );
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        report(
            "pthread_getattr_np(self)",
            libc::pthread_getattr_np(libc::pthread_self(), &mut attr).into(),
        );
        let (mut bottom, mut size) = (std::ptr::null_mut(), 0usize);
        report(
            "pthread_attr_getstack",
            libc::pthread_attr_getstack(&attr, &mut bottom, &mut size).into(),
        );
        let local = 0u8;
        let here = std::hint::black_box(&local) as *const u8 as usize;
        println!(
            "  a local is on the reported stack: {}",
            (bottom as usize..bottom as usize + size).contains(&here)
        );
        libc::pthread_attr_destroy(&mut attr);
        mutex_types();
        report("sched_yield", libc::sched_yield().into());
        let mut cpus: libc::cpu_set_t = std::mem::zeroed();
        let status = libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut cpus);
        println!(
            "sched_getaffinity: {} (a CPU at least: {})",
            status,
            libc::CPU_COUNT(&cpus) >= 1
        );
        report(
            "sched_getaffinity(size 0)",
            libc::sched_getaffinity(0, 0, &mut cpus).into(),
        );

        let mut mutex: libc::pthread_mutex_t = std::mem::zeroed();
        println!(
            "pthread_mutex_init: {}",
            libc::pthread_mutex_init(&mut mutex, std::ptr::null())
        );
        println!("pthread_mutex_lock: {}", libc::pthread_mutex_lock(&mut mutex));
        println!(
            "pthread_mutex_trylock (held): {}",
            errno_name(libc::pthread_mutex_trylock(&mut mutex))
        );
        println!("pthread_mutex_unlock: {}", libc::pthread_mutex_unlock(&mut mutex));
        println!(
            "pthread_mutex_trylock (free): {}",
            libc::pthread_mutex_trylock(&mut mutex)
        );
        println!("pthread_mutex_unlock: {}", libc::pthread_mutex_unlock(&mut mutex));
        println!("pthread_mutex_destroy: {}", libc::pthread_mutex_destroy(&mut mutex));

        let me = libc::pthread_self();
        println!(
            "pthread_setname_np(16 bytes): {}",
            errno_name(libc::pthread_setname_np(me, c"sixteen-letters!".as_ptr()))
        );
        println!(
            "pthread_setname_np(edges): {}",
            libc::pthread_setname_np(me, c"edges".as_ptr())
        );
        let mut name = [0 as libc::c_char; 16];
        println!(
            "pthread_getname_np: {} {}",
            libc::pthread_getname_np(me, name.as_mut_ptr(), 16),
            CStr::from_ptr(name.as_ptr()).to_string_lossy()
        );
        println!(
            "pthread_getname_np(3 bytes): {}",
            errno_name(libc::pthread_getname_np(me, name.as_mut_ptr(), 3))
        );

        extern "C" fn doubled(argument: *mut c_void) -> *mut c_void {
            (argument as usize * 2) as *mut c_void
        }
        let mut thread: libc::pthread_t = std::mem::zeroed();
        println!(
            "pthread_create: {}",
            libc::pthread_create(&mut thread, std::ptr::null(), doubled, 21 as *mut c_void)
        );
        let mut result = std::ptr::null_mut();
        println!(
            "pthread_join: {} result {}",
            libc::pthread_join(thread, &mut result),
            result as usize
        );
        println!(
            "pthread_join(self): {}",
            errno_name(libc::pthread_join(me, &mut result))
        );
        println!(
            "pthread_create (detached later): {}",
            libc::pthread_create(&mut thread, std::ptr::null(), doubled, std::ptr::null_mut())
        );
        println!("pthread_detach: {}", libc::pthread_detach(thread));
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        let mut guard = 1usize;
        // The value itself differs (glibc: a page; the library OS's thread stacks have no
        // guard page yet).
        println!(
            "pthread_attr_getguardsize: {} whole pages {}",
            libc::pthread_attr_getguardsize(&attr, &mut guard),
            guard % 4096 == 0
        );
        libc::pthread_attr_destroy(&mut attr);
    }
}

fn system_calls() {
    let futex = std::sync::atomic::AtomicU32::new(0);
    let address = futex.as_ptr();
    let private_wait = libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG;
    let private_wake = libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG;
    // SAFETY: a live, aligned u32 and no timeout.
    unsafe {
        report(
            "futex(WAIT, value differs)",
            libc::syscall(libc::SYS_futex, address, private_wait, 1, 0),
        );
        report("futex(WAKE)", libc::syscall(libc::SYS_futex, address, private_wake, 1));
        report("futex(op 99)", libc::syscall(libc::SYS_futex, address, 99, 0));
        report("syscall(99999)", libc::syscall(99999));
    }
}

/// Who the program is: identifiers that are the same numbers for every unikernel are
/// checked for what a program may rely on, not for the host's values.
fn identity() {
    // SAFETY: no pointers.
    unsafe {
        println!("getpid positive: {}", libc::getpid() > 0);
        println!("getppid not negative: {}", libc::getppid() >= 0);
        println!("gettid positive: {}", libc::gettid() > 0);
        println!(
            "ids agree: {}",
            libc::getuid() == libc::geteuid() && libc::getgid() == libc::getegid()
        );
    }
}

fn main() {
    identity();
    vectored_and_polled();
    descriptors();
    file_locks();
    file_times_and_owners();
    dynamic_loading();
    strings_and_calendar();
    clocks();
    memory();
    signals();
    process();
    threads();
    system_calls();
}
