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
pub fn report(fault: &Fault, mut write: impl FnMut(&[u8])) {
    write(b"unik: fatal fault: ");
    write(fault.kind.as_bytes());
    write(b" (code ");
    write(&hex::format_u64(fault.code));
    write(b")\nunik:   pc ");
    write(&hex::format_u64(fault.pc));
    if let Some(address) = fault.address {
        write(b", address ");
        write(&hex::format_u64(address));
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
        report(&fault, |s| out.push_str(std::str::from_utf8(s).unwrap()));
        assert_eq!(
            out,
            "unik: fatal fault: page fault (code 0x000000000000000e)\n\
             unik:   pc 0x0000000000101234, address 0x0000000000000000, detail 0x0000000000000002\n"
        );
    }
}
