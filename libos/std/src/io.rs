//! File descriptors: 0, 1 and 2 are the console (standard input is empty: a VM's console
//! gives the program no input); higher ones are sockets ([`crate::net`]).

use hermit_abi::iovec;

use crate::errno::{EBADF, EFAULT, fail, fail_size};

/// The descriptors of standard input, output and error.
const STDIN: i32 = 0;
const STDOUT: i32 = 1;
const STDERR: i32 = 2;

/// Writes `length` bytes from `buffer` to `fd`; how many.
///
/// # Safety
/// `buffer` must be readable for `length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_write(fd: i32, buffer: *const u8, length: usize) -> isize {
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    let bytes = if length == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { core::slice::from_raw_parts(buffer, length) }
    };
    match fd {
        STDOUT | STDERR => {
            unik_console::write_bytes(bytes);
            bytes.len() as isize
        }
        STDIN => fail_size(EBADF),
        _ => crate::net::write(fd, bytes),
    }
}

/// Writes the `count` buffers of `vectors` to `fd`, stopping at a short write.
///
/// # Safety
/// `vectors` must hold `count` readable buffers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_writev(fd: i32, vectors: *const iovec, count: usize) -> isize {
    let mut total = 0isize;
    // SAFETY: the caller's guarantee.
    for vector in unsafe { slices(vectors, count) } {
        // SAFETY: the caller's guarantee.
        let written = unsafe { sys_write(fd, vector.iov_base.cast(), vector.iov_len) };
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

/// Reads up to `length` bytes from `fd` into `buffer`; how many (0: end of input).
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_read(fd: i32, buffer: *mut u8, length: usize) -> isize {
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    match fd {
        STDIN => 0,
        STDOUT | STDERR => fail_size(EBADF),
        _ if length == 0 => 0,
        // SAFETY: the caller's guarantee.
        _ => crate::net::read(fd, unsafe { core::slice::from_raw_parts_mut(buffer, length) }),
    }
}

/// Reads into the first non-empty buffer of `vectors` (a read returns what has arrived;
/// it must not wait again for the next buffer).
///
/// # Safety
/// `vectors` must hold `count` writable buffers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_readv(fd: i32, vectors: *const iovec, count: usize) -> isize {
    // SAFETY: the caller's guarantee.
    match unsafe { slices(vectors, count) }
        .iter()
        .find(|vector| vector.iov_len != 0)
    {
        // SAFETY: the caller's guarantee.
        Some(vector) => unsafe { sys_read(fd, vector.iov_base.cast(), vector.iov_len) },
        None => 0,
    }
}

/// Closes `fd` (the console's descriptors stay open).
#[unsafe(no_mangle)]
pub extern "C" fn sys_close(fd: i32) -> i32 {
    match fd {
        STDIN | STDOUT | STDERR => 0,
        _ => crate::net::close(fd),
    }
}

/// `count` iovecs at `vectors` (none for a null pointer).
///
/// # Safety
/// `vectors` must be null or hold `count` iovecs.
unsafe fn slices<'a>(vectors: *const iovec, count: usize) -> &'a [iovec] {
    if vectors.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: the caller's guarantee.
    unsafe { core::slice::from_raw_parts(vectors, count) }
}

/// Fails for every descriptor it does not know.
pub(crate) fn bad_descriptor() -> i32 {
    fail(EBADF)
}
