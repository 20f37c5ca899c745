//! What bench builds (`--cfg unik_bench`) print for `cargo xtask bench`.

/// Prints `unik-bench: entry-to-main-cycles N` through `write`.
pub fn report_entry_to_main(cycles: u64, mut write: impl FnMut(&[u8])) {
    write(b"unik-bench: entry-to-main-cycles ");
    crate::hex::write_decimal(cycles, &mut write);
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
