//! Calendar arithmetic for real-time clocks that count in dates (the PC's CMOS clock).

/// Seconds from the Unix epoch to `year-month-day hour:minute:second` (UTC, proleptic
/// Gregorian calendar); `None` for a date before 1970 or fields out of range.
pub fn unix_seconds(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<u64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from 1970-01-01 to the date: count years from March, so that the leap day is
    // the last day of the counted year.
    let (year, month) = if month <= 2 {
        (year.checked_sub(1)?, month + 9)
    } else {
        (year, month - 3)
    };
    let era = year / 400;
    let year_of_era = year % 400;
    let day_of_year = (153 * month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (u64::from(era) * 146_097 + u64::from(day_of_era)).checked_sub(719_468)?;
    Some(days * 86_400 + u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second))
}

/// The value of a binary-coded decimal byte (`0x59` is 59).
pub fn from_bcd(value: u8) -> u32 {
    u32::from(value >> 4) * 10 + u32::from(value & 0x0f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_unix_seconds() {
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(unix_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(unix_seconds(2024, 2, 29, 12, 30, 15), Some(1_709_209_815));
        assert_eq!(unix_seconds(2026, 12, 4, 16, 37, 17), Some(1_796_402_237));
        assert_eq!(unix_seconds(1969, 12, 31, 23, 59, 59), None);
        assert_eq!(unix_seconds(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(from_bcd(0x59), 59);
    }
}
