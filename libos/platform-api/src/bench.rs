//! What bench builds (`--cfg unik_bench`) print for `cargo xtask bench`.

/// Prints `unik-bench: entry-to-main-cycles N` through `write`.
pub fn report_entry_to_main(cycles: u64, mut write: impl FnMut(&[u8])) {
    let mut digits = [0u8; 20];
    let mut value = cycles;
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
        used += 1;
        if value == 0 {
            break;
        }
    }
    write(b"unik-bench: entry-to-main-cycles ");
    write(digits.get(digits.len() - used..).unwrap_or_default());
    write(b"\n");
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn the_line_is_decimal() {
        let mut out = std::vec::Vec::new();
        report_entry_to_main(350_123, |b| out.extend_from_slice(b));
        assert_eq!(out, b"unik-bench: entry-to-main-cycles 350123\n");
    }
}
