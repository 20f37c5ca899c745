//! The legacy PIT (8254), used once to calibrate the TSC and the local APIC timer.
//!
//! QEMU's `microvm` has a PIT but no port 0x61 (speaker gate), so the calibration reads
//! channel 0's counter back (latch command) instead of waiting for channel 2's output.

use crate::{cpu, lapic};

/// The PIT's input clock in Hz.
const PIT_HZ: u64 = 1_193_182;
/// Calibration window: about 5 ms of PIT ticks.
const WINDOW_TICKS: u16 = (PIT_HZ / 200) as u16;
/// Reads of an unchanging counter after which the PIT is taken to be absent.
const STUCK_READS: u32 = 10_000;

const CHANNEL0_DATA: u16 = 0x40;
const COMMAND: u16 = 0x43;
/// Channel 0, low then high byte, mode 2 (rate generator), binary.
const CHANNEL0_RATE_GENERATOR: u8 = 0b0011_0100;
/// Channel 0, counter latch.
const CHANNEL0_LATCH: u8 = 0b0000_0000;

/// Measured frequencies of the TSC and the local APIC timer.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Local APIC timer ticks per second (divide-by-1); 0 if unknown.
    pub lapic_hz: u64,
}

fn read_counter() -> u16 {
    cpu::outb(COMMAND, CHANNEL0_LATCH);
    let low = cpu::inb(CHANNEL0_DATA);
    let high = cpu::inb(CHANNEL0_DATA);
    u16::from_le_bytes([low, high])
}

/// Counts TSC and APIC ticks over a ~5 ms window of PIT channel 0. Initialises the APIC.
///
/// Without a working PIT, falls back to the frequency the CPU or hypervisor reports in
/// CPUID (leaves 0x16 and 0x40000010), and to no APIC timer.
pub fn calibrate() -> Calibration {
    lapic::init();
    cpu::outb(COMMAND, CHANNEL0_RATE_GENERATOR);
    cpu::outb(CHANNEL0_DATA, 0xff);
    cpu::outb(CHANNEL0_DATA, 0xff);

    // Start on a tick edge, so the window's start is exact.
    let first = read_counter();
    let mut start = first;
    let mut reads = 0;
    while start == first {
        reads += 1;
        if reads == STUCK_READS {
            return cpuid_calibration();
        }
        start = read_counter();
    }
    lapic::start_countdown(u32::MAX, false);
    let apic_start = lapic::current_count();
    let tsc_start = cpu::rdtsc();
    let mut elapsed = 0;
    while elapsed < WINDOW_TICKS {
        elapsed = start.wrapping_sub(read_counter());
    }
    let tsc_end = cpu::rdtsc();
    let apic_end = lapic::current_count();
    lapic::start_countdown(0, false);
    let elapsed = u64::from(elapsed);
    Calibration {
        tsc_hz: (tsc_end - tsc_start) * PIT_HZ / elapsed,
        lapic_hz: u64::from(apic_start - apic_end) * PIT_HZ / elapsed,
    }
}

fn cpuid_calibration() -> Calibration {
    let max_leaf = cpu::cpuid(0).eax;
    let base_mhz = if max_leaf >= 0x16 {
        u64::from(cpu::cpuid(0x16).eax)
    } else {
        0
    };
    let timing = cpu::cpuid(0x4000_0010);
    let tsc_hz = match (base_mhz, timing.eax) {
        (mhz @ 1.., _) => mhz * 1_000_000,
        (0, khz @ 1..) => u64::from(khz) * 1000,
        _ => 1_000_000_000,
    };
    Calibration {
        tsc_hz,
        lapic_hz: u64::from(timing.ebx) * 1000,
    }
}
