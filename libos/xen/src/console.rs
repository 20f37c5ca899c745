//! The PV console ring (`io/console.h`): the console of a domain with a console backend.

use crate::abi::{XENCONS_OUT_SIZE, XenconsInterface};
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{Ordering, fence};

/// The output half of a console ring shared with the backend.
pub struct Ring {
    interface: *mut XenconsInterface,
}

// SAFETY: the ring is shared memory; a single CPU drives it, and the platform serialises
// access (the console is written with interrupts off or by one thread of control).
unsafe impl Send for Ring {}
unsafe impl Sync for Ring {}

impl Ring {
    /// The ring at `interface`.
    ///
    /// # Safety
    /// `interface` must point to the mapped console page the backend reads.
    pub const unsafe fn new(interface: *mut XenconsInterface) -> Ring {
        Ring { interface }
    }

    fn indices(&self) -> (u32, u32) {
        // SAFETY: `new`'s contract; indices are read volatile as the backend moves them.
        unsafe {
            (
                addr_of!((*self.interface).out_cons).read_volatile(),
                addr_of!((*self.interface).out_prod).read_volatile(),
            )
        }
    }

    /// Copies as much of `bytes` as fits into the ring and publishes it; returns how many.
    /// The caller notifies the backend's event channel and retries with the rest.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn write_some(&self, bytes: &[u8]) -> usize {
        let (consumer, mut producer) = self.indices();
        fence(Ordering::Acquire);
        let mut written = 0;
        for &byte in bytes {
            if producer.wrapping_sub(consumer) as usize >= XENCONS_OUT_SIZE {
                break;
            }
            let at = producer as usize % XENCONS_OUT_SIZE;
            // SAFETY: `at` is inside `output`; the slot is free (producer - consumer < size).
            unsafe { addr_of_mut!((*self.interface).output[at]).write_volatile(byte) };
            producer = producer.wrapping_add(1);
            written += 1;
        }
        // The bytes must be visible before the index that publishes them.
        fence(Ordering::Release);
        // SAFETY: `new`'s contract.
        unsafe { addr_of_mut!((*self.interface).out_prod).write_volatile(producer) };
        written
    }

    /// Whether the backend has consumed everything written.
    pub fn is_drained(&self) -> bool {
        let (consumer, producer) = self.indices();
        consumer == producer
    }

    /// Writes all of `bytes`, notifying the backend on event channel `port` after each
    /// piece and yielding the CPU to it while the ring is full.
    pub fn write_all<H: crate::Hypercall>(&self, port: u32, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let written = self.write_some(rest);
            crate::evtchn_send::<H>(port);
            if written == 0 {
                crate::sched_yield::<H>();
            }
            // `get`: no panic path (and no formatting code) in the console.
            rest = rest.get(written..).unwrap_or_default();
        }
    }

    /// Waits (yielding to the backend on `port`) until the backend has read everything,
    /// giving up after [`DRAIN_ATTEMPTS`] yields: output is never lost at exit unless the
    /// backend is gone.
    pub fn drain<H: crate::Hypercall>(&self, port: u32) {
        for _ in 0..DRAIN_ATTEMPTS {
            if self.is_drained() {
                break;
            }
            crate::evtchn_send::<H>(port);
            crate::sched_yield::<H>();
        }
    }
}

/// How many times [`Ring::drain`] yields to the console backend before giving up.
pub const DRAIN_ATTEMPTS: u32 = 100_000;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;

    fn empty() -> Box<XenconsInterface> {
        Box::new(XenconsInterface {
            input: [0; 1024],
            output: [0; XENCONS_OUT_SIZE],
            in_cons: 0,
            in_prod: 0,
            out_cons: 0,
            out_prod: 0,
        })
    }

    #[test]
    fn writes_wrap_around_and_stop_when_full() {
        let mut page = empty();
        page.out_cons = u32::MAX - 1;
        page.out_prod = u32::MAX - 1;
        // SAFETY: the page is a valid interface for the ring's lifetime.
        let ring = unsafe { Ring::new(&mut *page) };
        assert_eq!(ring.write_some(b"abc"), 3);
        assert!(!ring.is_drained());
        assert_eq!(page.out_prod, 1);
        let first = (u32::MAX - 1) as usize % XENCONS_OUT_SIZE;
        assert_eq!(&page.output[first..first + 2], b"ab");
        assert_eq!(page.output[0], b'c');
        let big = [b'x'; XENCONS_OUT_SIZE];
        assert_eq!(ring.write_some(&big), XENCONS_OUT_SIZE - 3);
        assert_eq!(ring.write_some(b"y"), 0);
        page.out_cons = page.out_prod;
        assert!(ring.is_drained());
    }
}
