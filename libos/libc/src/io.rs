//! File descriptors: 0, 1 and 2 are the console (standard input is empty: a VM's console
//! gives the program no input), and so is any descriptor `dup` made of them; the others
//! are sockets ([`crate::net`]).

use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use libc::{iovec, nfds_t, pollfd};
use spinning_top::Spinlock;

use crate::errno::{self, EBADF, EFAULT, EINVAL, ENOTTY, ESPIPE, fail, fail_size};

/// The console's descriptors.
const STDIN: c_int = 0;
const STDOUT: c_int = 1;
const STDERR: c_int = 2;

/// Descriptors `dup` made of the console's, and which one each stands for.
static CONSOLE_COPIES: Spinlock<Vec<(c_int, c_int)>> = Spinlock::new(Vec::new());

fn console_copy(fd: c_int) -> Option<c_int> {
    CONSOLE_COPIES
        .lock()
        .iter()
        .find(|(copy, _)| *copy == fd)
        .map(|&(_, original)| original)
}

/// The console descriptor `fd` stands for, if it is one.
fn console(fd: c_int) -> Option<c_int> {
    match fd {
        STDIN | STDOUT | STDERR => Some(fd),
        _ if fd < 0 => None,
        _ => console_copy(fd),
    }
}

/// The lowest descriptor at or above `from` that is free.
pub(crate) fn free_descriptor(from: c_int) -> c_int {
    (from.max(3)..)
        .find(|&fd| console_copy(fd).is_none() && !crate::net::is_socket(fd))
        .unwrap_or(c_int::MAX)
}

/// `bytes` at `buffer`, or `EFAULT`.
///
/// # Safety
/// `buffer` must be null or readable for `length` bytes.
pub(crate) unsafe fn slice<'a>(buffer: *const c_void, length: usize) -> Result<&'a [u8], c_int> {
    match (buffer.is_null(), length) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(EFAULT),
        // SAFETY: the caller's guarantee.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(buffer.cast(), length) }),
    }
}

/// `write(2)`.
///
/// # Safety
/// `buffer` must be readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn write(fd: c_int, buffer: *const c_void, length: usize) -> isize {
    // SAFETY: the caller's guarantee.
    let bytes = match unsafe { slice(buffer, length) } {
        Ok(bytes) => bytes,
        Err(code) => return fail_size(code),
    };
    match console(fd) {
        Some(STDOUT | STDERR) => {
            unik_console::write_bytes(bytes);
            bytes.len() as isize
        }
        Some(_) => fail_size(EBADF),
        None => crate::net::write(fd, bytes),
    }
}

/// `writev(2)`: the buffers in order, stopping at a short write.
///
/// # Safety
/// `vectors` must hold `count` readable buffers.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn writev(fd: c_int, vectors: *const iovec, count: c_int) -> isize {
    let mut total = 0isize;
    // SAFETY: the caller's guarantee.
    let Some(vectors) = (unsafe { vectors_at(vectors, count) }) else {
        return fail_size(EINVAL);
    };
    for vector in vectors {
        // SAFETY: the caller's guarantee.
        let written = unsafe { write(fd, vector.iov_base, vector.iov_len) };
        if written < 0 {
            return if total > 0 { total } else { written };
        }
        total += written;
        if (written as usize) < vector.iov_len {
            break;
        }
    }
    total
}

/// `read(2)`: standard input is at its end at once.
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn read(fd: c_int, buffer: *mut c_void, length: usize) -> isize {
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    match console(fd) {
        Some(STDIN) => 0,
        Some(_) => fail_size(EBADF),
        None if length == 0 => 0,
        // SAFETY: the caller's guarantee.
        None => crate::net::read(fd, unsafe { core::slice::from_raw_parts_mut(buffer.cast(), length) }),
    }
}

/// `readv(2)`: into the first non-empty buffer (a read returns what has arrived; it must
/// not wait again for the next buffer).
///
/// # Safety
/// `vectors` must hold `count` writable buffers.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn readv(fd: c_int, vectors: *const iovec, count: c_int) -> isize {
    // SAFETY: the caller's guarantee.
    let Some(vectors) = (unsafe { vectors_at(vectors, count) }) else {
        return fail_size(EINVAL);
    };
    match vectors.iter().find(|v| v.iov_len != 0) {
        // SAFETY: the caller's guarantee.
        Some(vector) => unsafe { read(fd, vector.iov_base, vector.iov_len) },
        None => 0,
    }
}

/// The most iovecs one call takes (`IOV_MAX`, as on Linux).
const MOST_VECTORS: usize = 1024;

/// `count` iovecs at `vectors` (none for zero or a null pointer); `None` for a count
/// Linux refuses with `EINVAL` (negative, above `IOV_MAX`).
///
/// # Safety
/// `vectors` must be null or hold `count` iovecs.
unsafe fn vectors_at<'a>(vectors: *const iovec, count: c_int) -> Option<&'a [iovec]> {
    match usize::try_from(count) {
        Ok(count) if count > MOST_VECTORS => None,
        Ok(count) if !vectors.is_null() && count != 0 => {
            // SAFETY: the caller's guarantee.
            Some(unsafe { core::slice::from_raw_parts(vectors, count) })
        }
        Ok(_) => Some(&[]),
        Err(_) => None,
    }
}

/// `close(2)` (the console's own descriptors stay open).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn close(fd: c_int) -> c_int {
    match fd {
        STDIN | STDOUT | STDERR => 0,
        _ if console_copy(fd).is_some() => {
            CONSOLE_COPIES.lock().retain(|(copy, _)| *copy != fd);
            0
        }
        _ => crate::net::close(fd),
    }
}

/// A copy of `fd` at the lowest free descriptor at or above `from`.
fn duplicate(fd: c_int, from: c_int) -> c_int {
    match console(fd) {
        Some(original) => {
            let copy = free_descriptor(from);
            CONSOLE_COPIES.lock().push((copy, original));
            copy
        }
        None => crate::net::duplicate(fd, from),
    }
}

/// `dup(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dup(fd: c_int) -> c_int {
    duplicate(fd, 0)
}

/// `fcntl(2)`: descriptor copies, and flags (kept for sockets' `O_NONBLOCK`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn fcntl(fd: c_int, command: c_int, argument: usize) -> c_int {
    let known = console(fd).is_some() || crate::net::is_socket(fd);
    if !known {
        return fail(EBADF);
    }
    match command {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => duplicate(fd, argument as c_int),
        // Nothing is ever executed, so close-on-exec is kept as nothing: it reads clear.
        libc::F_GETFD => 0,
        libc::F_SETFD => 0,
        libc::F_GETFL if console(fd).is_some() => libc::O_RDWR,
        libc::F_GETFL => crate::net::flags(fd),
        libc::F_SETFL if console(fd).is_some() => 0,
        libc::F_SETFL => crate::net::set_nonblocking(fd, argument as c_int & libc::O_NONBLOCK != 0),
        _ => fail(EINVAL),
    }
}

/// `ioctl(2)`: `FIONBIO` on sockets.
///
/// # Safety
/// `argument` must be what `request` reads.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn ioctl(fd: c_int, request: libc::c_ulong, argument: *mut c_int) -> c_int {
    // The request's type differs between C libraries (`int` on musl, `unsigned long` on
    // glibc): compare as the wider one.
    #[allow(clippy::unnecessary_cast)]
    let is_fionbio = request as u64 == libc::FIONBIO as u64;
    if is_fionbio && crate::net::is_socket(fd) && !argument.is_null() {
        // SAFETY: the caller's guarantee.
        return crate::net::set_nonblocking(fd, unsafe { argument.read() } != 0);
    }
    match console(fd) {
        Some(_) => fail(ENOTTY),
        None if crate::net::is_socket(fd) => fail(EINVAL),
        None => fail(EBADF),
    }
}

/// `isatty(3)`: the console is not a terminal the program can control.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn isatty(fd: c_int) -> c_int {
    errno::set(if console(fd).is_some() { ENOTTY } else { EBADF });
    0
}

/// `lseek(2)`: nothing here can seek.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn lseek(fd: c_int, _offset: libc::off_t, _whence: c_int) -> libc::off_t {
    if console(fd).is_some() || crate::net::is_socket(fd) {
        fail(ESPIPE).into()
    } else {
        fail(EBADF).into()
    }
}

/// `poll(2)` on the console: standard output and error are always writable, standard
/// input always at its end; unknown descriptors are `POLLNVAL`. Sockets are not polled yet
/// (`ENOSYS`).
///
/// # Safety
/// `fds` must hold `count` writable entries.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn poll(fds: *mut pollfd, count: nfds_t, timeout_ms: c_int) -> c_int {
    let entries = match usize::try_from(count) {
        Ok(0) => &mut [][..],
        // SAFETY: the caller's guarantee.
        Ok(count) if !fds.is_null() => unsafe { core::slice::from_raw_parts_mut(fds, count) },
        _ => return fail(EFAULT),
    };
    let mut ready = 0;
    for entry in entries.iter_mut() {
        entry.revents = match console(entry.fd) {
            Some(STDIN) => entry.events & libc::POLLIN | libc::POLLHUP,
            Some(_) => entry.events & libc::POLLOUT,
            None if entry.fd < 0 => 0,
            None if crate::net::is_socket(entry.fd) => return fail(crate::errno::ENOSYS),
            None => libc::POLLNVAL,
        };
        if entry.revents != 0 {
            ready += 1;
        }
    }
    if ready == 0 && timeout_ms != 0 {
        let nanos = if timeout_ms < 0 {
            u64::MAX
        } else {
            timeout_ms as u64 * 1_000_000
        };
        crate::time::sleep_nanos(nanos);
    }
    ready
}

/// `fstat(2)`: the console is a character device; sockets are sockets.
///
/// # Safety
/// `status` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fstat(fd: c_int, status: *mut libc::stat) -> c_int {
    let mode = if console(fd).is_some() {
        libc::S_IFCHR | 0o620
    } else if crate::net::is_socket(fd) {
        libc::S_IFSOCK | 0o777
    } else {
        return fail(EBADF);
    };
    if status.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: `stat` is plain integers, for which all zeroes is valid; the caller
    // guarantees `status` is writable.
    unsafe {
        let mut value: libc::stat = core::mem::zeroed();
        value.st_mode = mode;
        value.st_blksize = 4096;
        status.write(value);
    }
    0
}
