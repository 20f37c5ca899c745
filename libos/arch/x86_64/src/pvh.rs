//! Reading the PVH start info the loader left in memory.

use core::sync::atomic::{AtomicU64, Ordering};
use unik_boot_abi::pvh::{
    HVM_START_INFO_SIZE, HvmMemmapTableEntry, HvmStartInfo, XEN_HVM_MEMMAP_TYPE_RAM, XEN_HVM_START_MAGIC_VALUE,
};
use unik_platform_api::memory::Region;

static START_INFO: AtomicU64 = AtomicU64::new(0);

pub(crate) fn record_start_info(paddr: u64) {
    START_INFO.store(paddr, Ordering::Relaxed);
}

/// The start info, if the loader passed a valid one.
pub fn start_info() -> Option<&'static HvmStartInfo> {
    let paddr = START_INFO.load(Ordering::Relaxed);
    if paddr == 0 {
        return None;
    }
    // SAFETY: the loader placed the structure at `paddr`, inside the identity-mapped first
    // GiB, and nothing writes it (platforms reserve it from the heap via `boot_structures`).
    let info = unsafe { &*(paddr as *const HvmStartInfo) };
    (info.magic == XEN_HVM_START_MAGIC_VALUE).then_some(info)
}

/// The boot command line (empty if none was given).
pub fn command_line() -> &'static str {
    let Some((start, len)) = command_line_span() else {
        return "";
    };
    // SAFETY: `command_line_span` found a NUL-terminated string of `len` bytes at `start`.
    let bytes = unsafe { core::slice::from_raw_parts(start as *const u8, len) };
    core::str::from_utf8(bytes).unwrap_or("")
}

fn command_line_span() -> Option<(u64, usize)> {
    let paddr = start_info()?.cmdline_paddr;
    if paddr == 0 {
        return None;
    }
    // SAFETY: the loader guarantees a NUL-terminated string at `cmdline_paddr`.
    let len = unsafe { core::ffi::CStr::from_ptr(paddr as *const core::ffi::c_char) }.count_bytes();
    Some((paddr, len))
}

fn memory_map() -> &'static [HvmMemmapTableEntry] {
    match start_info() {
        Some(info) if info.version >= 1 && info.memmap_paddr != 0 => {
            // SAFETY: version ≥ 1 start infos describe `memmap_entries` entries there.
            unsafe {
                core::slice::from_raw_parts(
                    info.memmap_paddr as *const HvmMemmapTableEntry,
                    info.memmap_entries as usize,
                )
            }
        }
        _ => &[],
    }
}

/// RAM regions from the loader's memory map.
pub fn ram() -> impl Iterator<Item = Region> {
    memory_map()
        .iter()
        .filter(|entry| entry.kind == XEN_HVM_MEMMAP_TYPE_RAM)
        .map(|entry| entry.addr..entry.addr.saturating_add(entry.size))
}

/// Memory holding the start info, its memory map and the command line: keep out of the heap.
pub fn boot_structures() -> [Region; 3] {
    let info = START_INFO.load(Ordering::Relaxed);
    let map = memory_map();
    let map_start = map.as_ptr() as u64;
    let (line, line_len) = command_line_span().unwrap_or((0, 0));
    [
        info..info + HVM_START_INFO_SIZE as u64,
        map_start..map_start + core::mem::size_of_val(map) as u64,
        line..line + line_len as u64 + 1,
    ]
}

/// Memory below 1 MiB holds firmware tables and the loader's structures.
const LOW_MEMORY: Region = 0..0x10_0000;

/// Whether the loader's start info carries a memory map (version ≥ 1). Xen's PVH dom0
/// start info does not; the domain asks Xen for it instead.
pub fn has_memory_map() -> bool {
    !memory_map().is_empty()
}

/// RAM free for the heap: the loader's RAM regions within the mapped first GiB, minus low
/// memory, the image and the boot structures.
pub fn free_memory() -> impl Iterator<Item = Region> {
    free_memory_in(ram())
}

/// The parts of the RAM regions `ram` the heap may use: within the mapped first GiB,
/// minus low memory, the image and the boot structures.
pub fn free_memory_in(ram: impl Iterator<Item = Region>) -> impl Iterator<Item = Region> {
    let [info, map, line] = boot_structures();
    let ram = ram.map(|r| r.start..r.end.min(crate::mmu::MAPPED_RAM_END));
    unik_platform_api::memory::carve(ram, [LOW_MEMORY, crate::mmu::image(), info, map, line])
}
