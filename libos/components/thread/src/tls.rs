//! Thread-local storage blocks: each thread's copy of the image's TLS initial image
//! (`.tdata`, then zeroes for `.tbss`), laid out around the thread pointer as the
//! architecture's ELF TLS variant says (`Processor::TLS_LAYOUT`).

use alloc::alloc::{alloc_zeroed, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::sync::atomic::{AtomicUsize, Ordering};
use unik_platform::{Current, Processor, TlsLayout};

unsafe extern "C" {
    /// Written by the linker script: the offset of `.tdata` from this symbol, the size of
    /// `.tdata`, the size of the whole TLS block and its alignment.
    static __unik_tls: [u64; 4];
}

/// The image's TLS initial image.
#[derive(Clone, Copy, Debug)]
struct Template {
    data: *const u8,
    data_size: usize,
    size: usize,
    align: usize,
}

fn template() -> Template {
    let info = &raw const __unik_tls;
    // SAFETY: the linker script defines the symbol with four words; read through a raw
    // pointer, as the compiler cannot know the values.
    let [offset, data_size, size, align] = unsafe { info.read_volatile() };
    Template {
        data: info.cast::<u8>().wrapping_add(offset as usize),
        data_size: data_size as usize,
        size: size as usize,
        align: (align as usize).max(1),
    }
}

/// Where the parts of a TLS block go, in bytes from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placement {
    /// The whole allocation.
    size: usize,
    /// Where the TLS data (the copy of `.tdata`, then `.tbss`) starts.
    data_offset: usize,
    /// Where the thread pointer points.
    pointer_offset: usize,
}

/// The block for TLS data of `size` bytes aligned to `align`, laid out as the linker
/// computed the offsets it put into the code (lld: variant II places data at
/// `tp - align_up(size, align)`, variant I at `tp + align_up(control block, align)`).
fn placement(layout: TlsLayout, size: usize, align: usize) -> Placement {
    match layout {
        // [TLS data, padded to the alignment][control block: a pointer to itself].
        // (Padding after the data: the linker's offsets count back from the pointer.)
        TlsLayout::BlockBelowPointer => {
            let data = size.next_multiple_of(align);
            Placement {
                size: data + 64,
                data_offset: 0,
                pointer_offset: data,
            }
        }
        // [control block, padded to the alignment][TLS data].
        TlsLayout::BlockAbovePointer { control_block } => {
            let data = control_block.next_multiple_of(align);
            Placement {
                size: data + size,
                data_offset: data,
                pointer_offset: 0,
            }
        }
    }
}

/// One thread's TLS block, freed on drop.
#[derive(Debug)]
pub struct TlsBlock {
    memory: *mut u8,
    layout: Layout,
    thread_pointer: usize,
}

// SAFETY: the block is plain memory owned by one thread record.
unsafe impl Send for TlsBlock {}

impl TlsBlock {
    /// A fresh block for a new thread: the initial image copied, the rest zeroed.
    pub fn allocate() -> TlsBlock {
        let template = template();
        let Placement {
            size: layout,
            data_offset,
            pointer_offset,
        } = placement(Current::TLS_LAYOUT, template.size, template.align);
        // The offsets the linker computed use the segment's own alignment; the allocation
        // is at least 16-byte aligned so that the control block is too.
        let layout = Layout::from_size_align(layout, template.align.max(16)).expect("TLS alignment is a power of two");
        // SAFETY: the size is never zero (the control block alone is not).
        let memory = unsafe { alloc_zeroed(layout) };
        if memory.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: the template lies in the image; the block holds `data_offset + size`.
        unsafe { core::ptr::copy_nonoverlapping(template.data, memory.add(data_offset), template.data_size) };
        let thread_pointer = memory as usize + pointer_offset;
        if Current::TLS_LAYOUT == TlsLayout::BlockBelowPointer {
            // SAFETY: the control block is 64 bytes inside the allocation.
            unsafe { (thread_pointer as *mut usize).write_unaligned(thread_pointer) };
        }
        TlsBlock {
            memory,
            layout,
            thread_pointer,
        }
    }

    /// What the thread pointer holds while this block's thread runs.
    pub fn thread_pointer(&self) -> usize {
        self.thread_pointer
    }
}

impl Drop for TlsBlock {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.memory, self.layout) }
    }
}

/// The main thread's thread pointer, once [`init_main_thread`] ran.
static MAIN_THREAD_POINTER: AtomicUsize = AtomicUsize::new(0);

/// Gives the running (first) thread its TLS block, for good. Rust code that uses thread
/// locals (std does) must not run before.
pub fn init_main_thread() {
    let block = core::mem::ManuallyDrop::new(TlsBlock::allocate());
    MAIN_THREAD_POINTER.store(block.thread_pointer(), Ordering::Release);
    Current::set_thread_pointer(block.thread_pointer());
}

/// The main thread's thread pointer (0 if it has no TLS block).
pub(crate) fn main_thread_pointer() -> usize {
    MAIN_THREAD_POINTER.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_match_the_offsets_the_linker_computes() {
        // A std image on x86_64: 0x68 bytes aligned to 8 lie just below the pointer.
        let below = placement(TlsLayout::BlockBelowPointer, 0x68, 8);
        assert_eq!(below.pointer_offset - below.data_offset, 0x68);
        assert!(below.size >= below.pointer_offset + 8, "room for the self pointer");
        // Alignment pads between the data and the pointer.
        let padded = placement(TlsLayout::BlockBelowPointer, 0x64, 16);
        assert_eq!(padded.pointer_offset - padded.data_offset, 0x70);
        // arm64: a 16-byte control block, the data after it at the alignment.
        let above = placement(TlsLayout::BlockAbovePointer { control_block: 16 }, 0x68, 8);
        assert_eq!(
            (above.pointer_offset, above.data_offset, above.size),
            (0, 16, 16 + 0x68)
        );
        let wide = placement(TlsLayout::BlockAbovePointer { control_block: 16 }, 0x40, 64);
        assert_eq!(wide.data_offset, 64);
    }
}
