//! Exceptions: every one that reaches the vectors in `entry.S` is fatal. It becomes a
//! [`Fault`] for the platform's `__unik_platform_fault`, which reports it and ends the VM.
//! The one exception that is expected is a semihosting call the host does not answer,
//! which [`crate::semihosting`] turns into its fallback.

use unik_platform_api::Fault;

unsafe extern "Rust" {
    /// Defined by the platform crate: reports `fault` and ends the VM.
    safe fn __unik_platform_fault(fault: &Fault) -> !;
}

/// Exception classes (ESR_EL1.EC) with a name in reports.
fn class_name(class: u64) -> &'static str {
    match class {
        0x00 => "undefined instruction",
        0x0e => "illegal execution state",
        0x15 => "system call",
        0x18 => "trapped system register access",
        0x22 => "pc alignment fault",
        0x26 => "sp alignment fault",
        0x3c => "breakpoint",
        _ => "exception",
    }
}

/// The name of an abort, with its cause from the fault status code (ISS bits 0..6).
fn abort_kind(instruction: bool, status: u64) -> &'static str {
    match (instruction, status & 0x3c) {
        (false, 0x04) => "data abort: translation fault",
        (false, 0x08) => "data abort: access flag fault",
        (false, 0x0c) => "data abort: permission fault",
        (true, 0x04) => "instruction abort: translation fault",
        (true, 0x08) => "instruction abort: access flag fault",
        (true, 0x0c) => "instruction abort: permission fault",
        (false, _) => "data abort",
        (true, _) => "instruction abort",
    }
}

/// Called by the synchronous vector on the exception stack (the only one that can be
/// taken: `entry.S`); `stack_pointer` is the program's when the exception came.
#[unsafe(no_mangle)]
extern "C" fn unik_aarch64_exception(esr: u64, elr: u64, far: u64, stack_pointer: u64) -> ! {
    let class = esr >> 26;
    if class == 0 && crate::semihosting::is_unanswered_call(elr) {
        crate::semihosting::unanswered();
    }
    let is_abort = matches!(class, 0x20 | 0x21 | 0x24 | 0x25);
    let kind = if is_abort {
        abort_kind(class < 0x24, esr & 0x3f)
    } else {
        class_name(class)
    };
    let mut fault = Fault {
        kind,
        code: esr,
        pc: elr,
        address: (is_abort || class == 0x22).then_some(far),
        detail: 0,
        stack_pointer,
    };
    if is_abort && unik_platform_api::fault::hits_guard(&fault, crate::mmu::main_stack_guard(), false) {
        fault.kind = "stack overflow in the main thread";
    }
    __unik_platform_fault(&fault)
}
