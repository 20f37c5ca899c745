//! What bench builds (`--cfg unik_bench`) print for `cargo xtask bench`.

/// A count of an arch's counter ticks, and the counter's rate when the guest knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticks {
    /// Ticks counted.
    pub count: u64,
    /// Ticks per second; `None` for x86's TSC, whose rate the guest does not know (the
    /// bench converts with the host's TSC rate, which QEMU's TCG TSC runs at).
    pub per_second: Option<u64>,
}

/// Prints `unik-bench: entry-to-main-cycles N`, and `unik-bench: counter-hz F` when the
/// rate is known, through `write`.
pub fn report_entry_to_main(ticks: Ticks, mut write: impl FnMut(&[u8])) {
    write(b"unik-bench: entry-to-main-cycles ");
    crate::hex::write_decimal(ticks.count, &mut write);
    write(b"\n");
    if let Some(rate) = ticks.per_second {
        write(b"unik-bench: counter-hz ");
        crate::hex::write_decimal(rate, &mut write);
        write(b"\n");
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn printed(ticks: Ticks) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        report_entry_to_main(ticks, |b| out.extend_from_slice(b));
        out
    }

    #[test]
    fn the_line_is_decimal() {
        let tsc = Ticks {
            count: 350_123,
            per_second: None,
        };
        assert_eq!(printed(tsc), b"unik-bench: entry-to-main-cycles 350123\n");
    }

    #[test]
    fn a_known_rate_follows_on_its_own_line() {
        let counter = Ticks {
            count: 4_100,
            per_second: Some(62_500_000),
        };
        assert_eq!(
            printed(counter),
            b"unik-bench: entry-to-main-cycles 4100\nunik-bench: counter-hz 62500000\n"
        );
    }
}
