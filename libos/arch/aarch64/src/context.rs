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
    frame[11] = (&raw const unik_aarch64_context_start) as u64; // x30
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
