//! Number formatting without `core::fmt`, for paths in every image (fault reports, the exit
//! status line): `core::fmt` costs kilobytes.

/// Writes `value` through `write` as `0x` followed by 16 lowercase hex digits.
///
/// Never inlined: the fault report calls it four times. The digits are handed out from
/// a local buffer rather than returned, which would cost a `memcpy` call.
#[inline(never)]
pub fn write_hex(value: u64, write: &mut dyn FnMut(&[u8])) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'0'; 18];
    text[1] = b'x';
    for (i, digit) in text[2..].iter_mut().enumerate() {
        *digit = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    write(&text);
}

/// Writes `value` in decimal through `write` (no padding).
pub fn write_decimal(value: u64, mut write: impl FnMut(&[u8])) {
    // Written from the end; iterators keep this free of bounds checks (and panics).
    let mut digits = [0u8; 20];
    let mut rest = value;
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
        used += 1;
        if rest == 0 {
            break;
        }
    }
    write(digits.get(digits.len() - used..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn decimal_has_no_padding() {
        for (value, text) in [(0u64, "0"), (101, "101"), (u64::MAX, "18446744073709551615")] {
            let mut out = std::vec::Vec::new();
            write_decimal(value, |b| out.extend_from_slice(b));
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn hex_has_fixed_width() {
        for (value, text) in [(0xdead_beef, "0x00000000deadbeef"), (u64::MAX, "0xffffffffffffffff")] {
            let mut out = std::vec::Vec::new();
            write_hex(value, &mut |b| out.extend_from_slice(b));
            assert_eq!(out, text.as_bytes());
        }
    }
}
