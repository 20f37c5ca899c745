//! The Rust side of the boot path, and the symbols that link arch, platform and application.
//!
//! The entry roots exactly one thing beyond the CPU set-up: the platform's
//! `__unik_platform_start`, which calls the application's entry.

use crate::{mmu, pvh, trap};

unsafe extern "Rust" {
    /// Defined by the platform crate: runs the application and exits. Never returns.
    safe fn __unik_platform_start() -> !;
}

/// Called by `pvh_entry.S` in 64-bit mode on the boot stack, interrupts off.
///
/// `start_info` is the physical (= virtual, identity-mapped) address of `hvm_start_info`.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_entry(start_info: u64) -> ! {
    mmu::protect_image();
    trap::init();
    pvh::record_start_info(start_info);
    __unik_platform_start()
}

/// TSC cycles from the image's first instruction to now (bench builds only).
#[cfg(unik_bench)]
pub fn cycles_since_entry() -> unik_platform_api::bench::Ticks {
    unsafe extern "C" {
        static unik_x86_64_entry_tsc: u64;
    }
    // SAFETY: written once by the entry code, before any Rust ran.
    let entry = unsafe { core::ptr::addr_of!(unik_x86_64_entry_tsc).read_volatile() };
    unik_platform_api::bench::Ticks {
        count: crate::cpu::rdtsc().wrapping_sub(entry),
        per_second: None,
    }
}
