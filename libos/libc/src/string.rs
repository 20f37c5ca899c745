//! Error texts: `strerror_r` and friends, in the host C library's (glibc's) words, so
//! that a program prints the same message in the unikernel as on Linux.

use core::ffi::{c_char, c_int};

/// The text of the errors unik's calls report, and the common others.
fn message(code: c_int) -> Option<&'static str> {
    Some(match code {
        0 => "Success",
        libc::EPERM => "Operation not permitted",
        libc::ENOENT => "No such file or directory",
        libc::ESRCH => "No such process",
        libc::EINTR => "Interrupted system call",
        libc::EIO => "Input/output error",
        libc::ENXIO => "No such device or address",
        libc::E2BIG => "Argument list too long",
        libc::ENOEXEC => "Exec format error",
        libc::EBADF => "Bad file descriptor",
        libc::ECHILD => "No child processes",
        libc::EAGAIN => "Resource temporarily unavailable",
        libc::ENOMEM => "Cannot allocate memory",
        libc::EACCES => "Permission denied",
        libc::EFAULT => "Bad address",
        libc::EBUSY => "Device or resource busy",
        libc::EEXIST => "File exists",
        libc::EXDEV => "Invalid cross-device link",
        libc::ENODEV => "No such device",
        libc::ENOTDIR => "Not a directory",
        libc::EISDIR => "Is a directory",
        libc::EINVAL => "Invalid argument",
        libc::ENFILE => "Too many open files in system",
        libc::EMFILE => "Too many open files",
        libc::ENOTTY => "Inappropriate ioctl for device",
        libc::EFBIG => "File too large",
        libc::ENOSPC => "No space left on device",
        libc::ESPIPE => "Illegal seek",
        libc::EROFS => "Read-only file system",
        libc::EMLINK => "Too many links",
        libc::EPIPE => "Broken pipe",
        libc::EDOM => "Numerical argument out of domain",
        libc::ERANGE => "Numerical result out of range",
        libc::EDEADLK => "Resource deadlock avoided",
        libc::ENAMETOOLONG => "File name too long",
        libc::ENOSYS => "Function not implemented",
        libc::ENOTEMPTY => "Directory not empty",
        libc::ENOTSOCK => "Socket operation on non-socket",
        libc::EDESTADDRREQ => "Destination address required",
        libc::EMSGSIZE => "Message too long",
        libc::EPROTOTYPE => "Protocol wrong type for socket",
        libc::ENOPROTOOPT => "Protocol not available",
        libc::EPROTONOSUPPORT => "Protocol not supported",
        libc::EOPNOTSUPP => "Operation not supported",
        libc::EAFNOSUPPORT => "Address family not supported by protocol",
        libc::EADDRINUSE => "Address already in use",
        libc::EADDRNOTAVAIL => "Cannot assign requested address",
        libc::ENETDOWN => "Network is down",
        libc::ENETUNREACH => "Network is unreachable",
        libc::ECONNABORTED => "Software caused connection abort",
        libc::ECONNRESET => "Connection reset by peer",
        libc::ENOBUFS => "No buffer space available",
        libc::EISCONN => "Transport endpoint is already connected",
        libc::ENOTCONN => "Transport endpoint is not connected",
        libc::ETIMEDOUT => "Connection timed out",
        libc::ECONNREFUSED => "Connection refused",
        libc::EHOSTUNREACH => "No route to host",
        libc::EALREADY => "Operation already in progress",
        libc::EINPROGRESS => "Operation now in progress",
        _ => return None,
    })
}

/// Writes `text` and a NUL into `buffer` (of `length` bytes); `ERANGE` if it does not fit.
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
unsafe fn copy_out(text: &[u8], buffer: *mut c_char, length: usize) -> c_int {
    if buffer.is_null() || length == 0 {
        return libc::ERANGE;
    }
    let kept = text.len().min(length - 1);
    // SAFETY: the caller's guarantee: `kept + 1 <= length` bytes.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), kept);
        buffer.add(kept).write(0);
    }
    if kept < text.len() { libc::ERANGE } else { 0 }
}

/// The XSI `strerror_r` (what std calls for `io::Error`'s text).
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn __xpg_strerror_r(code: c_int, buffer: *mut c_char, length: usize) -> c_int {
    let mut unknown = [0u8; 32];
    let known = message(code).is_some();
    let text = match message(code) {
        Some(text) => text.as_bytes(),
        None => {
            let prefix = b"Unknown error ";
            unknown[..prefix.len()].copy_from_slice(prefix);
            let mut used = prefix.len();
            let mut digits = [0u8; 11];
            let mut value = code.unsigned_abs();
            let mut count = 0;
            loop {
                digits[count] = b'0' + (value % 10) as u8;
                count += 1;
                value /= 10;
                if value == 0 {
                    break;
                }
            }
            if code < 0 {
                unknown[used] = b'-';
                used += 1;
            }
            for digit in digits[..count].iter().rev() {
                unknown[used] = *digit;
                used += 1;
            }
            &unknown[..used]
        }
    };
    // SAFETY: forwarded.
    match unsafe { copy_out(text, buffer, length) } {
        // As glibc: an unknown code is `EINVAL`, with its text written all the same.
        0 if !known => libc::EINVAL,
        status => status,
    }
}

/// `strerror_r(3)` (XSI form).
///
/// # Safety
/// As for [`__xpg_strerror_r`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strerror_r(code: c_int, buffer: *mut c_char, length: usize) -> c_int {
    // SAFETY: forwarded.
    unsafe { __xpg_strerror_r(code, buffer, length) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(code: c_int, length: usize) -> (c_int, std::string::String) {
        let mut buffer = std::vec![0 as c_char; length];
        // SAFETY: a writable buffer of `length` bytes.
        let status = unsafe { __xpg_strerror_r(code, buffer.as_mut_ptr(), length) };
        // SAFETY: the function NUL-terminates within the buffer.
        let text = unsafe { core::ffi::CStr::from_ptr(buffer.as_ptr()) };
        (status, text.to_string_lossy().into_owned())
    }

    extern crate std;

    #[test]
    fn texts_are_glibcs_and_unknown_codes_are_numbered() {
        assert_eq!(text(libc::ENOSYS, 64), (0, "Function not implemented".into()));
        assert_eq!(text(4242, 64), (libc::EINVAL, "Unknown error 4242".into()));
        assert_eq!(text(-3, 64), (libc::EINVAL, "Unknown error -3".into()));
        assert_eq!(text(libc::ENOENT, 4), (libc::ERANGE, "No ".into()));
    }
}
