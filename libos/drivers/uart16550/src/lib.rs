//! Driver for the 16550 UART, transmit side, polled.
//!
//! Register access is abstracted by [`Registers`], so the same driver serves port I/O
//! (PC COM ports) and memory-mapped variants; the arch layer provides the accessor.
#![no_std]
#![forbid(unsafe_code)]

/// Access to the UART's eight byte-wide registers.
pub trait Registers {
    /// Reads register `offset` (0..8).
    fn read(&self, offset: u8) -> u8;
    /// Writes register `offset` (0..8).
    fn write(&self, offset: u8, value: u8);
}

const THR: u8 = 0; // transmit holding (DLAB = 0) / divisor low (DLAB = 1)
const IER: u8 = 1; // interrupt enable (DLAB = 0) / divisor high (DLAB = 1)
const FCR: u8 = 2;
const LCR: u8 = 3;
const MCR: u8 = 4;
const LSR: u8 = 5;

const LCR_DLAB: u8 = 0x80;
const LCR_8N1: u8 = 0x03;
const FCR_ENABLE_AND_CLEAR: u8 = 0x07;
const MCR_DTR_RTS: u8 = 0x03;
const LSR_THR_EMPTY: u8 = 0x20;

/// A 16550 UART.
pub struct Uart16550<R> {
    registers: R,
}

impl<R: Registers> Uart16550<R> {
    /// Wraps the registers; the device is not touched until [`Uart16550::init`].
    pub const fn new(registers: R) -> Self {
        Self { registers }
    }

    /// Configures 115200 baud, 8N1, FIFOs on, interrupts off.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn init(&self) {
        let r = &self.registers;
        r.write(IER, 0);
        r.write(LCR, LCR_DLAB);
        r.write(THR, 1); // divisor 1 = 115200 baud
        r.write(IER, 0);
        r.write(LCR, LCR_8N1);
        r.write(FCR, FCR_ENABLE_AND_CLEAR);
        r.write(MCR, MCR_DTR_RTS);
    }

    /// Sends `bytes`, waiting for room in the transmitter before each one.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn write(&self, bytes: &[u8]) {
        for &byte in bytes {
            while self.registers.read(LSR) & LSR_THR_EMPTY == 0 {}
            self.registers.write(THR, byte);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::cell::RefCell;
    use std::vec::Vec;

    /// A UART whose transmitter is busy for `busy_polls` reads after each byte.
    struct Fake {
        writes: RefCell<Vec<(u8, u8)>>,
        busy_polls: u32,
        polls_left: RefCell<u32>,
    }

    impl Registers for Fake {
        fn read(&self, offset: u8) -> u8 {
            assert_eq!(offset, LSR);
            let mut left = self.polls_left.borrow_mut();
            if *left == 0 {
                LSR_THR_EMPTY
            } else {
                *left -= 1;
                0
            }
        }
        fn write(&self, offset: u8, value: u8) {
            if offset == THR {
                *self.polls_left.borrow_mut() = self.busy_polls;
            }
            self.writes.borrow_mut().push((offset, value));
        }
    }

    #[test]
    fn write_waits_for_the_transmitter_and_sends_every_byte() {
        let uart = Uart16550::new(Fake {
            writes: RefCell::default(),
            busy_polls: 3,
            polls_left: RefCell::new(0),
        });
        uart.write(b"hi\n");
        let sent: Vec<u8> = uart.registers.writes.borrow().iter().map(|&(_, v)| v).collect();
        assert_eq!(sent, b"hi\n");
    }

    #[test]
    fn init_sets_divisor_then_line_format() {
        let uart = Uart16550::new(Fake {
            writes: RefCell::default(),
            busy_polls: 0,
            polls_left: RefCell::new(0),
        });
        uart.init();
        let writes = uart.registers.writes.borrow();
        assert_eq!(writes[1], (LCR, LCR_DLAB));
        assert_eq!(writes[2], (THR, 1));
        assert!(writes.contains(&(LCR, LCR_8N1)));
    }
}
