//! Hexadecimal formatting without `core::fmt`, for the always-present fault path.
//!
//! `core::fmt` costs kilobytes; fault reports must not drag it into every image.

/// Formats `value` as `0x` followed by 16 lowercase hex digits (ASCII bytes).
///
/// Never inlined: the fault report calls it four times.
#[inline(never)]
pub fn format_u64(value: u64) -> [u8; 18] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'0'; 18];
    text[1] = b'x';
    for (i, digit) in text[2..].iter_mut().enumerate() {
        *digit = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_fixed_width() {
        assert_eq!(&format_u64(0xdead_beef), b"0x00000000deadbeef");
        assert_eq!(&format_u64(u64::MAX), b"0xffffffffffffffff");
    }
}
