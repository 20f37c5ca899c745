//! File descriptors: 0, 1 and 2 are the console (standard input is empty: a VM's console
//! gives the program no input), and so is any descriptor `dup` made of them; the others
//! are in the descriptor table ([`crate::descriptor`]): sockets, eventfds, epoll
//! instances, pipes and socket pairs.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::ffi::{c_int, c_void};
use core::task::Waker;
use libc::{iovec, nfds_t, pollfd};

use crate::descriptor::{self, File, Open, Readiness};
use crate::errno::{self, EBADF, EFAULT, EINVAL, ENOTTY, ESPIPE, fail, fail_size};

/// The console's descriptors.
const STDIN: c_int = 0;
const STDOUT: c_int = 1;
const STDERR: c_int = 2;

/// A descriptor `dup` made of one of the console's, and which one it stands for.
struct ConsoleCopy(c_int);

impl File for ConsoleCopy {
    fn read(&self, _buffer: &mut [u8], _nonblocking: bool) -> Result<usize, c_int> {
        if self.0 == STDIN { Ok(0) } else { Err(EBADF) }
    }

    fn write(&self, bytes: &[u8], _nonblocking: bool) -> Result<usize, c_int> {
        if self.0 == STDIN {
            return Err(EBADF);
        }
        unik_console::write_bytes(bytes);
        Ok(bytes.len())
    }

    fn readiness(&self) -> Readiness {
        console_readiness(self.0)
    }

    fn watch(&self, _waker: &Waker) {}

    fn unwatch(&self, _waker: &Waker) {}

    fn mode(&self) -> libc::mode_t {
        libc::S_IFCHR | 0o620
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The console never changes: output is always writable, input always at its end.
fn console_readiness(fd: c_int) -> Readiness {
    if fd == STDIN {
        (libc::POLLIN | libc::POLLHUP) as Readiness
    } else {
        libc::POLLOUT as Readiness
    }
}

/// The console descriptor `fd` stands for, if it is one.
fn console(fd: c_int) -> Option<c_int> {
    match fd {
        STDIN | STDOUT | STDERR => Some(fd),
        _ if fd < 0 => None,
        _ => descriptor::get(fd)?.downcast::<ConsoleCopy>().map(|copy| copy.0),
    }
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
    match fd {
        STDOUT | STDERR => {
            unik_console::write_bytes(bytes);
            bytes.len() as isize
        }
        STDIN => fail_size(EBADF),
        _ => match descriptor::open(fd) {
            Ok(open) => size_status(open.file.write(bytes, open.nonblocking())),
            Err(code) => fail_size(code),
        },
    }
}

/// `Ok(count)` as itself, `Err(code)` as -1 with `errno` set.
pub(crate) fn size_status(result: Result<usize, c_int>) -> isize {
    result.map_or_else(fail_size, |count| count as isize)
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
    match fd {
        STDIN => 0,
        STDOUT | STDERR => fail_size(EBADF),
        _ => match descriptor::open(fd) {
            Ok(_) if length == 0 => 0,
            // SAFETY: the caller's guarantee.
            Ok(open) => size_status(open.file.read(
                unsafe { core::slice::from_raw_parts_mut(buffer.cast(), length) },
                open.nonblocking(),
            )),
            Err(code) => fail_size(code),
        },
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
        _ => descriptor::close(fd).map_or_else(fail, |()| 0),
    }
}

/// A copy of `fd` at the lowest free descriptor at or above `from`.
fn duplicate(fd: c_int, from: c_int) -> c_int {
    let copy = match fd {
        STDIN | STDOUT | STDERR if from >= 0 => Ok(descriptor::install_from(Arc::new(ConsoleCopy(fd)), false, from)),
        _ => descriptor::duplicate(fd, from),
    };
    copy.unwrap_or_else(fail)
}

/// `dup(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dup(fd: c_int) -> c_int {
    duplicate(fd, 0)
}

/// `fcntl(2)`: descriptor copies, the `O_NONBLOCK` flag of what they refer to, and POSIX
/// record locks (see [`record_lock`]).
///
/// # Safety
/// For `F_GETLK`, `F_SETLK` and `F_SETLKW`, `argument` must be null or point to a
/// `struct flock`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fcntl(fd: c_int, command: c_int, argument: usize) -> c_int {
    let open = match fd {
        STDIN | STDOUT | STDERR => None,
        _ => match descriptor::open(fd) {
            Ok(open) => Some(open),
            Err(code) => return fail(code),
        },
    };
    match command {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => duplicate(fd, argument as c_int),
        // Nothing is ever executed, so close-on-exec is kept as nothing: it reads clear.
        libc::F_GETFD | libc::F_SETFD => 0,
        libc::F_GETFL => match open {
            Some(open) if open.nonblocking() => libc::O_RDWR | libc::O_NONBLOCK,
            _ => libc::O_RDWR,
        },
        libc::F_SETFL => {
            if let Some(open) = open {
                open.set_nonblocking(argument as c_int & libc::O_NONBLOCK != 0);
            }
            0
        }
        libc::F_GETLK | libc::F_SETLK | libc::F_SETLKW => {
            // SAFETY: the caller's guarantee.
            unsafe { record_lock(open.as_deref(), command, argument as *mut libc::flock) }
        }
        _ => fail(EINVAL),
    }
}

/// `fcntl`'s `F_GETLK`, `F_SETLK` and `F_SETLKW` on a descriptor's description `open`
/// (`None`: the console's). POSIX record locks belong to the process, and no other process
/// exists to hold a conflicting one: a valid request is granted at once and `F_GETLK`
/// finds the range free. A read lock needs a readable file and a write lock a
/// writable one (`EBADF`), as on Linux.
///
/// # Safety
/// `lock` must be null or point to a `struct flock`.
unsafe fn record_lock(open: Option<&crate::descriptor::Open>, command: c_int, lock: *mut libc::flock) -> c_int {
    if lock.is_null() {
        return fail(libc::EFAULT);
    }
    // SAFETY: the caller's guarantee.
    let request = unsafe { &mut *lock };
    let kind = c_int::from(request.l_type);
    if ![libc::F_RDLCK, libc::F_WRLCK, libc::F_UNLCK].contains(&kind) {
        return fail(EINVAL);
    }
    if command == libc::F_GETLK {
        request.l_type = libc::F_UNLCK as _;
        return 0;
    }
    let (readable, writable) = open
        .and_then(|open| open.downcast::<crate::file::OpenFile>())
        .map_or((true, true), |file| (file.readable, file.writable));
    if (kind == libc::F_RDLCK && !readable) || (kind == libc::F_WRLCK && !writable) {
        return fail(EBADF);
    }
    0
}

/// `ioctl(2)`: `FIONBIO` (non-blocking mode) on what the table holds; the console is not
/// a terminal (`ENOTTY`).
///
/// # Safety
/// `argument` must be what `request` reads.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn ioctl(fd: c_int, request: libc::c_ulong, argument: *mut c_int) -> c_int {
    // The request's type differs between C libraries (`int` on musl, `unsigned long` on
    // glibc): compare as the wider one.
    #[allow(clippy::unnecessary_cast)]
    let is_fionbio = request as u64 == libc::FIONBIO as u64;
    if console(fd).is_some() {
        return fail(ENOTTY);
    }
    match descriptor::open(fd) {
        Ok(open) if is_fionbio && !argument.is_null() => {
            // SAFETY: the caller's guarantee.
            open.set_nonblocking(unsafe { argument.read() } != 0);
            0
        }
        Ok(_) => fail(ENOTTY),
        Err(code) => fail(code),
    }
}

/// `isatty(3)`: the console is not a terminal the program can control.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn isatty(fd: c_int) -> c_int {
    errno::set(if console(fd).is_some() || descriptor::get(fd).is_some() {
        ENOTTY
    } else {
        EBADF
    });
    0
}

/// `lseek(2)`: files move their offset; the console and the other objects cannot seek.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn lseek(fd: c_int, offset: libc::off_t, whence: c_int) -> libc::off_t {
    let result = match console(fd) {
        Some(_) => Err(ESPIPE),
        None => descriptor::open(fd).and_then(|open| open.file.seek(offset, whence)),
    };
    match result {
        Ok(position) => position as libc::off_t,
        Err(code) => fail(code).into(),
    }
}

/// `poll(2)`: the console is always ready (output writable, input at its end); other
/// descriptors as their objects say, waiting up to `timeout_ms` (negative: without limit)
/// for one to become ready. Unknown descriptors are `POLLNVAL`; negative ones ignored.
///
/// # Safety
/// `fds` must hold `count` entries.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn poll(fds: *mut pollfd, count: nfds_t, timeout_ms: c_int) -> c_int {
    let entries = match usize::try_from(count) {
        Ok(0) => &mut [][..],
        // SAFETY: the caller's guarantee.
        Ok(count) if !fds.is_null() => unsafe { core::slice::from_raw_parts_mut(fds, count) },
        _ => return fail(EFAULT),
    };
    let opened: Vec<Option<Arc<Open>>> = entries
        .iter()
        .map(|entry| match entry.fd {
            STDIN | STDOUT | STDERR => None,
            fd if fd < 0 => None,
            fd => descriptor::get(fd),
        })
        .collect();
    let mut scan = || {
        let mut ready = 0;
        for (entry, open) in entries.iter_mut().zip(&opened) {
            let wanted = entry.events as Readiness | (libc::POLLERR | libc::POLLHUP) as Readiness;
            let found = match (entry.fd, open) {
                (STDIN | STDOUT | STDERR, _) => console_readiness(entry.fd) & wanted,
                (fd, _) if fd < 0 => 0,
                (_, Some(open)) => open.file.readiness() & wanted,
                (_, None) => libc::POLLNVAL as Readiness,
            };
            entry.revents = found as i16;
            ready += c_int::from(found != 0);
        }
        ready
    };
    let ready = scan();
    if ready != 0 || timeout_ms == 0 {
        return ready;
    }
    let files: Vec<&dyn File> = opened.iter().flatten().map(|open| &*open.file).collect();
    let deadline = crate::wait::deadline_after(timeout_ms);
    match descriptor::waiting() {
        Some(wait) if !files.is_empty() => {
            let mut ready = 0;
            wait(
                &files,
                &mut || {
                    ready = scan();
                    ready != 0
                },
                deadline,
            );
            ready
        }
        // Only the console (which is ready at once unless nothing was asked of it).
        _ => {
            unik_thread::sleep_until(deadline);
            0
        }
    }
}

/// `fstat(2)`: the console is a character device; other objects say what they are.
///
/// # Safety
/// `status` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn fstat(fd: c_int, status: *mut libc::stat) -> c_int {
    let file = match fd {
        STDIN | STDOUT | STDERR => None,
        _ => match descriptor::open(fd) {
            Ok(open) => Some(open),
            Err(code) => return fail(code),
        },
    };
    if status.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: `stat` is plain integers, for which all zeroes is valid.
    let mut value: libc::stat = unsafe { core::mem::zeroed() };
    match file {
        Some(open) => {
            if let Err(code) = open.file.status(&mut value) {
                return fail(code);
            }
        }
        None => {
            value.st_mode = libc::S_IFCHR | 0o620;
            value.st_blksize = 4096;
        }
    }
    // SAFETY: the caller guarantees `status` is writable.
    unsafe { status.write(value) };
    0
}
