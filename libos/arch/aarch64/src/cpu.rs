//! Single CPU instructions and system registers: the counter, waiting, barriers.

use core::arch::asm;

/// The virtual counter (`CNTVCT_EL0`), in ticks of [`counter_frequency`].
#[inline]
pub fn counter() -> u64 {
    let value: u64;
    // SAFETY: reading the counter has no side effects; the isb keeps it in program order.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// The counter's frequency in Hz (`CNTFRQ_EL0`, set by firmware or the hypervisor).
#[inline]
pub fn counter_frequency() -> u64 {
    let value: u64;
    // SAFETY: a read-only register.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// This CPU's affinity fields (`MPIDR_EL1` Aff3..Aff0), laid out as GICv3's routing
/// registers take them.
pub fn affinity() -> u64 {
    let value: u64;
    // SAFETY: a read-only register.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value & 0xff_00ff_ffff
}

/// Waits for an interrupt. Interrupts stay masked (PSTATE.I): a pending interrupt wakes
/// the CPU without being taken, and the caller collects it from the GIC.
#[inline]
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only waits.
    unsafe { asm!("dsb sy", "wfi", options(nomem, nostack, preserves_flags)) };
}

/// Stops this CPU for good.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: `wfe` only waits.
        unsafe { asm!("wfe", options(nomem, nostack, preserves_flags)) };
    }
}
