//! x86_64 boot and CPU layer shared by every x86_64 platform (`kvm-x86_64`, later `xen-x86_64`).
//!
//! Boot sequence: [`pvh_entry.S`](../src/pvh_entry.S) enters long mode and calls
//! [`boot::unik_x86_64_entry`], which protects the image (W^X, stack guard), installs the
//! fault handlers and calls the platform's `__unik_platform_start`. Nothing else is set up
//! at boot: the timer, interrupts and devices initialise when a platform first uses them.
//!
//! This is one of the few crates allowed `unsafe`: it touches control registers, page
//! tables, I/O ports and the memory the loader handed over.
#![no_std]

pub mod boot;
pub mod context;
pub mod cpu;
pub mod ioapic;
pub mod lapic;
pub mod mmu;
pub mod pit;
pub mod pvh;
pub mod rtc;
pub mod trap;
pub mod xen;

// Bench builds (`--cfg unik_bench`) record the TSC at the image's first instruction, in
// `.data` because `.bss` is zeroed right after; other builds carry not one byte of it.
#[cfg(unik_bench)]
core::arch::global_asm!(
    ".macro unik_bench_entry_tsc",
    "rdtsc",
    "mov %eax, unik_x86_64_entry_tsc",
    "mov %edx, unik_x86_64_entry_tsc+4",
    ".endm",
    ".pushsection .data.unik_x86_64_entry_tsc, \"aw\"",
    ".balign 8",
    ".global unik_x86_64_entry_tsc",
    "unik_x86_64_entry_tsc: .quad 0",
    ".popsection",
    options(att_syntax)
);
#[cfg(not(unik_bench))]
core::arch::global_asm!(".macro unik_bench_entry_tsc", ".endm", options(att_syntax));
core::arch::global_asm!(include_str!("pvh_entry.S"), options(att_syntax));
core::arch::global_asm!(include_str!("trap_entry.S"), options(att_syntax));
