//! Memory: std's `System` allocator calls these; they serve it from the heap component.

use core::alloc::{GlobalAlloc, Layout};

static HEAP: unik_alloc::Heap = unik_alloc::heap();

/// What the heap holds (feature `heap-stats`).
#[cfg(feature = "heap-stats")]
pub fn stats() -> unik_alloc::Stats {
    unik_alloc::stats(&HEAP)
}

fn layout(size: usize, align: usize) -> Option<Layout> {
    Layout::from_size_align(size, align)
        .ok()
        .filter(|layout| layout.size() != 0)
}

/// Allocates `size` bytes aligned to `align`; null when out of memory.
#[unsafe(no_mangle)]
pub extern "C" fn sys_malloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: a valid, non-zero layout.
    layout(size, align).map_or(core::ptr::null_mut(), |layout| unsafe { HEAP.alloc(layout) })
}

/// Allocates like [`sys_malloc`].
#[unsafe(no_mangle)]
pub extern "C" fn sys_alloc(size: usize, align: usize) -> *mut u8 {
    sys_malloc(size, align)
}

/// Allocates zeroed memory.
#[unsafe(no_mangle)]
pub extern "C" fn sys_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    // SAFETY: a valid, non-zero layout.
    layout(size, align).map_or(core::ptr::null_mut(), |layout| unsafe { HEAP.alloc_zeroed(layout) })
}

/// Resizes the block at `pointer` (of `size` bytes, aligned to `align`) to `new_size`.
///
/// # Safety
/// `pointer` must come from these functions with this size and alignment.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_realloc(pointer: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    match layout(size, align) {
        // SAFETY: the caller's guarantee.
        Some(layout) if new_size != 0 => unsafe { HEAP.realloc(pointer, layout, new_size) },
        _ => core::ptr::null_mut(),
    }
}

/// Frees the block at `pointer`.
///
/// # Safety
/// `pointer` must come from these functions with this size and alignment.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_free(pointer: *mut u8, size: usize, align: usize) {
    if let Some(layout) = layout(size, align) {
        // SAFETY: the caller's guarantee.
        unsafe { HEAP.dealloc(pointer, layout) }
    }
}

/// Frees like [`sys_free`].
///
/// # Safety
/// As for [`sys_free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_dealloc(pointer: *mut u8, size: usize, align: usize) {
    // SAFETY: forwarded.
    unsafe { sys_free(pointer, size, align) }
}

/// The page size.
#[unsafe(no_mangle)]
pub extern "C" fn sys_getpagesize() -> i32 {
    4096
}
