//! Memory: `malloc` and its family on the heap component, and anonymous `mmap` (std maps
//! its signal stacks) served from the same heap.
//!
//! C frees without a size, so each block carries a 16-byte header in front of it: the
//! size and alignment of the allocation it sits in.

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_int, c_void};
use spinning_top::Spinlock;

use crate::errno::{self, EINVAL, ENODEV, ENOMEM};

static HEAP: unik_alloc::Heap = unik_alloc::heap();

/// What the heap holds (feature `heap-stats`).
#[cfg(feature = "heap-stats")]
pub fn stats() -> unik_alloc::Stats {
    unik_alloc::stats(&HEAP)
}

/// Bytes in front of every block: the allocation's size and alignment.
const HEADER: usize = 16;

/// A block of `size` bytes aligned to `align` (a power of two); null when out of memory.
fn allocate(size: usize, align: usize, zeroed: bool) -> *mut c_void {
    let align = align.max(HEADER);
    let Some(total) = size.checked_add(align) else {
        errno::set(ENOMEM);
        return core::ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(total, align) else {
        errno::set(ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: a valid layout of non-zero size.
    let base = unsafe {
        if zeroed {
            HEAP.alloc_zeroed(layout)
        } else {
            HEAP.alloc(layout)
        }
    };
    if base.is_null() {
        errno::set(ENOMEM);
        return core::ptr::null_mut();
    }
    // SAFETY: `align >= HEADER`, so the block starts `align` bytes in and its header fits
    // in front of it, inside the allocation.
    unsafe {
        let block = base.add(align);
        block.cast::<usize>().sub(2).write(total);
        block.cast::<usize>().sub(1).write(align);
        block.cast()
    }
}

/// The allocation `block` (from [`allocate`]) sits in, and its layout.
///
/// # Safety
/// `block` must come from [`allocate`] and not have been freed.
unsafe fn allocation_of(block: *mut c_void) -> (*mut u8, Layout) {
    // SAFETY: the caller's guarantee: the header is in front of the block.
    unsafe {
        let total = block.cast::<usize>().sub(2).read();
        let align = block.cast::<usize>().sub(1).read();
        (
            block.cast::<u8>().sub(align),
            Layout::from_size_align_unchecked(total, align),
        )
    }
}

/// `malloc(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    allocate(size, HEADER, false)
}

/// `calloc(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        Some(bytes) => allocate(bytes, HEADER, true),
        None => {
            errno::set(ENOMEM);
            core::ptr::null_mut()
        }
    }
}

/// `free(3)`.
///
/// # Safety
/// `block` must be null or come from this allocator and not have been freed.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn free(block: *mut c_void) {
    if block.is_null() {
        return;
    }
    // SAFETY: the caller's guarantee.
    unsafe {
        let (base, layout) = allocation_of(block);
        HEAP.dealloc(base, layout);
    }
}

/// `realloc(3)`: a new block with the old contents (up to the smaller size).
///
/// # Safety
/// As for [`free`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn realloc(block: *mut c_void, size: usize) -> *mut c_void {
    if block.is_null() {
        return malloc(size);
    }
    // SAFETY: the caller's guarantee.
    let (_, layout) = unsafe { allocation_of(block) };
    let old_size = layout.size() - layout.align();
    let new = allocate(size, layout.align(), false);
    if !new.is_null() {
        // SAFETY: both blocks hold at least `min` bytes and do not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(block.cast::<u8>(), new.cast::<u8>(), old_size.min(size));
            free(block);
        }
    }
    new
}

/// `posix_memalign(3)`.
///
/// # Safety
/// `result` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn posix_memalign(result: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || !align.is_multiple_of(size_of::<usize>()) {
        return EINVAL;
    }
    let block = allocate(size, align, false);
    if block.is_null() {
        return ENOMEM;
    }
    // SAFETY: the caller's guarantee.
    unsafe { result.write(block) };
    0
}

/// `aligned_alloc(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() {
        errno::set(EINVAL);
        return core::ptr::null_mut();
    }
    allocate(size, align, false)
}

/// `memalign(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    aligned_alloc(align, size)
}

/// The size of a page.
pub const PAGE_SIZE: usize = 4096;

/// Anonymous mappings: the addresses of their zeroed heap blocks (a program maps few).
static MAPPINGS: Spinlock<Vec<usize>> = Spinlock::new(Vec::new());

/// `mmap(2)`: anonymous memory (zeroed, page-aligned, from the heap), and files as a
/// copy of their bytes (private mappings, and shared ones that are never written: a
/// shared writable mapping would not reach the file, so it is refused with `ENODEV`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn mmap(
    address: *mut c_void,
    length: usize,
    protection: c_int,
    flags: c_int,
    fd: c_int,
    offset: libc::off_t,
) -> *mut c_void {
    if length == 0 || (flags & libc::MAP_FIXED != 0 && !address.is_null()) {
        errno::set(EINVAL);
        return libc::MAP_FAILED;
    }
    let file = match flags & libc::MAP_ANONYMOUS {
        0 => match mapped_file(fd, offset, protection, flags) {
            Ok(file) => Some(file),
            Err(code) => {
                errno::set(code);
                return libc::MAP_FAILED;
            }
        },
        _ => None,
    };
    let length = length.next_multiple_of(PAGE_SIZE);
    let block = allocate(length, PAGE_SIZE, true);
    if block.is_null() {
        return libc::MAP_FAILED;
    }
    if let Some((open, offset)) = file {
        // SAFETY: just allocated, `length` bytes.
        let bytes = unsafe { core::slice::from_raw_parts_mut(block.cast::<u8>(), length) };
        let mut done = 0;
        while done < length {
            match open.file.read_at(&mut bytes[done..], offset + done as u64) {
                Ok(0) | Err(_) => break,
                Ok(count) => done += count,
            }
        }
    }
    MAPPINGS.lock().push(block as usize);
    block
}

/// The open file `fd` and the offset a file mapping starts at, if it can be mapped.
fn mapped_file(
    fd: c_int,
    offset: libc::off_t,
    protection: c_int,
    flags: c_int,
) -> Result<(alloc::sync::Arc<crate::descriptor::Open>, u64), c_int> {
    let offset = u64::try_from(offset).map_err(|_| EINVAL)?;
    if !offset.is_multiple_of(PAGE_SIZE as u64) {
        return Err(EINVAL);
    }
    let open = crate::descriptor::open(fd)?;
    if flags & libc::MAP_SHARED != 0 && protection & libc::PROT_WRITE != 0 {
        return Err(ENODEV);
    }
    // What has no contents to read at an offset (a socket, a pipe) cannot be mapped.
    open.file.read_at(&mut [], offset).map_err(|_| ENODEV)?;
    Ok((open, offset))
}

/// `munmap(2)` of a whole mapping [`mmap`] made.
///
/// # Safety
/// Nothing may use the mapping afterwards.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn munmap(address: *mut c_void, _length: usize) -> c_int {
    let mut mappings = MAPPINGS.lock();
    match mappings.iter().position(|&block| block == address as usize) {
        Some(at) => {
            mappings.swap_remove(at);
            // SAFETY: the block came from `allocate` and is freed once (removed above).
            unsafe { free(address) };
            0
        }
        None => errno::fail(EINVAL),
    }
}

/// `mprotect(2)`: accepted; mappings stay readable and writable (the heap's pages).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn mprotect(_address: *mut c_void, _length: usize, _protection: c_int) -> c_int {
    0
}

/// `madvise(2)`: advice is taken as given.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn madvise(_address: *mut c_void, _length: usize, _advice: c_int) -> c_int {
    0
}
