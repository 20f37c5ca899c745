//! Reading the PVH start info the loader left in memory.

use core::sync::atomic::{AtomicU64, Ordering};
use unik_boot_abi::pvh::{PhysicalMemory, StartInfo};
use unik_platform_api::memory::Region;

static START_INFO: AtomicU64 = AtomicU64::new(0);

pub(crate) fn record_start_info(paddr: u64) {
    START_INFO.store(paddr, Ordering::Relaxed);
}

/// The identity-mapped first GiB, past the null page, as the start info reader sees it.
struct MappedMemory;

impl PhysicalMemory<'static> for MappedMemory {
    fn bytes(&self, address: u64, len: usize) -> Option<&'static [u8]> {
        let end = address.checked_add(len as u64)?;
        if address < 0x1000 || end > crate::mmu::MAPPED_RAM_END {
            return None;
        }
        // SAFETY: the range lies in the identity-mapped first GiB, where the loader put its
        // structures; nothing writes them (platforms keep them out of the heap with
        // `boot_structures`).
        Some(unsafe { core::slice::from_raw_parts(address as *const u8, len) })
    }

    fn c_string(&self, address: u64) -> Option<&'static [u8]> {
        self.bytes(address, 1)?;
        // SAFETY: mapped (checked above); the loader guarantees a NUL-terminated string
        // at the address it gives for the command line.
        let line = unsafe { core::ffi::CStr::from_ptr(address as *const core::ffi::c_char) };
        Some(line.to_bytes())
    }
}

/// The start info, if the loader passed a valid one.
pub fn start_info() -> Option<StartInfo<'static>> {
    StartInfo::read(&MappedMemory, START_INFO.load(Ordering::Relaxed))
}

/// The boot command line (empty if none was given, or if it is not UTF-8).
pub fn command_line() -> &'static str {
    start_info().map_or("", |info| core::str::from_utf8(info.command_line).unwrap_or(""))
}

/// RAM regions from the loader's memory map.
pub fn ram() -> impl Iterator<Item = Region> {
    start_info().into_iter().flat_map(|info| info.ram())
}

/// Memory holding the start info, its memory map, the command line, the module list and
/// the initial ramdisk: keep out of the heap.
pub fn boot_structures() -> [Region; 5] {
    start_info().map_or([const { 0..0 }; 5], |info| info.footprint())
}

/// The initial ramdisk the loader placed (the first PVH module), empty if none.
pub fn ramdisk() -> &'static [u8] {
    start_info().map_or(&[], |info| info.ramdisk)
}

/// Memory below 1 MiB holds firmware tables and the loader's structures.
const LOW_MEMORY: Region = 0..0x10_0000;

/// Whether the loader's start info carries a memory map (version ≥ 1). Xen's PVH dom0
/// start info does not; the domain asks Xen for it instead.
pub fn has_memory_map() -> bool {
    start_info().is_some_and(|info| !info.memory_map.is_empty())
}

/// RAM free for the heap: the loader's RAM regions within the mapped first GiB, minus low
/// memory, the image and the boot structures (the ramdisk among them).
pub fn free_memory() -> impl Iterator<Item = Region> {
    free_memory_in(ram())
}

/// The parts of the RAM regions `ram` the heap may use: within the mapped first GiB,
/// minus low memory, the image and the boot structures.
pub fn free_memory_in(ram: impl Iterator<Item = Region>) -> impl Iterator<Item = Region> {
    let [info, map, line, modules, ramdisk] = boot_structures();
    let ram = ram.map(|r| r.start..r.end.min(crate::mmu::MAPPED_RAM_END));
    unik_platform_api::memory::carve(
        ram,
        [LOW_MEMORY, crate::mmu::image(), info, map, line, modules, ramdisk],
    )
}
