//! Driver for the Arm PL011 UART, transmit side, polled; also drives the SBSA generic
//! UART (the PL011 subset Xen emulates for dom0less guests as `vpl011`).
//!
//! Register access is abstracted by [`Registers`]; the arch layer provides the accessor.
#![no_std]
#![forbid(unsafe_code)]

/// Access to the UART's 32-bit registers.
pub trait Registers {
    /// Reads the register at byte offset `offset`.
    fn read(&self, offset: usize) -> u32;
    /// Writes the register at byte offset `offset`.
    fn write(&self, offset: usize, value: u32);
}

const DR: usize = 0x00;
const FR: usize = 0x18;
const CR: usize = 0x30;

const FR_BUSY: u32 = 1 << 3;
const FR_TX_FULL: u32 = 1 << 5;
const CR_UART_ENABLE: u32 = 1 << 0;
const CR_TX_ENABLE: u32 = 1 << 8;
const CR_RX_ENABLE: u32 = 1 << 9;

/// A PL011 (or SBSA) UART.
pub struct Pl011<R> {
    registers: R,
}

impl<R: Registers> Pl011<R> {
    /// Wraps the registers; the device is not touched until used.
    pub const fn new(registers: R) -> Self {
        Self { registers }
    }

    /// Enables the UART and its transmitter if firmware left them off (a full PL011 only:
    /// the SBSA UART has no control register and is always on). The baud rate is left as
    /// the firmware set it; emulated UARTs ignore it.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn init(&self) {
        let control = self.registers.read(CR);
        if control & (CR_UART_ENABLE | CR_TX_ENABLE) != CR_UART_ENABLE | CR_TX_ENABLE {
            self.registers
                .write(CR, control | CR_UART_ENABLE | CR_TX_ENABLE | CR_RX_ENABLE);
        }
    }

    /// Sends `bytes`, waiting for room in the transmit FIFO before each one.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn write(&self, bytes: &[u8]) {
        for &byte in bytes {
            while self.registers.read(FR) & FR_TX_FULL != 0 {}
            self.registers.write(DR, u32::from(byte));
        }
    }

    /// Waits until every byte written has left the UART.
    pub fn flush(&self) {
        while self.registers.read(FR) & FR_BUSY != 0 {}
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::cell::RefCell;
    use std::vec::Vec;

    /// A UART whose FIFO is full for the first `full_polls` reads of FR.
    struct Fake {
        control: RefCell<u32>,
        sent: RefCell<Vec<u8>>,
        full_polls: RefCell<u32>,
    }

    impl Registers for &Fake {
        fn read(&self, offset: usize) -> u32 {
            match offset {
                FR => {
                    let mut polls = self.full_polls.borrow_mut();
                    if *polls > 0 {
                        *polls -= 1;
                        FR_TX_FULL
                    } else {
                        0
                    }
                }
                CR => *self.control.borrow(),
                _ => 0,
            }
        }
        fn write(&self, offset: usize, value: u32) {
            match offset {
                DR => self.sent.borrow_mut().push(value as u8),
                CR => *self.control.borrow_mut() = value,
                _ => panic!("unexpected write to {offset:#x}"),
            }
        }
    }

    fn fake(control: u32, full_polls: u32) -> Fake {
        Fake {
            control: RefCell::new(control),
            sent: RefCell::new(Vec::new()),
            full_polls: RefCell::new(full_polls),
        }
    }

    #[test]
    fn writes_every_byte_after_waiting_for_room() {
        let device = fake(0, 3);
        Pl011::new(&device).write(b"hi\n");
        assert_eq!(*device.sent.borrow(), b"hi\n");
        assert_eq!(*device.full_polls.borrow(), 0);
    }

    #[test]
    fn init_enables_a_disabled_uart_and_leaves_an_enabled_one() {
        let off = fake(0, 0);
        Pl011::new(&off).init();
        assert_eq!(*off.control.borrow(), CR_UART_ENABLE | CR_TX_ENABLE | CR_RX_ENABLE);
        let on = fake(CR_UART_ENABLE | CR_TX_ENABLE, 0);
        Pl011::new(&on).init();
        assert_eq!(*on.control.borrow(), CR_UART_ENABLE | CR_TX_ENABLE);
    }
}
