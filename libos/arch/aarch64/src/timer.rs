//! Time from the generic timer: `now_nanos` and `counter_nanos` from the virtual counter,
//! and `wait_until` arming the EL1 virtual timer (`CNTV_*`) and waiting for its interrupt
//! through the GIC. The same on bare QEMU and under Xen, which virtualises both.

use crate::{cpu, devicetree, gic};
use core::arch::asm;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Counter value at the first call; `now_nanos` counts from here.
static BASE: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per counter tick and ticks per nanosecond, 32.32 fixed point; 0 = unset.
static NANOS_PER_TICK: AtomicU64 = AtomicU64::new(0);
static TICKS_PER_NANO: AtomicU64 = AtomicU64::new(0);
/// The timer's interrupt ID once enabled at the GIC; 0 = not yet, `u32::MAX` = no GIC.
static TIMER_INTERRUPT: AtomicU32 = AtomicU32::new(0);

const CNTV_CTL_ENABLE: u64 = 1;

fn start() {
    let hz = cpu::counter_frequency().max(1);
    TICKS_PER_NANO.store(((u128::from(hz) << 32) / 1_000_000_000) as u64, Ordering::Relaxed);
    BASE.store(cpu::counter(), Ordering::Relaxed);
    NANOS_PER_TICK.store(((1_000_000_000u128 << 32) / u128::from(hz)) as u64, Ordering::Relaxed);
}

/// Nanoseconds per tick, 32.32 fixed point, calibrating on the first call.
fn nanos_per_tick() -> u64 {
    if NANOS_PER_TICK.load(Ordering::Relaxed) == 0 {
        start();
    }
    NANOS_PER_TICK.load(Ordering::Relaxed)
}

/// `ticks` of the counter in nanoseconds, at `per_tick` from [`nanos_per_tick`].
fn ticks_to_nanos(ticks: u64, per_tick: u64) -> u64 {
    ((u128::from(ticks) * u128::from(per_tick)) >> 32) as u64
}

/// Nanoseconds since the first call.
pub fn now_nanos() -> u64 {
    let per_tick = nanos_per_tick();
    ticks_to_nanos(cpu::counter().wrapping_sub(BASE.load(Ordering::Relaxed)), per_tick)
}

/// Nanoseconds the virtual counter has counted since it read 0: under Xen, since the
/// domain was created (Xen offsets each domain's virtual counter to start there).
pub fn counter_nanos() -> u64 {
    ticks_to_nanos(cpu::counter(), nanos_per_tick())
}

fn timer_interrupt() -> Option<u32> {
    let mut id = TIMER_INTERRUPT.load(Ordering::Relaxed);
    if id == 0 {
        let wanted = devicetree::virtual_timer_interrupt();
        id = if gic::enable_private_interrupt(wanted) {
            wanted
        } else {
            u32::MAX
        };
        TIMER_INTERRUPT.store(id, Ordering::Relaxed);
    }
    (id != u32::MAX).then_some(id)
}

/// Halts until [`now_nanos`] reaches `deadline` or another interrupt arrives (callers loop).
pub fn wait_until(deadline: u64) {
    if now_nanos() >= deadline {
        return;
    }
    if timer_interrupt().is_none() {
        // No interrupt controller: nothing would wake a waiting CPU.
        core::hint::spin_loop();
        return;
    }
    let ticks = (u128::from(deadline) * u128::from(TICKS_PER_NANO.load(Ordering::Relaxed))) >> 32;
    let compare = BASE.load(Ordering::Relaxed).wrapping_add(ticks as u64);
    // SAFETY: the EL1 virtual timer belongs to the library OS; its interrupt is masked at
    // the CPU, so arming it only makes `wfi` return.
    unsafe {
        asm!(
            "msr cntv_cval_el0, {compare}",
            "msr cntv_ctl_el0, {enable}",
            "isb",
            compare = in(reg) compare,
            enable = in(reg) CNTV_CTL_ENABLE,
            options(nomem, nostack),
        );
    }
    cpu::wait_for_interrupt();
    let acknowledged = gic::acknowledge();
    // The timer's interrupt is level-triggered: disarm it before ending the interrupt.
    // SAFETY: as above.
    unsafe { asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)) };
    if let Some(id) = acknowledged {
        gic::end(id);
    }
}
