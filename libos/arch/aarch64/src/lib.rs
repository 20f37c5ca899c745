//! arm64 boot and CPU layer shared by every arm64 platform (`kvm-arm64`, `xen-arm64`).
//!
//! Boot sequence: [`entry.S`](../src/entry.S) (the Linux Image header, FP/SIMD on, bss
//! zeroed, self-relocation, stacks, exception vectors) calls [`boot`]'s
//! `unik_aarch64_entry`, which records the device tree, turns the MMU on with W^X page
//! permissions and calls the platform's `__unik_platform_start`. The GIC, the timer and
//! devices initialise when a platform first uses them.
//!
//! Images are position-independent: loaders put them at different addresses (QEMU at RAM +
//! 2 MiB, Xen at 0x40000000 for a dom0less domU, anywhere for a dom0), and the entry code
//! relocates the image's pointers before any Rust runs. All memory is identity-mapped.
//!
//! This is one of the few crates allowed `unsafe`: it touches system registers, page
//! tables, device memory and the memory the loader handed over.
#![no_std]

/// The address of the symbol `$symbol` (a static or function the linker script or the
/// assembly defines), computed PC-relative with `adrp` and `add`. Position-independent
/// code would otherwise load it from the GOT: a word and a dynamic relocation per symbol.
macro_rules! symbol_address {
    ($symbol:path) => {{
        let address: u64;
        // SAFETY: computes an address from the program counter; reads nothing.
        unsafe {
            core::arch::asm!(
                "adrp {address}, {symbol}",
                "add {address}, {address}, :lo12:{symbol}",
                address = out(reg) address,
                symbol = sym $symbol,
                options(pure, nomem, nostack, preserves_flags),
            )
        };
        address
    }};
}

pub mod boot;
pub mod context;
pub mod cpu;
pub mod devicetree;
mod exception;
pub mod gic;
pub mod mmio;
pub mod mmu;
pub mod psci;
pub mod semihosting;
pub mod timer;
pub mod xen;

// Bench builds (`--cfg unik_bench`) read the counter at the image's first instruction into
// x20, and store it once data has moved to its place (the move would overwrite it), in
// `.data` because `.bss` is zeroed right after; other builds carry not one byte of it.
#[cfg(unik_bench)]
core::arch::global_asm!(
    ".macro unik_bench_entry_counter",
    "mrs x20, cntvct_el0",
    ".endm",
    ".macro unik_bench_store_entry_counter",
    "adrp x10, unik_aarch64_entry_counter",
    "str x20, [x10, :lo12:unik_aarch64_entry_counter]",
    ".endm",
    ".pushsection .data.unik_aarch64_entry_counter, \"aw\"",
    ".balign 8",
    ".global unik_aarch64_entry_counter",
    "unik_aarch64_entry_counter: .quad 0",
    ".popsection",
);
#[cfg(not(unik_bench))]
core::arch::global_asm!(
    ".macro unik_bench_entry_counter",
    ".endm",
    ".macro unik_bench_store_entry_counter",
    ".endm"
);
core::arch::global_asm!(include_str!("entry.S"));
