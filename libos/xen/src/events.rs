//! Event channels (2-level ABI): acknowledging upcalls and unmasking ports.
//!
//! Xen marks a port pending in `shared_info.evtchn_pending`, its word in the vCPU's
//! `evtchn_pending_sel`, and sets `evtchn_upcall_pending`; it then interrupts the vCPU
//! (x86: the HVM callback vector; arm64: the PPI the device tree's `/hypervisor` names). The handler here clears all of it (the woken code checks
//! its own condition: a deadline reached, a ring drained) and reports which ports fired.

use crate::abi::{EVTCHN_WORDS, SharedInfo};
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// Acknowledges every pending event of vCPU 0; calls `fired` with each pending port.
///
/// # Safety
/// `shared` must point to the domain's mapped shared info page.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub unsafe fn acknowledge<const A: usize, const V: usize>(shared: *mut SharedInfo<A, V>, mut fired: impl FnMut(u32)) {
    // SAFETY: the caller's contract; the fields are only accessed atomically, as Xen
    // changes them concurrently.
    unsafe {
        let vcpu = addr_of_mut!((*shared).vcpu_info[0]);
        AtomicU8::from_ptr(addr_of_mut!((*vcpu).evtchn_upcall_pending)).store(0, Ordering::SeqCst);
        let mut selector = AtomicU64::from_ptr(addr_of_mut!((*vcpu).evtchn_pending_sel)).swap(0, Ordering::SeqCst);
        while selector != 0 {
            let word = selector.trailing_zeros() as usize;
            selector &= selector - 1;
            if word >= EVTCHN_WORDS {
                continue;
            }
            let mask = AtomicU64::from_ptr(addr_of_mut!((*shared).evtchn_mask[word])).load(Ordering::SeqCst);
            let pending = AtomicU64::from_ptr(addr_of_mut!((*shared).evtchn_pending[word]));
            let mut bits = pending.fetch_and(mask, Ordering::SeqCst) & !mask;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                fired(word as u32 * 64 + bit);
            }
        }
    }
}

/// Unmasks `port`, so that it interrupts when it becomes pending.
///
/// # Safety
/// `shared` must point to the domain's mapped shared info page.
pub unsafe fn unmask<const A: usize, const V: usize>(shared: *mut SharedInfo<A, V>, port: u32) {
    let (word, bit) = (port as usize / 64, port % 64);
    if word < EVTCHN_WORDS {
        // SAFETY: the caller's contract; atomic as above.
        unsafe {
            AtomicU64::from_ptr(addr_of_mut!((*shared).evtchn_mask[word])).fetch_and(!(1 << bit), Ordering::SeqCst)
        };
    }
}

/// Lets Xen deliver upcalls to vCPU 0 (clears `evtchn_upcall_mask`, set while masked).
///
/// # Safety
/// `shared` must point to the domain's mapped shared info page.
pub unsafe fn enable_upcalls<const A: usize, const V: usize>(shared: *mut SharedInfo<A, V>) {
    // SAFETY: the caller's contract; a single byte Xen only reads.
    unsafe { AtomicU8::from_ptr(addr_of_mut!((*shared).vcpu_info[0].evtchn_upcall_mask)).store(0, Ordering::SeqCst) };
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    #[test]
    fn acknowledges_unmasked_ports_and_leaves_masked_ones_pending() {
        // SAFETY: all-zero bytes are a valid SharedInfo (plain integers).
        let mut shared: Box<crate::abi::Arm64SharedInfo> = unsafe { Box::new(core::mem::zeroed()) };
        shared.vcpu_info[0].evtchn_upcall_pending = 1;
        shared.vcpu_info[0].evtchn_pending_sel = (1 << 0) | (1 << 2);
        shared.evtchn_pending[0] = (1 << 3) | (1 << 5);
        shared.evtchn_pending[2] = 1 << 1;
        shared.evtchn_mask[0] = 1 << 5;
        let mut fired = Vec::new();
        // SAFETY: `shared` is a valid, exclusively owned structure.
        unsafe { acknowledge(&mut *shared, |port| fired.push(port)) };
        assert_eq!(fired, [3, 129]);
        assert_eq!(shared.vcpu_info[0].evtchn_upcall_pending, 0);
        assert_eq!(shared.vcpu_info[0].evtchn_pending_sel, 0);
        assert_eq!(shared.evtchn_pending[0], 1 << 5, "the masked port stays pending");
        // SAFETY: as above.
        unsafe { unmask(&mut *shared, 5) };
        assert_eq!(shared.evtchn_mask[0], 0);
    }
}
