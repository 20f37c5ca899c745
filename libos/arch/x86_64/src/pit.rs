//! The legacy PIT (8254), used once to calibrate the TSC and the local APIC timer.

use crate::{cpu, lapic};

/// The PIT's input clock in Hz.
const PIT_HZ: u64 = 1_193_182;
/// Calibration window: 5 ms of PIT ticks.
const WINDOW_TICKS: u64 = PIT_HZ / 200;

const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
const GATE_PORT: u16 = 0x61;
const GATE: u8 = 0x01;
const SPEAKER: u8 = 0x02;
const OUT2: u8 = 0x20;

/// Measured frequencies of the TSC and the local APIC timer.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Local APIC timer ticks per second (divide-by-1).
    pub lapic_hz: u64,
}

/// Counts TSC and APIC ticks over a 5 ms PIT window. Initialises the APIC.
pub fn calibrate() -> Calibration {
    lapic::init();
    let gate = cpu::inb(GATE_PORT) & !(GATE | SPEAKER);
    cpu::outb(GATE_PORT, gate);
    // Channel 2, low then high byte, mode 0 (interrupt on terminal count), binary.
    cpu::outb(COMMAND, 0b1011_0000);
    cpu::outb(CHANNEL2_DATA, WINDOW_TICKS as u8);
    cpu::outb(CHANNEL2_DATA, (WINDOW_TICKS >> 8) as u8);
    lapic::start_countdown(u32::MAX, false);
    let apic_start = lapic::current_count();
    let tsc_start = cpu::rdtsc();
    cpu::outb(GATE_PORT, gate | GATE);
    while cpu::inb(GATE_PORT) & OUT2 == 0 {}
    let tsc_end = cpu::rdtsc();
    let apic_end = lapic::current_count();
    lapic::start_countdown(0, false);
    cpu::outb(GATE_PORT, gate);
    Calibration {
        tsc_hz: (tsc_end - tsc_start) * PIT_HZ / WINDOW_TICKS,
        lapic_hz: u64::from(apic_start - apic_end) * PIT_HZ / WINDOW_TICKS,
    }
}
