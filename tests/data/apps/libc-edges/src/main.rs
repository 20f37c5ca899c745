//! Edge cases of the C functions the library OS provides, printed one per line with their
//! results and `errno`: the test runs this program on the host's Linux, the reference, and
//! in the unikernel, and compares the outputs.

use libc::{c_int, c_void};
use std::ffi::CStr;

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

fn clocks() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut time: libc::timespec = std::mem::zeroed();
        report("clock_gettime(9999)", libc::clock_gettime(9999, &mut time).into());
        report("clock_getres(MONOTONIC)", libc::clock_getres(libc::CLOCK_MONOTONIC, &mut time).into());
        println!("  resolution: {}s {}ns", time.tv_sec, time.tv_nsec);
        let mut long: libc::timespec = std::mem::zeroed();
        long.tv_nsec = 2_000_000_000;
        report("nanosleep(2e9 ns)", libc::nanosleep(&long, std::ptr::null_mut()).into());
        long.tv_nsec = -1;
        report("nanosleep(-1 ns)", libc::nanosleep(&long, std::ptr::null_mut()).into());
        let short = libc::timespec { tv_sec: 0, tv_nsec: 1000 };
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
        println!("posix_memalign(3): {}", errno_name(libc::posix_memalign(&mut block, 3, 16)));
        println!("posix_memalign(64): {}", libc::posix_memalign(&mut block, 64, 100));
        println!("  aligned: {}", block as usize % 64 == 0);
        libc::free(block);
        let aligned = libc::aligned_alloc(256, 512);
        println!("aligned_alloc(256, 512) aligned: {}", aligned as usize % 256 == 0);
        libc::free(aligned);
        let grown = libc::realloc(std::ptr::null_mut(), 4).cast::<u8>();
        grown.copy_from(b"abcd".as_ptr(), 4);
        let grown = libc::realloc(grown.cast(), 4096).cast::<u8>();
        println!("realloc keeps the contents: {}", std::slice::from_raw_parts(grown, 4) == b"abcd");
        libc::free(grown.cast());
        let mut bytes = [0u8; 32];
        report("getrandom(32)", libc::getrandom(bytes.as_mut_ptr().cast(), 32, 0) as i64);
    }
}

fn signals() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        report("sigaction(0)", libc::sigaction(0, std::ptr::null(), &mut old).into());
        report("sigaction(65)", libc::sigaction(65, std::ptr::null(), &mut old).into());
        report("sigaction(SIGUSR1)", libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut old).into());
        println!("  SIGUSR1 is SIG_DFL: {}", old.sa_sigaction == libc::SIG_DFL);
        let previous = libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        println!("signal(SIGPIPE) was SIG_IGN (std sets it): {}", previous == libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        report("sigemptyset", libc::sigemptyset(&mut set).into());
        report("sigaddset(SIGUSR2)", libc::sigaddset(&mut set, libc::SIGUSR2).into());
        println!("sigismember(SIGUSR2): {}", libc::sigismember(&set, libc::SIGUSR2));
        println!("sigismember(SIGUSR1): {}", libc::sigismember(&set, libc::SIGUSR1));
        report("sigaddset(0)", libc::sigaddset(&mut set, 0).into());
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
        let value = if value.is_null() { "(none)".into() } else { CStr::from_ptr(value).to_string_lossy().into_owned() };
        println!("getenv(UNIK_EDGE): {value}");
        println!("getenv(UNIK_NOT_SET) is null: {}", libc::getenv(c"UNIK_NOT_SET".as_ptr()).is_null());
        for code in [libc::EPERM, libc::ENOENT, libc::ENOSYS, libc::EAGAIN, libc::ECONNREFUSED, 4242] {
            let mut text = [0 as libc::c_char; 64];
            let status = libc::strerror_r(code, text.as_mut_ptr(), text.len());
            println!("strerror_r({code}): {status} {}", CStr::from_ptr(text.as_ptr()).to_string_lossy());
        }
        let mut tiny = [0 as libc::c_char; 4];
        println!("strerror_r(ENOENT, 4 bytes): {}", errno_name(libc::strerror_r(libc::ENOENT, tiny.as_mut_ptr(), 4)));
        println!("gai_strerror(EAI_NONAME): {}", CStr::from_ptr(libc::gai_strerror(libc::EAI_NONAME)).to_string_lossy());
    }
}

fn threads() {
    // SAFETY: every pointer passed points to a live value.
    unsafe {
        let mut key: libc::pthread_key_t = 0;
        report("pthread_key_create", libc::pthread_key_create(&mut key, None).into());
        let value = 0x1234usize as *const c_void;
        report("pthread_setspecific", libc::pthread_setspecific(key, value).into());
        println!("pthread_getspecific is what was set: {}", libc::pthread_getspecific(key) == value.cast_mut());
        report("pthread_key_delete", libc::pthread_key_delete(key).into());
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        report("pthread_attr_init", libc::pthread_attr_init(&mut attr).into());
        println!("pthread_attr_setstacksize(100): {}", errno_name(libc::pthread_attr_setstacksize(&mut attr, 100)));
        println!("pthread_attr_setstacksize(1 MiB): {}", libc::pthread_attr_setstacksize(&mut attr, 1 << 20));
        let mut size = 0usize;
        libc::pthread_attr_getstacksize(&attr, &mut size);
        println!("  stack size: {size}");
        report("pthread_attr_destroy", libc::pthread_attr_destroy(&mut attr).into());
        println!("pthread_equal(self, self): {}", libc::pthread_equal(libc::pthread_self(), libc::pthread_self()) != 0);
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        report("pthread_getattr_np(self)", libc::pthread_getattr_np(libc::pthread_self(), &mut attr).into());
        let (mut bottom, mut size) = (std::ptr::null_mut(), 0usize);
        report("pthread_attr_getstack", libc::pthread_attr_getstack(&attr, &mut bottom, &mut size).into());
        let local = 0u8;
        let here = std::hint::black_box(&local) as *const u8 as usize;
        println!("  a local is on the reported stack: {}", (bottom as usize..bottom as usize + size).contains(&here));
        libc::pthread_attr_destroy(&mut attr);
        report("sched_yield", libc::sched_yield().into());
    }
}

fn system_calls() {
    let futex = std::sync::atomic::AtomicU32::new(0);
    let address = futex.as_ptr();
    let private_wait = libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG;
    let private_wake = libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG;
    // SAFETY: a live, aligned u32 and no timeout.
    unsafe {
        report("futex(WAIT, value differs)", libc::syscall(libc::SYS_futex, address, private_wait, 1, 0));
        report("futex(WAKE)", libc::syscall(libc::SYS_futex, address, private_wake, 1));
        report("futex(op 99)", libc::syscall(libc::SYS_futex, address, 99, 0));
        report("syscall(99999)", libc::syscall(99999));
    }
}

fn main() {
    descriptors();
    clocks();
    memory();
    signals();
    process();
    threads();
    system_calls();
}
