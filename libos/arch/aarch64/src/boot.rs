//! The Rust side of the boot path, and the symbols that link arch, platform and application.
//!
//! The entry roots exactly one thing beyond the CPU set-up: the platform's
//! `__unik_platform_start`, which calls the application's entry.

use crate::{devicetree, mmu};

unsafe extern "Rust" {
    /// Defined by the platform crate: runs the application and exits. Never returns.
    safe fn __unik_platform_start() -> !;
}

/// Called by `entry.S` at EL1 on the main stack, MMU off, interrupts masked,
/// relocations applied; `dtb` is the device tree's physical address.
#[unsafe(no_mangle)]
extern "C" fn unik_aarch64_entry(dtb: u64) -> ! {
    devicetree::record(dtb);
    mmu::enable();
    __unik_platform_start()
}

/// Generic-timer ticks from the image's first instruction to now, with the counter's rate
/// (bench builds only).
#[cfg(unik_bench)]
pub fn cycles_since_entry() -> unik_platform_api::bench::Ticks {
    unsafe extern "C" {
        static unik_aarch64_entry_counter: u64;
    }
    let entry = symbol_address!(unik_aarch64_entry_counter) as *const u64;
    // SAFETY: written once by the entry code, before any Rust ran.
    let entry = unsafe { entry.read_volatile() };
    unik_platform_api::bench::Ticks {
        count: crate::cpu::counter().wrapping_sub(entry),
        per_second: Some(crate::cpu::counter_frequency()),
    }
}

/// RAM free for the heap: the device tree's memory, mapped in whole 2 MiB blocks, minus the
/// image, the device tree itself and the initial ramdisk.
pub fn free_memory() -> impl Iterator<Item = unik_platform_api::memory::Region> {
    devicetree::move_past_image();
    let ram = devicetree::ram().map(mmu::map_ram);
    unik_platform_api::memory::carve(ram, [mmu::image(), devicetree::blob(), devicetree::initial_ramdisk()])
}

/// The initial ramdisk the loader placed (`/chosen`'s `linux,initrd-*`), mapped; empty if
/// there is none or it cannot be mapped.
pub fn initial_ramdisk() -> &'static [u8] {
    let region = devicetree::initial_ramdisk();
    if region.is_empty() || !mmu::map_memory(region.clone()) {
        return &[];
    }
    // SAFETY: the loader placed the ramdisk there, mapped just above; the heap is carved
    // around it (`free_memory`) and the device tree never moves onto it, so nothing
    // writes it.
    unsafe { core::slice::from_raw_parts(region.start as *const u8, (region.end - region.start) as usize) }
}
