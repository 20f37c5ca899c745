//! The I/O APIC: routes a device's interrupt pin to a vector of this CPU.
//!
//! Every PC-compatible machine (QEMU's `microvm` included) has its first I/O APIC at
//! 0xfec00000, serving GSIs 0..24. Device interrupts are routed edge-triggered to
//! [`DEVICE_VECTOR`], whose handler only signals the end of the interrupt: it exists to
//! wake a halted CPU, and drivers learn what happened from their device.

use crate::{lapic, mmu, trap};
use core::sync::atomic::{AtomicBool, Ordering};

/// The vector every routed device interrupt arrives on.
pub const DEVICE_VECTOR: u8 = 33;

const BASE: u64 = 0xfec0_0000;
const SELECT: u64 = 0x00;
const WINDOW: u64 = 0x10;
const VERSION: u32 = 0x01;
const REDIRECTION_TABLE: u32 = 0x10;

static MAPPED: AtomicBool = AtomicBool::new(false);

fn write(register: u32, value: u32) {
    // SAFETY: the I/O APIC page is mapped uncached (`route` maps it first); selecting a
    // register and writing the window is the documented two-step access.
    unsafe {
        ((BASE + SELECT) as *mut u32).write_volatile(register);
        ((BASE + WINDOW) as *mut u32).write_volatile(value);
    }
}

fn read(register: u32) -> u32 {
    // SAFETY: as for `write`.
    unsafe {
        ((BASE + SELECT) as *mut u32).write_volatile(register);
        ((BASE + WINDOW) as *const u32).read_volatile()
    }
}

/// Routes pin `gsi` (active high, edge-triggered) to [`DEVICE_VECTOR`] on the boot CPU
/// (local APIC ID 0). `false` if the pin does not exist or the registers cannot be mapped.
/// Call with interrupts off.
pub fn route(gsi: u32) -> bool {
    if !MAPPED.load(Ordering::Relaxed) {
        if !mmu::map_device(BASE) {
            return false;
        }
        lapic::init();
        trap::register_interrupt(DEVICE_VECTOR, lapic::end_of_interrupt);
        MAPPED.store(true, Ordering::Relaxed);
    }
    let pins = ((read(VERSION) >> 16) & 0xff) + 1;
    if gsi >= pins {
        return false;
    }
    // Fixed delivery, physical destination, active high, edge-triggered, unmasked.
    write(REDIRECTION_TABLE + 2 * gsi + 1, 0);
    write(REDIRECTION_TABLE + 2 * gsi, u32::from(DEVICE_VECTOR));
    true
}
