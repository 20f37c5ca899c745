//! Thread contexts, the thread pointer (FS base) and RDRAND: the x86_64 side of
//! `unik_platform_api::Processor`.
//!
//! A saved context is a stack pointer; below it lie MXCSR and the x87 control word, then
//! the callee-saved registers of the System V ABI (r15, r14, r13, r12, rbx, rbp) and the
//! return address. The SSE registers are all caller-saved in that ABI: the compiler has
//! saved whichever it needs before calling [`switch_context`].

use core::arch::{asm, global_asm};
use unik_platform_api::TlsLayout;

/// The ELF TLS variant of this architecture.
pub const TLS_LAYOUT: TlsLayout = TlsLayout::BlockBelowPointer;

/// The architecture's name as Linux's `uname` gives it.
pub const LINUX_MACHINE: &str = "x86_64";

global_asm!(
    ".pushsection .text.unik_x86_64_switch, \"ax\"",
    ".global unik_x86_64_switch",
    // rdi = where to save the running context, rsi = the context to resume.
    "unik_x86_64_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "stmxcsr [rsp]",
    "fnstcw [rsp + 4]",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "ldmxcsr [rsp]",
    "fldcw [rsp + 4]",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    // A new context's first return lands here: r13 = entry, r12 = its argument; the
    // stack pointer is 16-byte aligned, as before a call.
    "unik_x86_64_context_start:",
    "mov rdi, r12",
    "call r13",
    "ud2",
    ".popsection",
);

unsafe extern "C" {
    fn unik_x86_64_switch(save: *mut usize, resume: usize);
    static unik_x86_64_context_start: u8;
}

/// MXCSR at reset: all exceptions masked, round to nearest.
const DEFAULT_MXCSR: u64 = 0x1f80;
/// x87 control word at reset (FNINIT).
const DEFAULT_FCW: u64 = 0x037f;

/// Prepares a context on the stack ending at `stack_top` that calls `entry(argument)`.
///
/// # Safety
/// The 64 bytes below `stack_top` (16-byte aligned) must be writable and unused.
pub unsafe fn new_context(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> usize {
    let frame = [
        DEFAULT_MXCSR | (DEFAULT_FCW << 32),
        0,                     // r15
        0,                     // r14
        entry as usize as u64, // r13
        argument as u64,       // r12
        0,                     // rbx
        0,                     // rbp
        (&raw const unik_x86_64_context_start) as u64,
    ];
    let context = stack_top - size_of_val(&frame);
    // SAFETY: the caller lends the memory below `stack_top`; `context` is 8-byte aligned.
    unsafe { (context as *mut [u64; 8]).write(frame) };
    context
}

/// Saves the running context into `*save` and resumes `resume`.
///
/// # Safety
/// See `unik_platform_api::Processor::switch_context`.
pub unsafe fn switch_context(save: *mut usize, resume: usize) {
    // SAFETY: the caller guarantees `resume` is a live context; `save` is written once.
    unsafe { unik_x86_64_switch(save, resume) }
}

/// IA32_FS_BASE.
const FS_BASE: u32 = 0xc000_0100;

/// Points FS (the thread pointer of the x86_64 TLS ABI) at `pointer`.
pub fn set_thread_pointer(pointer: usize) {
    let (low, high) = (pointer as u32, (pointer as u64 >> 32) as u32);
    // SAFETY: IA32_FS_BASE exists on every x86_64 CPU; only FS-relative accesses change.
    unsafe { asm!("wrmsr", in("ecx") FS_BASE, in("eax") low, in("edx") high, options(nostack, preserves_flags)) };
}

/// Whether CPUID says RDRAND exists (leaf 1, ECX bit 30).
fn has_rdrand() -> bool {
    crate::cpu::cpuid(1).ecx & (1 << 30) != 0
}

/// One RDRAND word, retried as Intel recommends (10 times) when the generator is busy.
fn rdrand() -> Option<u64> {
    for _ in 0..10 {
        let (value, ok): (u64, u8);
        // SAFETY: only called after CPUID reported RDRAND.
        unsafe { asm!("rdrand {0}", "setc {1}", out(reg) value, out(reg_byte) ok, options(nomem, nostack)) };
        if ok != 0 {
            return Some(value);
        }
    }
    None
}

/// Fills `buffer` with RDRAND output; `false` without RDRAND or when it keeps failing.
pub fn hardware_random(buffer: &mut [u8]) -> bool {
    if !has_rdrand() {
        return false;
    }
    for chunk in buffer.chunks_mut(8) {
        let Some(word) = rdrand() else { return false };
        chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
    }
    true
}

/// Linux's `AT_HWCAP` on x86_64: the EDX word of CPUID leaf 1, as the kernel passes it.
pub fn linux_hardware_capabilities() -> u64 {
    u64::from(crate::cpu::cpuid(1).edx)
}

/// Guard pages for thread stacks: see [`crate::mmu::set_guard_page`].
pub fn set_guard_page(address: usize, guarded: bool) -> bool {
    crate::mmu::set_guard_page(address as u64, guarded)
}
