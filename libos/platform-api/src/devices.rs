//! Devices a platform describes to drivers: virtio-mmio transports and their interrupts,
//! and the `virtio_mmio.device=` boot parameters through which QEMU's `microvm` names them.

use crate::memory::Region;

/// A virtio-mmio transport: its register block (already mapped as device memory by the
/// platform) and the interrupt it raises, in the platform's numbering (an I/O APIC pin on
/// x86_64, a GIC interrupt ID on arm64) as [`crate::Devices::enable_interrupt`] takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MmioDevice {
    /// Physical (= virtual: the library OS maps devices 1:1) address range of the registers.
    pub registers: Region,
    /// The interrupt line.
    pub interrupt: u32,
}

/// The prefix of the boot parameter Linux's virtio-mmio driver reads, which QEMU's
/// `microvm` appends to the command line for each transport with a device behind it.
const VIRTIO_MMIO_PARAMETER: &str = "virtio_mmio.device=";

/// Parses one `virtio_mmio.device=<size>@<base>:<irq>` word (`size` in bytes, or with a
/// `K`/`M` suffix; `base` in hex with `0x`, or decimal), as QEMU writes it.
pub fn parse_virtio_mmio_parameter(word: &str) -> Option<MmioDevice> {
    let value = word.strip_prefix(VIRTIO_MMIO_PARAMETER)?;
    let (size, rest) = value.split_once('@')?;
    let (base, interrupt) = rest.split_once(':')?;
    let size = match size.as_bytes().last()? {
        b'K' | b'k' => parse_number(&size[..size.len() - 1])?.checked_mul(1 << 10)?,
        b'M' | b'm' => parse_number(&size[..size.len() - 1])?.checked_mul(1 << 20)?,
        _ => parse_number(size)?,
    };
    let base = parse_number(base)?;
    Some(MmioDevice {
        registers: base..base.checked_add(size)?,
        interrupt: parse_number(interrupt)?.try_into().ok()?,
    })
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Splits a boot command line into the application's part and the trailing
/// `virtio_mmio.device=` words QEMU appended after it.
///
/// Only a trailing run of such words is split off, so an application argument that merely
/// looks like one, followed by ordinary words, stays the application's.
pub fn split_virtio_mmio_parameters(line: &str) -> (&str, &str) {
    // Bytes only, and no indexing that can panic: Unicode whitespace tables and the
    // slicing panic's formatting would cost every image that reads its command line a
    // few kilobytes. Every split is at ASCII whitespace, so always a char boundary.
    let bytes = line.as_bytes();
    let trimmed_end = |end: usize| {
        bytes[..end]
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1)
    };
    let mut end = trimmed_end(bytes.len());
    loop {
        let start = bytes[..end]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |i| i + 1);
        if start == end || !has_prefix(&bytes[start..end], VIRTIO_MMIO_PARAMETER.as_bytes()) {
            break;
        }
        end = trimmed_end(start);
    }
    match (line.get(..end), line.get(end..)) {
        (Some(application), Some(parameters)) => (application, parameters),
        _ => (line, ""),
    }
}

/// `word.starts_with(prefix)`, byte by byte (without `memcmp`).
fn has_prefix(word: &[u8], prefix: &[u8]) -> bool {
    word.len() >= prefix.len() && prefix.iter().zip(word).all(|(a, b)| a == b)
}

/// The devices named by the `virtio_mmio.device=` words of `parameters`.
pub fn virtio_mmio_parameters(parameters: &str) -> impl Iterator<Item = MmioDevice> + '_ {
    parameters
        .split_ascii_whitespace()
        .filter_map(parse_virtio_mmio_parameter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_words_qemu_microvm_appends() {
        assert_eq!(
            parse_virtio_mmio_parameter("virtio_mmio.device=512@0xfeb00e00:12"),
            Some(MmioDevice {
                registers: 0xfeb0_0e00..0xfeb0_1000,
                interrupt: 12
            })
        );
        assert_eq!(
            parse_virtio_mmio_parameter("virtio_mmio.device=4K@0x1000:5").map(|d| d.registers),
            Some(0x1000..0x2000)
        );
        for bad in [
            "virtio_mmio.device=",
            "virtio_mmio.device=512@0xzz:1",
            "virtio_mmio.device=512@0x1000",
            "virtio_mmio.device=@0x1000:1",
            "virtio_mmio.device=512@0x1000:-1",
            "virtio_mmio.device=16M@0xffffffffffffff00:1",
            "console=ttyS0",
        ] {
            assert_eq!(parse_virtio_mmio_parameter(bad), None, "{bad}");
        }
    }

    #[test]
    fn splits_only_the_trailing_device_words_off() {
        let line = "a b  virtio_mmio.device=512@0xfeb00e00:12 virtio_mmio.device=512@0xfeb00c00:11";
        let (application, devices) = split_virtio_mmio_parameters(line);
        assert_eq!(application, "a b");
        let found: [u32; 2] = core::array::from_fn(|i| virtio_mmio_parameters(devices).nth(i).unwrap().interrupt);
        assert_eq!(found, [12, 11]);

        assert_eq!(split_virtio_mmio_parameters(" virtio_mmio.device=512@0x1000:5").0, "");
        assert_eq!(split_virtio_mmio_parameters("virtio_mmio.device=512@0x1000:5").0, "");
        let mixed = "virtio_mmio.device=512@0x1000:5 user-arg";
        assert_eq!(split_virtio_mmio_parameters(mixed), (mixed, ""));
        assert_eq!(split_virtio_mmio_parameters(""), ("", ""));
        assert_eq!(split_virtio_mmio_parameters("x y"), ("x y", ""));
    }
}
