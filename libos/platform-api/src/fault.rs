//! CPU faults as reported by the arch layer, and their one portable text form.

use crate::hex;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A fault the CPU raised that the image cannot recover from.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    /// What happened, in words ("page fault", "invalid opcode", ...).
    pub kind: &'static str,
    /// Architecture-specific cause code (x86 vector, arm64 ESR).
    pub code: u64,
    /// Instruction address of the faulting instruction.
    pub pc: u64,
    /// Faulting data address, when the CPU reports one (x86 CR2, arm64 FAR).
    pub address: Option<u64>,
    /// Additional architecture detail: the x86 error code (0 on arm64, whose ESR in
    /// `code` says it all).
    pub detail: u64,
    /// The interrupted code's stack pointer.
    pub stack_pointer: u64,
}

/// Says what a fault really is when a component knows better than the CPU (a thread's
/// stack ran into its guard page): writes the words that replace [`Fault::kind`] in the
/// report and returns `true`, or writes nothing and returns `false`.
pub type Explainer = fn(&Fault, &mut dyn FnMut(&[u8])) -> bool;

/// The installed [`Explainer`] (a `fn` address), 0 for none.
static EXPLAINER: AtomicUsize = AtomicUsize::new(0);

/// Installs `explainer` for every later fault report. Installed by the component that
/// knows (the thread component, when it makes its first guarded stack), so an image
/// without it carries no explaining code.
pub fn set_explainer(explainer: Explainer) {
    EXPLAINER.store(explainer as usize, Ordering::Relaxed);
}

fn explain(fault: &Fault, write: &mut dyn FnMut(&[u8])) -> bool {
    match EXPLAINER.load(Ordering::Relaxed) {
        0 => false,
        address => {
            // SAFETY: only `set_explainer` stores into EXPLAINER, and it stores `Explainer`s.
            #[allow(unsafe_code)]
            let explainer = unsafe { core::mem::transmute::<usize, Explainer>(address) };
            explainer(fault, write)
        }
    }
}

/// Whether `fault` is the stack whose guard page starts at `guard` running into it: the
/// access is inside the guard page, or (where the fault address is unknown) the stack
/// pointer is inside it or just above it, where a push or call that faults leaves it.
pub fn hits_guard(fault: &Fault, guard: u64, zero_address_is_unknown: bool) -> bool {
    const PAGE: u64 = 4096;
    const SLACK: u64 = 256;
    let in_guard = |address: u64| (guard..guard.saturating_add(PAGE)).contains(&address);
    match fault.address {
        Some(0) if zero_address_is_unknown => {
            (guard..guard.saturating_add(PAGE + SLACK)).contains(&fault.stack_pointer)
        }
        Some(address) => in_guard(address),
        None => false,
    }
}

/// Writes the report for `fault` through `write`, as lines ending in `\n`:
///
/// ```text
/// unik: fatal fault: page fault (code 0x000000000000000e)
/// unik:   pc 0x0000000000101234, address 0x0000000000000000, detail 0x0000000000000002
/// ```
///
/// With `zero_address_is_unknown` (a platform where the CPU's fault address register can
/// read 0 for any fault: see [`crate::Platform::ZERO_FAULT_ADDRESS_IS_UNKNOWN`]) an
/// address of 0 is reported as `address unknown` rather than as a null access.
pub fn report(fault: &Fault, zero_address_is_unknown: bool, mut write: impl FnMut(&[u8])) {
    write(b"unik: fatal fault: ");
    if !explain(fault, &mut write) {
        write(fault.kind.as_bytes());
    }
    write(b" (code ");
    hex::write_hex(fault.code, &mut write);
    write(b")\nunik:   pc ");
    hex::write_hex(fault.pc, &mut write);
    match fault.address {
        Some(0) if zero_address_is_unknown => write(b", address unknown"),
        Some(address) => {
            write(b", address ");
            hex::write_hex(address, &mut write);
        }
        None => {}
    }
    write(b", detail ");
    hex::write_hex(fault.detail, &mut write);
    write(b"\n");
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn report_names_kind_pc_and_address() {
        let mut out = String::new();
        let fault = Fault {
            kind: "page fault",
            code: 14,
            pc: 0x101234,
            address: Some(0),
            detail: 2,
            stack_pointer: 0x2000,
        };
        report(&fault, false, |s| out.push_str(std::str::from_utf8(s).unwrap()));
        assert_eq!(
            out,
            "unik: fatal fault: page fault (code 0x000000000000000e)\n\
             unik:   pc 0x0000000000101234, address 0x0000000000000000, detail 0x0000000000000002\n"
        );
        out.clear();
        report(&fault, true, |s| out.push_str(std::str::from_utf8(s).unwrap()));
        assert!(out.contains("pc 0x0000000000101234, address unknown, detail"), "{out}");
    }

    #[test]
    fn a_guard_is_hit_by_its_address_or_by_the_stack_pointer_where_the_address_is_unknown() {
        let fault = |address, stack_pointer| Fault {
            kind: "page fault",
            code: 14,
            pc: 0x101234,
            address: Some(address),
            detail: 2,
            stack_pointer,
        };
        assert!(hits_guard(&fault(0x5ff8, 0x6000), 0x5000, false));
        assert!(!hits_guard(&fault(0x6000, 0x6000), 0x5000, false));
        assert!(!hits_guard(&fault(0, 0x6008), 0x5000, false));
        assert!(hits_guard(&fault(0, 0x6008), 0x5000, true));
        assert!(!hits_guard(&fault(0, 0x9000), 0x5000, true));
    }
}
