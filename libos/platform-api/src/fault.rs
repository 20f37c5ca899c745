//! CPU faults as reported by the arch layer, and their one portable text form.

use crate::hex;

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
    /// Additional architecture detail (x86 error code).
    pub detail: u64,
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
    write(fault.kind.as_bytes());
    write(b" (code ");
    write(&hex::format_u64(fault.code));
    write(b")\nunik:   pc ");
    write(&hex::format_u64(fault.pc));
    match fault.address {
        Some(0) if zero_address_is_unknown => write(b", address unknown"),
        Some(address) => {
            write(b", address ");
            write(&hex::format_u64(address));
        }
        None => {}
    }
    write(b", detail ");
    write(&hex::format_u64(fault.detail));
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
}
