//! The PC's CMOS real-time clock (an MC146818 behind ports 0x70/0x71): the date and time in
//! whole seconds, for the wall clock of machines that have one (QEMU's microvm does).

use crate::cpu;
use unik_platform_api::calendar::{from_bcd, unix_seconds};

const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;
/// Status register A: bit 7 set while the clock updates its registers.
const STATUS_A: u8 = 0x0a;
/// Status register B: bit 2 binary (else BCD) values, bit 1 24-hour (else 12-hour) mode.
const STATUS_B: u8 = 0x0b;

fn read(register: u8) -> u8 {
    cpu::outb(INDEX, register);
    cpu::inb(DATA)
}

/// Seconds, minutes, hours, day, month, year, as the registers hold them.
fn registers() -> [u8; 6] {
    [0x00, 0x02, 0x04, 0x07, 0x08, 0x09].map(read)
}

/// The clock's time as Unix seconds; `None` without a clock (its registers read all ones)
/// or with a reading that is no date.
pub fn unix_time() -> Option<u64> {
    // Read twice outside an update and keep a reading that held still.
    let mut reading = None;
    for _ in 0..1000 {
        while read(STATUS_A) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        let first = registers();
        let second = registers();
        if first == second {
            reading = Some(first);
            break;
        }
    }
    let [second, minute, hour, day, month, year] = reading?;
    if [second, minute, day, month, year].iter().all(|&r| r == 0xff) {
        return None;
    }
    let status = read(STATUS_B);
    let value = |raw: u8| {
        if status & 0x04 != 0 {
            u32::from(raw)
        } else {
            from_bcd(raw)
        }
    };
    let afternoon = status & 0x02 == 0 && hour & 0x80 != 0;
    let mut hour = value(hour & 0x7f);
    if status & 0x02 == 0 {
        hour = hour % 12 + if afternoon { 12 } else { 0 };
    }
    // The two-digit year: the clock was set in this century or the last.
    let year = value(year);
    let year = if year < 70 { 2000 + year } else { 1900 + year };
    unix_seconds(year, value(month), value(day), hour, value(minute), value(second))
}
