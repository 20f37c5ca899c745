//! Xen system time from a `vcpu_time_info` and the CPU's cycle counter.

use crate::abi::VcpuTimeInfo;
use core::sync::atomic::{Ordering, fence};

/// Nanoseconds of Xen system time at counter value `tsc`, for a consistent snapshot.
pub fn system_time(info: &VcpuTimeInfo, tsc: u64) -> u64 {
    let mut delta = tsc.wrapping_sub(info.tsc_timestamp);
    if info.tsc_shift >= 0 {
        delta <<= info.tsc_shift;
    } else {
        delta >>= -info.tsc_shift;
    }
    let scaled = ((u128::from(delta) * u128::from(info.tsc_to_system_mul)) >> 32) as u64;
    info.system_time.wrapping_add(scaled)
}

/// Reads Xen system time from the live `info` Xen updates, retrying while an update is
/// in progress (odd or changed `version`, as in a seqlock). `read_counter` reads the TSC.
///
/// # Safety
/// `info` must point to the `vcpu_time_info` Xen maintains for the running vCPU.
pub unsafe fn read(info: *const VcpuTimeInfo, read_counter: impl Fn() -> u64) -> u64 {
    loop {
        // SAFETY: the caller guarantees `info` is valid; fields are read volatile because
        // Xen changes them underneath.
        let version = unsafe { core::ptr::addr_of!((*info).version).read_volatile() };
        if version & 1 == 1 {
            core::hint::spin_loop();
            continue;
        }
        fence(Ordering::Acquire);
        // SAFETY: as above.
        let snapshot = unsafe { info.read_volatile() };
        let now = system_time(&snapshot, read_counter());
        fence(Ordering::Acquire);
        // SAFETY: as above.
        if unsafe { core::ptr::addr_of!((*info).version).read_volatile() } == version {
            return now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(shift: i8, mul: u32) -> VcpuTimeInfo {
        VcpuTimeInfo {
            tsc_timestamp: 1_000,
            system_time: 5_000_000,
            tsc_to_system_mul: mul,
            tsc_shift: shift,
            ..Default::default()
        }
    }

    #[test]
    fn scales_the_cycles_since_the_snapshot() {
        // 2 GHz: mul = 0.5 * 2^32 with shift 0.
        assert_eq!(system_time(&info(0, 1 << 31), 1_000 + 2_000), 5_000_000 + 1_000);
        // The same with the shift doing half the work.
        assert_eq!(system_time(&info(-1, 1 << 31), 1_000 + 4_000), 5_000_000 + 1_000);
        assert_eq!(system_time(&info(1, 1 << 30), 1_000 + 2_000), 5_000_000 + 1_000);
    }

    #[test]
    fn read_retries_nothing_when_stable() {
        let live = info(0, 1 << 31);
        // SAFETY: `live` is a valid structure nobody changes.
        assert_eq!(unsafe { read(&live, || 3_000) }, 5_001_000);
    }
}
