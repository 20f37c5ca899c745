//! The `<string.h>` searches, comparisons and copies and the `<stdlib.h>` sort and number
//! readers that C code in crates calls (SQLite and LMDB, for two): `memchr`, `strchr`,
//! `strrchr`, `strcmp`, `strncmp`, `strspn`, `strcspn`, `strcpy`, `strdup`, `strndup`,
//! `qsort`, `atoi`, `atol`, `atoll`. (`memcpy`, `memcmp`, `strlen` and the like come with
//! Rust's `compiler_builtins`.) Bytes compare as `unsigned char`, as C says.

use core::ffi::{c_char, c_int, c_void};

/// The NUL-terminated string at `text`, without its NUL.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
unsafe fn bytes<'a>(text: *const c_char) -> &'a [u8] {
    // SAFETY: the caller's guarantee.
    unsafe { core::ffi::CStr::from_ptr(text) }.to_bytes()
}

/// `memchr(3)`: the first `byte` among `length` bytes at `memory`, or null.
///
/// # Safety
/// `memory` must be readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn memchr(memory: *const c_void, byte: c_int, length: usize) -> *mut c_void {
    if length == 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller's guarantee.
    let haystack = unsafe { core::slice::from_raw_parts(memory.cast::<u8>(), length) };
    match haystack.iter().position(|&found| found == byte as u8) {
        Some(at) => memory.cast::<u8>().wrapping_add(at).cast_mut().cast(),
        None => core::ptr::null_mut(),
    }
}

/// The first (or `last`) `byte` in the string at `text`, its NUL included; null if none.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
unsafe fn find(text: *const c_char, byte: c_int, last: bool) -> *mut c_char {
    // SAFETY: the caller's guarantee.
    let string = unsafe { bytes(text) };
    let at = match (byte as u8, last) {
        (0, _) => Some(string.len()),
        (byte, false) => string.iter().position(|&found| found == byte),
        (byte, true) => string.iter().rposition(|&found| found == byte),
    };
    at.map_or(core::ptr::null_mut(), |at| text.wrapping_add(at).cast_mut())
}

/// `strchr(3)`: the first `byte` in the string at `text` (its NUL counts), or null.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strchr(text: *const c_char, byte: c_int) -> *mut c_char {
    // SAFETY: forwarded.
    unsafe { find(text, byte, false) }
}

/// `strrchr(3)`: the last `byte` in the string at `text` (its NUL counts), or null.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strrchr(text: *const c_char, byte: c_int) -> *mut c_char {
    // SAFETY: forwarded.
    unsafe { find(text, byte, true) }
}

/// Compares at most `limit` bytes of two strings: negative, 0 or positive.
///
/// # Safety
/// Both must point to NUL-terminated strings (or arrays of at least `limit` bytes).
unsafe fn compare(left: *const c_char, right: *const c_char, limit: usize) -> c_int {
    for at in 0..limit {
        // SAFETY: the caller's guarantee: neither string has ended before `at`.
        let (a, b) = unsafe { (*left.cast::<u8>().add(at), *right.cast::<u8>().add(at)) };
        if a != b || a == 0 {
            return c_int::from(a) - c_int::from(b);
        }
    }
    0
}

/// `strcmp(3)`.
///
/// # Safety
/// Both must point to NUL-terminated strings.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strcmp(left: *const c_char, right: *const c_char) -> c_int {
    // SAFETY: forwarded.
    unsafe { compare(left, right, usize::MAX) }
}

/// `strncmp(3)`.
///
/// # Safety
/// Both must point to NUL-terminated strings or arrays of at least `limit` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strncmp(left: *const c_char, right: *const c_char, limit: usize) -> c_int {
    // SAFETY: forwarded.
    unsafe { compare(left, right, limit) }
}

/// The length of the longest prefix of `text` whose bytes are (`inside`) or are not in
/// `set`.
///
/// # Safety
/// Both must point to NUL-terminated strings.
unsafe fn span(text: *const c_char, set: *const c_char, inside: bool) -> usize {
    // SAFETY: the caller's guarantee.
    let (string, set) = unsafe { (bytes(text), bytes(set)) };
    string
        .iter()
        .position(|byte| set.contains(byte) != inside)
        .unwrap_or(string.len())
}

/// `strspn(3)`: how many leading bytes of `text` are in `accept`.
///
/// # Safety
/// Both must point to NUL-terminated strings.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strspn(text: *const c_char, accept: *const c_char) -> usize {
    // SAFETY: forwarded.
    unsafe { span(text, accept, true) }
}

/// `strcspn(3)`: how many leading bytes of `text` are not in `reject`.
///
/// # Safety
/// Both must point to NUL-terminated strings.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strcspn(text: *const c_char, reject: *const c_char) -> usize {
    // SAFETY: forwarded.
    unsafe { span(text, reject, false) }
}

/// A C comparison function, as `qsort` takes it.
type Comparison = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;

/// `qsort(3)`: sorts `count` elements of `size` bytes at `base` with `compare`, in place,
/// in O(n log n) without allocating (a heap sort; like glibc's and musl's, not stable).
///
/// # Safety
/// `base` must hold `count` elements of `size` bytes; `compare` must be safe to call on
/// any two of them.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn qsort(base: *mut c_void, count: usize, size: usize, compare: Comparison) {
    if count < 2 || size == 0 {
        return;
    }
    let base = base.cast::<u8>();
    let element = |index: usize| base.wrapping_add(index * size);
    // SAFETY: every index passed is below `count` (the caller's guarantee covers them).
    let less = |a: usize, b: usize| unsafe { compare(element(a).cast(), element(b).cast()) < 0 };
    // SAFETY: as above; `a != b`, so the two ranges do not overlap.
    let swap = |a: usize, b: usize| unsafe { core::ptr::swap_nonoverlapping(element(a), element(b), size) };
    // Moves the element at `root` down the heap of the first `end` elements.
    let sift_down = |mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(child, child + 1) {
            child += 1;
        }
        if !less(root, child) {
            break;
        }
        swap(root, child);
        root = child;
    };
    for root in (0..count / 2).rev() {
        sift_down(root, count);
    }
    for end in (1..count).rev() {
        swap(0, end);
        sift_down(0, end);
    }
}

/// The decimal number a string starts with, as `strtol` reads it: leading white space,
/// a sign, digits; saturated at the `i64` range (C leaves overflow undefined for `atoi`).
fn leading_number(text: &[u8]) -> i64 {
    let text = text.trim_ascii_start();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .fold(0i64, |value, &digit| {
            value.saturating_mul(10).saturating_add(i64::from(digit - b'0'))
        });
    if negative {
        magnitude.saturating_neg()
    } else {
        magnitude
    }
}

/// `atoi(3)`.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn atoi(text: *const c_char) -> c_int {
    // SAFETY: the caller's guarantee.
    leading_number(unsafe { bytes(text) }) as c_int
}

/// `atol(3)`.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn atol(text: *const c_char) -> core::ffi::c_long {
    // SAFETY: the caller's guarantee.
    leading_number(unsafe { bytes(text) }) as core::ffi::c_long
}

/// `atoll(3)`.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn atoll(text: *const c_char) -> core::ffi::c_longlong {
    // SAFETY: the caller's guarantee.
    leading_number(unsafe { bytes(text) })
}

/// `strcpy(3)`: the string at `source`, its NUL included, to `destination`.
///
/// # Safety
/// `source` must point to a NUL-terminated string, `destination` to room for it, and the
/// two must not overlap.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strcpy(destination: *mut c_char, source: *const c_char) -> *mut c_char {
    // SAFETY: the caller's guarantee.
    unsafe {
        let length = bytes(source).len();
        core::ptr::copy_nonoverlapping(source, destination, length + 1);
    }
    destination
}

/// `strndup(3)`: a copy of at most `limit` bytes of the string at `text`, and a NUL, in
/// memory from `malloc`; null (`ENOMEM`) when there is none.
///
/// # Safety
/// `text` must point to a NUL-terminated string or to `limit` readable bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strndup(text: *const c_char, limit: usize) -> *mut c_char {
    // SAFETY: the caller's guarantee: the bytes up to a NUL or the limit are readable.
    let length = (0..limit)
        .find(|&at| unsafe { text.add(at).read() } == 0)
        .unwrap_or(limit);
    let copy = crate::memory::malloc(length + 1).cast::<c_char>();
    if !copy.is_null() {
        // SAFETY: `length` bytes readable at `text`; `length + 1` writable at `copy`.
        unsafe {
            core::ptr::copy_nonoverlapping(text, copy, length);
            copy.add(length).write(0);
        }
    }
    copy
}

/// `strdup(3)`: as [`strndup`] without a limit.
///
/// # Safety
/// `text` must point to a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn strdup(text: *const c_char) -> *mut c_char {
    // SAFETY: the caller's guarantee.
    unsafe { strndup(text, usize::MAX) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn searches_find_what_c_says() {
        let text = c"key=value=x";
        // SAFETY: C strings and their lengths.
        unsafe {
            let at = |pointer: *mut c_char| pointer as usize - text.as_ptr() as usize;
            assert_eq!(at(strchr(text.as_ptr(), '=' as c_int)), 3);
            assert_eq!(at(strrchr(text.as_ptr(), '=' as c_int)), 9);
            assert_eq!(at(strchr(text.as_ptr(), 0)), 11, "the NUL is found");
            assert!(strchr(text.as_ptr(), '#' as c_int).is_null());
            assert_eq!(
                memchr(text.as_ptr().cast(), 'v' as c_int, 11) as usize - text.as_ptr() as usize,
                4
            );
            assert!(
                memchr(text.as_ptr().cast(), 'x' as c_int, 10).is_null(),
                "not within the length"
            );
            assert_eq!(strspn(c"0x1fz".as_ptr(), c"0123456789abcdefx".as_ptr()), 4);
            assert_eq!(strcspn(c"name value".as_ptr(), c" \t".as_ptr()), 4);
            assert_eq!(strcspn(c"name".as_ptr(), c" ".as_ptr()), 4);
        }
    }

    #[test]
    fn numbers_are_read_as_strtol_reads_them() {
        for (text, expected) in [
            (c"42", 42),
            (c"  \t\n-17xyz", -17),
            (c"+8", 8),
            (c"- 3", 0),
            (c"", 0),
            (c"99999999999999999999999", i64::MAX),
            (c"-99999999999999999999999", -i64::MAX),
        ] {
            // SAFETY: C strings.
            assert_eq!(unsafe { atoll(text.as_ptr()) }, expected, "{text:?}");
        }
        // SAFETY: a C string.
        assert_eq!(unsafe { atoi(c"-2147483648".as_ptr()) }, i32::MIN);
    }

    #[test]
    fn comparisons_order_as_unsigned_bytes() {
        // SAFETY: C strings.
        unsafe {
            assert_eq!(strcmp(c"abc".as_ptr(), c"abc".as_ptr()), 0);
            assert!(strcmp(c"abc".as_ptr(), c"abd".as_ptr()) < 0);
            assert!(strcmp(c"ab".as_ptr(), c"abc".as_ptr()) < 0);
            assert!(strcmp(c"\xe9".as_ptr(), c"e".as_ptr()) > 0, "0xe9 is above 'e'");
            assert_eq!(strncmp(c"abcX".as_ptr(), c"abcY".as_ptr(), 3), 0);
            assert!(strncmp(c"abcX".as_ptr(), c"abcY".as_ptr(), 4) < 0);
        }
    }

    unsafe extern "C" fn by_value(a: *const c_void, b: *const c_void) -> c_int {
        // SAFETY: qsort passes pointers to the u32 elements.
        let (a, b) = unsafe { (*a.cast::<u32>(), *b.cast::<u32>()) };
        a.cmp(&b) as c_int
    }

    #[test]
    fn qsort_sorts_every_length() {
        for length in 0..40u32 {
            let mut values: Vec<u32> = (0..length).map(|i| (i * 7919 + 13) % 23).collect();
            let mut expected = values.clone();
            expected.sort();
            // SAFETY: `values` holds `length` u32s, which `by_value` compares.
            unsafe { qsort(values.as_mut_ptr().cast(), values.len(), 4, by_value) };
            assert_eq!(values, expected, "{length} elements");
        }
    }
}
