//! Shared file mappings (`mmap` with `MAP_SHARED` of a file; the files component): what
//! SQLite's WAL index, LMDB and `memmap2` users rely on. The program's one address space
//! has one copy of each mapped range, a *view*: heap pages filled from the file when
//! mapped, which are the file's bytes for that range from then on. Reads of the file see
//! what was stored into the view ([`overlay`]), writes to the file land in it too
//! ([`update`]), and the view's bytes reach the file when the program asks (`msync`,
//! `fsync`) and when its last mapping goes (`munmap`).
//!
//! Mapping a range already mapped gives the same view (and counts it); a range that
//! overlaps a view without being the same would need two coherent copies, and is refused
//! with `ENODEV`. No view locks the tree while the program runs, and no lock is held
//! across a call that may wait: each function takes [`VIEWS`] or the tree, not both.

use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use spinning_top::Spinlock;
use unik_fs::NodeId;

use crate::errno::{ENODEV, ENOMEM};

/// One mapped range of a file.
struct View {
    node: NodeId,
    /// Where it starts in the file (page-aligned).
    offset: u64,
    /// Its pages: `length` bytes, page-aligned, from the heap.
    address: usize,
    length: usize,
    /// Mappings of it not yet unmapped.
    users: usize,
    /// Whether any mapping may store into it (only then is it written back).
    writable: bool,
}

impl View {
    /// The overlap of the view with file bytes `offset..offset + length`: (where in the
    /// view, where in those bytes, how many).
    fn overlap(&self, offset: u64, length: usize) -> Option<(usize, usize, usize)> {
        let start = self.offset.max(offset);
        let end = (self.offset + self.length as u64).min(offset + length as u64);
        (start < end).then(|| {
            (
                (start - self.offset) as usize,
                (start - offset) as usize,
                (end - start) as usize,
            )
        })
    }

    /// The view's bytes.
    ///
    /// # Safety
    /// Nothing may be writing them while the slice lives (threads switch only when they
    /// block, so the program's own stores do not interleave with this library's calls).
    unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: `address` holds `length` bytes this view owns; the caller's guarantee.
        unsafe { core::slice::from_raw_parts(self.address as *const u8, self.length) }
    }

    /// The view's bytes, to change them.
    ///
    /// # Safety
    /// As [`View::bytes`], for reads and writes.
    unsafe fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`.
        unsafe { core::slice::from_raw_parts_mut(self.address as *mut u8, self.length) }
    }
}

/// Every file range mapped shared.
static VIEWS: Spinlock<Vec<View>> = Spinlock::new(Vec::new());

/// Maps `length` bytes of node `node` from `offset` (page-aligned) shared: the view's
/// address, filled by `fill` (which reads the file there) when the range is new.
pub(crate) fn map(
    node: NodeId,
    offset: u64,
    length: usize,
    writable: bool,
    fill: impl FnOnce(&mut [u8]),
) -> Result<*mut c_void, c_int> {
    let length = length.next_multiple_of(crate::memory::PAGE_SIZE);
    if let Some(shared) = share_existing(node, offset, length, writable) {
        return shared;
    }
    let address = crate::memory::allocate_pages(length);
    if address.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: just allocated: `length` bytes no one else uses.
    fill(unsafe { core::slice::from_raw_parts_mut(address.cast::<u8>(), length) });
    // Another thread may have mapped the range while the file was read.
    if let Some(shared) = share_existing(node, offset, length, writable) {
        // SAFETY: allocated above and never handed out.
        unsafe { crate::memory::free(address) };
        return shared;
    }
    VIEWS.lock().push(View {
        node,
        offset,
        address: address as usize,
        length,
        users: 1,
        writable,
    });
    Ok(address)
}

/// The view of exactly this range, counted once more; `ENODEV` for a view it overlaps
/// without being it; `None` when no view overlaps it.
fn share_existing(node: NodeId, offset: u64, length: usize, writable: bool) -> Option<Result<*mut c_void, c_int>> {
    let mut views = VIEWS.lock();
    let view = views
        .iter_mut()
        .find(|view| view.node == node && view.overlap(offset, length).is_some())?;
    if (view.offset, view.length) != (offset, length) {
        return Some(Err(ENODEV));
    }
    view.users += 1;
    view.writable |= writable;
    Some(Ok(view.address as *mut c_void))
}

/// Ends one mapping of the view at `address`; at its last, what it holds for the file is
/// returned to be written back (see [`write_back`]) and its pages are freed once it is.
pub(crate) fn unmap(address: *mut c_void, write: impl FnOnce(NodeId, u64, &[u8])) {
    let view = {
        let mut views = VIEWS.lock();
        let Some(at) = views.iter().position(|view| view.address == address as usize) else {
            return;
        };
        views[at].users -= 1;
        if views[at].users > 0 {
            return;
        }
        views.swap_remove(at)
    };
    if view.writable {
        // SAFETY: no mapping names the view any more.
        write(view.node, view.offset, unsafe { view.bytes() });
    }
    // SAFETY: the pages came from `allocate_pages` and no view names them any more.
    unsafe { crate::memory::free(address) };
}

/// Passes what the writable views of node `node` (or only the view at `address`) hold to
/// `write`, to be written to the file.
pub(crate) fn write_back(
    node: Option<NodeId>,
    address: Option<*mut c_void>,
    mut write: impl FnMut(NodeId, u64, &[u8]),
) {
    let chosen: Vec<(NodeId, u64, usize, usize)> = VIEWS
        .lock()
        .iter()
        .filter(|view| view.writable)
        .filter(|view| node.is_none_or(|node| view.node == node))
        .filter(|view| address.is_none_or(|address| view.address == address as usize))
        .map(|view| (view.node, view.offset, view.address, view.length))
        .collect();
    for (node, offset, address, length) in chosen {
        // SAFETY: a live view's pages (the program unmaps them only through `unmap`,
        // which this call does not race: threads switch only when they block).
        write(node, offset, unsafe {
            core::slice::from_raw_parts(address as *const u8, length)
        });
    }
}

/// After a read of node `node` at `offset` into `buffer`: the views' bytes replace the
/// file's, being newer.
pub(crate) fn overlay(node: NodeId, offset: u64, buffer: &mut [u8]) {
    for view in VIEWS.lock().iter().filter(|view| view.node == node) {
        if let Some((in_view, in_buffer, count)) = view.overlap(offset, buffer.len()) {
            // SAFETY: see `View::bytes`.
            let bytes = unsafe { view.bytes() };
            buffer[in_buffer..in_buffer + count].copy_from_slice(&bytes[in_view..in_view + count]);
        }
    }
}

/// After a write of `bytes` to node `node` at `offset`: the views show them too.
pub(crate) fn update(node: NodeId, offset: u64, bytes: &[u8]) {
    for view in VIEWS.lock().iter_mut().filter(|view| view.node == node) {
        if let Some((in_view, in_bytes, count)) = view.overlap(offset, bytes.len()) {
            // SAFETY: see `View::bytes`.
            let memory = unsafe { view.bytes_mut() };
            memory[in_view..in_view + count].copy_from_slice(&bytes[in_bytes..in_bytes + count]);
        }
    }
}

/// After node `node` was cut to `length` bytes: what the views hold past it is gone, and
/// reads as zeroes if the file grows again.
pub(crate) fn truncate(node: NodeId, length: u64) {
    for view in VIEWS.lock().iter_mut().filter(|view| view.node == node) {
        let from = length.saturating_sub(view.offset).min(view.length as u64) as usize;
        // SAFETY: see `View::bytes`.
        let bytes = unsafe { view.bytes_mut() };
        bytes[from..].fill(0);
    }
}
