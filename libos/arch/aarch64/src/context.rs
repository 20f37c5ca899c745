//! Thread contexts, the thread pointer (TPIDR_EL0) and RNDR: the arm64 side of
//! `unik_platform_api::Processor`.
//!
//! A saved context is a stack pointer to 176 bytes: x19-x28, the frame pointer (x29) and
//! the link register (x30), the low halves of v8-v15 (d8-d15) and FPCR, which AAPCS64
//! says a call preserves. The other registers are caller-saved: the compiler has saved
//! whichever it needs before calling [`switch_context`].

use core::arch::{asm, global_asm};
use unik_platform_api::TlsLayout;

/// The ELF TLS variant of this architecture.
pub const TLS_LAYOUT: TlsLayout = TlsLayout::BlockAbovePointer { control_block: 16 };

/// The architecture's name as Linux's `uname` gives it.
pub const LINUX_MACHINE: &str = "aarch64";

global_asm!(
    ".pushsection .text.unik_aarch64_switch, \"ax\"",
    ".global unik_aarch64_switch",
    // x0 = where to save the running context, x1 = the context to resume.
    "unik_aarch64_switch:",
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mrs x9, fpcr",
    "str x9, [sp, #160]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov sp, x1",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "ldr x9, [sp, #160]",
    "msr fpcr, x9",
    "add sp, sp, #176",
    "ret",
    // A new context's first return lands here: x19 = entry, x20 = its argument.
    "unik_aarch64_context_start:",
    "mov x0, x20",
    "blr x19",
    "brk #0",
    ".popsection",
);

unsafe extern "C" {
    fn unik_aarch64_switch(save: *mut usize, resume: usize);
    static unik_aarch64_context_start: u8;
}

/// Bytes of a saved context.
const CONTEXT_BYTES: usize = 176;

/// Prepares a context on the stack ending at `stack_top` that calls `entry(argument)`.
///
/// # Safety
/// The 176 bytes below `stack_top` (16-byte aligned) must be writable and unused.
pub unsafe fn new_context(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> usize {
    let context = stack_top - CONTEXT_BYTES;
    let mut frame = [0u64; CONTEXT_BYTES / 8];
    frame[0] = entry as usize as u64; // x19
    frame[1] = argument as u64; // x20
    frame[11] = symbol_address!(unik_aarch64_context_start); // x30
    // SAFETY: the caller lends the memory below `stack_top`; `context` is 16-byte aligned.
    unsafe { (context as *mut [u64; CONTEXT_BYTES / 8]).write(frame) };
    context
}

/// Saves the running context into `*save` and resumes `resume`.
///
/// # Safety
/// See `unik_platform_api::Processor::switch_context`.
pub unsafe fn switch_context(save: *mut usize, resume: usize) {
    // SAFETY: the caller guarantees `resume` is a live context; `save` is written once.
    unsafe { unik_aarch64_switch(save, resume) }
}

/// Points TPIDR_EL0 (the thread pointer of the arm64 TLS ABI) at `pointer`.
pub fn set_thread_pointer(pointer: usize) {
    // SAFETY: only thread-pointer-relative accesses change.
    unsafe { asm!("msr tpidr_el0, {}", in(reg) pointer, options(nomem, nostack, preserves_flags)) };
}

/// Whether the CPU has RNDR (ID_AA64ISAR0_EL1.RNDR, bits 63:60).
fn has_rndr() -> bool {
    let isar0: u64;
    // SAFETY: a read-only ID register.
    unsafe { asm!("mrs {}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack, preserves_flags)) };
    isar0 >> 60 != 0
}

/// One RNDR word, retried a few times when the generator has none ready (NZCV.Z set).
fn rndr() -> Option<u64> {
    for _ in 0..10 {
        let (value, failed): (u64, u64);
        // SAFETY: only called after ID_AA64ISAR0_EL1 reported RNDR. `s3_3_c2_c4_0` is RNDR.
        unsafe {
            asm!("mrs {0}, s3_3_c2_c4_0", "cset {1}, eq", out(reg) value, out(reg) failed, options(nomem, nostack))
        };
        if failed == 0 {
            return Some(value);
        }
    }
    None
}

/// Fills `buffer` with RNDR output; `false` without RNDR or when it keeps failing.
pub fn hardware_random(buffer: &mut [u8]) -> bool {
    if !has_rndr() {
        return false;
    }
    for chunk in buffer.chunks_mut(8) {
        let Some(word) = rndr() else { return false };
        chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
    }
    true
}

/// Linux's `AT_HWCAP` on arm64: each `HWCAP_*` bit (the kernel's
/// `arch/arm64/include/uapi/asm/hwcap.h`) set when the ID-register field it stands for
/// reaches the value the kernel requires (`docs.kernel.org/arch/arm64/elf_hwcaps.html`).
pub fn linux_hardware_capabilities() -> u64 {
    let (pfr0, isar0, isar1): (u64, u64, u64);
    // SAFETY: read-only ID registers, readable at EL1.
    unsafe {
        asm!(
            "mrs {0}, id_aa64pfr0_el1",
            "mrs {1}, id_aa64isar0_el1",
            "mrs {2}, id_aa64isar1_el1",
            out(reg) pfr0, out(reg) isar0, out(reg) isar1,
            options(nomem, nostack, preserves_flags)
        )
    };
    let field = |register: u64, shift: u32| (register >> shift) & 0xf;
    // FP and AdvSIMD: 0 = present, 1 = present with half precision, 0xf = absent.
    let (fp, simd) = (field(pfr0, 16), field(pfr0, 20));
    let rules: [(bool, u32); 22] = [
        (fp != 0xf, 0),              // FP
        (simd != 0xf, 1),            // ASIMD
        (field(isar0, 4) >= 1, 3),   // AES
        (field(isar0, 4) >= 2, 4),   // PMULL
        (field(isar0, 8) >= 1, 5),   // SHA1
        (field(isar0, 12) >= 1, 6),  // SHA2
        (field(isar0, 16) >= 1, 7),  // CRC32
        (field(isar0, 20) >= 2, 8),  // ATOMICS (LSE)
        (fp == 1, 9),                // FPHP
        (simd == 1, 10),             // ASIMDHP
        (field(isar0, 28) >= 1, 12), // ASIMDRDM
        (field(isar1, 12) >= 1, 13), // JSCVT
        (field(isar1, 16) >= 1, 14), // FCMA
        (field(isar1, 20) >= 1, 15), // LRCPC
        (field(isar1, 0) >= 1, 16),  // DCPOP
        (field(isar0, 32) >= 1, 17), // SHA3
        (field(isar0, 36) >= 1, 18), // SM3
        (field(isar0, 40) >= 1, 19), // SM4
        (field(isar0, 44) >= 1, 20), // ASIMDDP
        (field(isar0, 12) >= 2, 21), // SHA512
        (field(isar0, 48) >= 1, 23), // ASIMDFHM
        (field(isar1, 20) >= 2, 26), // ILRCPC
    ];
    rules
        .iter()
        .filter(|(present, _)| *present)
        .fold(0, |hwcap, (_, bit)| hwcap | 1 << bit)
}

/// Guard pages for thread stacks: see [`crate::mmu::set_guard_page`].
pub fn set_guard_page(address: usize, guarded: bool) -> bool {
    crate::mmu::set_guard_page(address as u64, guarded)
}
