//! Writes to a 16550 UART of its own (whose registers it only records).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU8, Ordering};
use unik_driver_uart16550::{Registers, Uart16550};

static LAST_WRITE: AtomicU8 = AtomicU8::new(0);

struct Recorded;

impl Registers for Recorded {
    fn read(&self, _offset: u8) -> u8 {
        0x20
    }
    fn write(&self, _offset: u8, value: u8) {
        LAST_WRITE.store(value, Ordering::Relaxed);
    }
}

#[unik::main]
fn main() -> i32 {
    Uart16550::new(Recorded).write(b"hi");
    i32::from(LAST_WRITE.load(Ordering::Relaxed) != b'i')
}
