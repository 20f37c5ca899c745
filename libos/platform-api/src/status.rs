//! Exit statuses the library OS itself reports (the application chooses all others).

/// Status after a panic, as with Rust's std.
pub const PANIC: i32 = 101;
/// Status after a CPU fault (bad memory access, invalid instruction, ...): `EX_SOFTWARE`.
pub const FAULT: i32 = 70;

/// Writes the line `unik: exit status N` (with its newline) through `write`: the last
/// console line of a VM whose host reads the status from the console (Xen targets).
pub fn report_line(status: i32, mut write: impl FnMut(&[u8])) {
    write(unik_boot_abi::EXIT_STATUS_PREFIX.as_bytes());
    if status < 0 {
        write(b"-");
    }
    crate::hex::write_decimal(u64::from(status.unsigned_abs()), &mut write);
    write(b"\n");
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn line(status: i32) -> Vec<u8> {
        let mut out = Vec::new();
        report_line(status, |b| out.extend_from_slice(b));
        out
    }

    #[test]
    fn the_status_line_is_decimal() {
        assert_eq!(line(0), b"unik: exit status 0\n");
        assert_eq!(line(101), b"unik: exit status 101\n");
        assert_eq!(line(-3), b"unik: exit status -3\n");
        assert_eq!(line(i32::MIN), b"unik: exit status -2147483648\n");
    }
}
