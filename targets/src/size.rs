//! Memory sizes as people write them: `64M`, `1056K`, `1G`, or a plain number of bytes.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;

/// A size in bytes, written with an optional binary suffix (K, M, G = KiB, MiB, GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(u64);

impl ByteSize {
    /// A size of `bytes` bytes.
    pub const fn new(bytes: u64) -> Self {
        ByteSize(bytes)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// The size in KiB, rounded up (QEMU's `-m` takes `<n>K`).
    pub const fn kib_rounded_up(self) -> u64 {
        self.0.div_ceil(1024)
    }
}

/// Why a size could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseSizeError(String);

impl fmt::Display for ParseSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a size: write a whole number with an optional K, M or G suffix, e.g. \"64M\"",
            self.0
        )
    }
}

impl std::error::Error for ParseSizeError {}

impl FromStr for ByteSize {
    type Err = ParseSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseSizeError(text.to_string());
        let trimmed = text.trim();
        let without_b = trimmed.strip_suffix(['B', 'b']).unwrap_or(trimmed);
        let without_i = without_b.strip_suffix(['i']).unwrap_or(without_b);
        let (digits, shift) = match without_i.char_indices().last() {
            Some((at, 'K' | 'k')) => (&without_i[..at], 10),
            Some((at, 'M' | 'm')) => (&without_i[..at], 20),
            Some((at, 'G' | 'g')) => (&without_i[..at], 30),
            _ if without_i.len() != without_b.len() => return Err(error()),
            _ => (without_b, 0),
        };
        let number: u64 = digits.trim().parse().map_err(|_| error())?;
        number.checked_mul(1 << shift).map(ByteSize).ok_or_else(error)
    }
}

impl fmt::Display for ByteSize {
    /// The largest unit that divides the size exactly: `64M`, `1056K`, `1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
            if bytes != 0 && bytes.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", bytes >> shift);
            }
        }
        write!(f, "{bytes}")
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(bytes) => Ok(ByteSize(bytes)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_binary() {
        assert_eq!("64M".parse(), Ok(ByteSize(64 << 20)));
        assert_eq!("1056K".parse(), Ok(ByteSize(1056 << 10)));
        assert_eq!("1G".parse(), Ok(ByteSize(1 << 30)));
        assert_eq!("2MiB".parse(), Ok(ByteSize(2 << 20)));
        assert_eq!("4096".parse(), Ok(ByteSize(4096)));
    }

    #[test]
    fn nonsense_is_rejected_with_the_text_quoted() {
        for bad in ["", "M", "12Q", "-1M", "1.5M", "99999999999999G", "1iB"] {
            let error = bad.parse::<ByteSize>().unwrap_err();
            assert!(error.to_string().contains(&format!("`{bad}`")), "{bad}: {error}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["64M", "1056K", "1G", "1000"] {
            assert_eq!(text.parse::<ByteSize>().unwrap().to_string(), text);
        }
    }
}
