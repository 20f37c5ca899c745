//! Memory: `malloc` and its family on the heap component, and `mmap` (std maps its signal
//! stacks; C code maps files and grows mappings with `mremap`) served from the same heap.
//!
//! C frees without a size, so each block carries a 16-byte header in front of it: the
//! size and alignment of the allocation it sits in.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_int, c_void};
use spinning_top::Spinlock;

use crate::descriptor::Open;
use crate::errno::{self, EINVAL, ENODEV, ENOMEM};

static HEAP: unik_alloc::Heap = unik_alloc::heap();

/// What the heap holds (feature `heap-stats`).
#[cfg(feature = "heap-stats")]
pub fn stats() -> unik_alloc::Stats {
    unik_alloc::stats(&HEAP)
}

/// Bytes in front of every block: the allocation's size and alignment.
const HEADER: usize = 16;

/// `length` bytes of zeroed, page-aligned memory, freed with [`free`]; null when out of
/// memory.
pub(crate) fn allocate_pages(length: usize) -> *mut c_void {
    allocate(length, PAGE_SIZE, true)
}

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

/// A mapping [`mmap`] made: a zeroed heap block of `capacity` bytes, of which `length` are
/// mapped, and what backs it.
struct Mapping {
    address: usize,
    length: usize,
    capacity: usize,
    backing: Backing,
}

/// What a mapping's bytes come from. A file mapping keeps its file open until unmapped, as
/// on Linux.
enum Backing {
    /// Zeroes.
    Anonymous,
    /// A private copy of the file's bytes from the offset; a larger `mremap` adds the
    /// file's next ones.
    Copy(Arc<Open>, u64),
    /// The file's view: its memory is the file's (see `shared_file`), and the file frees
    /// it.
    View(Arc<Open>),
}

impl Mapping {
    /// Maps bytes `from..to` of the mapping (within its block): zeroes, or the file's bytes
    /// at their offset (zeroes past its end).
    fn fill(&self, from: usize, to: usize) {
        // SAFETY: `from..to` lies in the mapping's block, which the mapping owns.
        let bytes = unsafe { core::slice::from_raw_parts_mut((self.address + from) as *mut u8, to - from) };
        bytes.fill(0);
        if let Backing::Copy(open, offset) = &self.backing {
            crate::descriptor::read_fully(&*open.file, bytes, offset + from as u64);
        }
    }
}

/// The mappings [`mmap`] made (a program makes few).
static MAPPINGS: Spinlock<Vec<Mapping>> = Spinlock::new(Vec::new());

/// `mmap(2)`: anonymous memory (zeroed, page-aligned, from the heap); a private mapping
/// of a file is a copy of its bytes, a shared one the file's view (stores reach the file,
/// and writes to the file show in it).
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
        0 => match mapped_file(fd, offset) {
            Ok(file) => Some(file),
            Err(code) => {
                errno::set(code);
                return libc::MAP_FAILED;
            }
        },
        _ => None,
    };
    let length = length.next_multiple_of(PAGE_SIZE);
    if let Some((open, offset)) = file.as_ref().filter(|_| flags & libc::MAP_SHARED != 0) {
        let writable = protection & libc::PROT_WRITE != 0;
        return match open.file.map_shared(*offset, length, writable) {
            Ok(address) => {
                MAPPINGS.lock().push(Mapping {
                    address: address as usize,
                    length,
                    capacity: length,
                    backing: Backing::View(open.clone()),
                });
                address
            }
            Err(code) => {
                errno::set(code);
                libc::MAP_FAILED
            }
        };
    }
    let block = allocate(length, PAGE_SIZE, true);
    if block.is_null() {
        return libc::MAP_FAILED;
    }
    let mapping = Mapping {
        address: block as usize,
        length,
        capacity: length,
        backing: file.map_or(Backing::Anonymous, |(open, offset)| Backing::Copy(open, offset)),
    };
    if matches!(mapping.backing, Backing::Copy(..)) {
        mapping.fill(0, length);
    }
    MAPPINGS.lock().push(mapping);
    block
}

/// The open file `fd` and the offset a file mapping starts at, if it can be mapped.
fn mapped_file(fd: c_int, offset: libc::off_t) -> Result<(Arc<Open>, u64), c_int> {
    let offset = u64::try_from(offset).map_err(|_| EINVAL)?;
    if !offset.is_multiple_of(PAGE_SIZE as u64) {
        return Err(EINVAL);
    }
    let open = crate::descriptor::open(fd)?;
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
    match take_mapping(address) {
        // A shared mapping's view belongs to its file, which frees it at its last mapping.
        Some(Mapping {
            backing: Backing::View(open),
            ..
        }) => {
            open.file.unmap_shared(address);
            0
        }
        // Dropped here, outside the lock: its file may close.
        Some(_) => {
            // SAFETY: the block came from `allocate` and is freed once (taken above).
            unsafe { free(address) };
            0
        }
        None => errno::fail(EINVAL),
    }
}

/// `msync(2)`: a shared file mapping's bytes are written to the file (and, with
/// `MS_SYNC`, made durable as by `fsync`); other mappings have nowhere to go.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn msync(address: *mut c_void, length: usize, flags: c_int) -> c_int {
    let known = libc::MS_ASYNC | libc::MS_SYNC | libc::MS_INVALIDATE;
    let both = libc::MS_ASYNC | libc::MS_SYNC;
    if flags & !known != 0 || flags & both == both || !(address as usize).is_multiple_of(PAGE_SIZE) {
        return errno::fail(EINVAL);
    }
    let start = address as usize;
    let shared = {
        let mappings = MAPPINGS.lock();
        let found = mappings.iter().find(|mapping| {
            (mapping.address..mapping.address + mapping.length).contains(&start)
                && start.saturating_add(length) <= mapping.address + mapping.length
        });
        match found {
            Some(Mapping {
                backing: Backing::View(open),
                address,
                ..
            }) => Some((open.clone(), *address)),
            Some(_) => None,
            None => return errno::fail(ENOMEM),
        }
    };
    match shared {
        Some((open, view)) => match open.file.sync_shared(view as *mut c_void, flags & libc::MS_SYNC != 0) {
            Ok(()) => 0,
            Err(code) => errno::fail(code),
        },
        None => 0,
    }
}

/// Takes the mapping at `address` out of [`MAPPINGS`]. Its work (filling, freeing, closing
/// its file) then happens outside the lock, which a thread that blocks must not hold.
fn take_mapping(address: *mut c_void) -> Option<Mapping> {
    let mut mappings = MAPPINGS.lock();
    let at = mappings
        .iter()
        .position(|mapping| mapping.address == address as usize)?;
    Some(mappings.swap_remove(at))
}

/// `mremap(2)` of a whole mapping [`mmap`] made (`old_size` its length): a smaller one
/// keeps its address; a larger one grows in place while its block has room, else moves
/// with `MREMAP_MAYMOVE` (its bytes copied, the old block freed) or fails with `ENOMEM`.
/// What is added is zeroes, or the file's next bytes. Fixed addresses (`MREMAP_FIXED`) are
/// not taken, as `mmap` takes none.
///
/// # Safety
/// With `MREMAP_MAYMOVE`, nothing may use the old addresses afterwards.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn mremap(
    old_address: *mut c_void,
    old_size: usize,
    new_size: usize,
    flags: c_int,
    _new_address: *mut c_void,
) -> *mut c_void {
    let fail = |code| {
        errno::set(code);
        libc::MAP_FAILED
    };
    if flags & !libc::MREMAP_MAYMOVE != 0 || new_size == 0 || !(old_address as usize).is_multiple_of(PAGE_SIZE) {
        return fail(EINVAL);
    }
    let Some(mut mapping) = take_mapping(old_address) else {
        return fail(libc::EFAULT);
    };
    let new_length = new_size.next_multiple_of(PAGE_SIZE);
    // A shared mapping is its file's view of one range: it is not resized.
    let is_view = matches!(mapping.backing, Backing::View(_));
    let moved = if old_size.next_multiple_of(PAGE_SIZE) != mapping.length || is_view {
        Err(EINVAL)
    } else if new_length <= mapping.capacity {
        if new_length > mapping.length {
            mapping.fill(mapping.length, new_length);
        }
        mapping.length = new_length;
        Ok(false)
    } else if flags & libc::MREMAP_MAYMOVE == 0 {
        Err(ENOMEM)
    } else {
        match allocate(new_length, PAGE_SIZE, true) {
            block if block.is_null() => Err(ENOMEM),
            block => {
                // SAFETY: both blocks are the mapping's, the new one larger; they do not
                // overlap.
                unsafe { core::ptr::copy_nonoverlapping(old_address.cast::<u8>(), block.cast(), mapping.length) };
                let old_length = mapping.length;
                (mapping.address, mapping.length, mapping.capacity) = (block as usize, new_length, new_length);
                mapping.fill(old_length, new_length);
                Ok(true)
            }
        }
    };
    let address = mapping.address as *mut c_void;
    MAPPINGS.lock().push(mapping);
    match moved {
        Ok(false) => address,
        Ok(true) => {
            // SAFETY: the old block came from `allocate`; no mapping names it any more.
            unsafe { free(old_address) };
            address
        }
        Err(code) => fail(code),
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
