//! The GICv3 interrupt controller, as far as sleeping needs it: one private interrupt
//! (the timer's) enabled for this CPU, and acknowledging it without taking it.
//!
//! Interrupts stay masked at the CPU (PSTATE.I): `wfi` wakes when the GIC signals a pending
//! interrupt, and the sleeper then acknowledges (`ICC_IAR1_EL1`) and ends it
//! (`ICC_EOIR1_EL1`). No interrupt handler, no race between checking and waiting.
//! The distributor and redistributor come from the device tree's `arm,gic-v3` node.

use crate::mmio::Mmio32;
use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

const GICD_CTLR: usize = 0x0;
const GICD_CTLR_ENABLE_GROUP1: u32 = 1 << 1;
const GICD_CTLR_AFFINITY_ROUTING: u32 = 1 << 4;
const GICD_CTLR_WRITE_PENDING: u32 = 1 << 31;
const GICR_WAKER: usize = 0x14;
const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// The redistributor's second 64 KiB frame holds the SGI/PPI registers.
const SGI_FRAME: usize = 0x1_0000;
const GICR_IGROUPR0: usize = SGI_FRAME + 0x80;
const GICR_ISENABLER0: usize = SGI_FRAME + 0x100;
const GICR_IPRIORITYR: usize = SGI_FRAME + 0x400;
/// A priority the priority mask (0xff) lets through.
const PRIORITY: u32 = 0x80;
/// Interrupt IDs from here on are special (1023: nothing pending).
const FIRST_SPECIAL_ID: u32 = 1020;
/// Polls of a GIC status bit before going on regardless.
const POLLS: u32 = 1_000_000;

const UNTRIED: u8 = 0;
const READY: u8 = 1;
const ABSENT: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNTRIED);

fn wait_while(condition: impl Fn() -> bool) {
    for _ in 0..POLLS {
        if !condition() {
            return;
        }
        core::hint::spin_loop();
    }
}

/// Enables private interrupt `id` (16..32) for this CPU, setting the GIC up on first use;
/// `false` if the device tree names no GICv3 (or it cannot be mapped).
pub fn enable_private_interrupt(id: u32) -> bool {
    match STATE.load(Ordering::Relaxed) {
        READY => return true,
        ABSENT => return false,
        _ => {}
    }
    let compatible = ["arm,gic-v3"];
    let (Some(distributor), Some(redistributor)) = (
        crate::devicetree::nth_register_block(&compatible, 0),
        crate::devicetree::nth_register_block(&compatible, 1),
    ) else {
        STATE.store(ABSENT, Ordering::Relaxed);
        return false;
    };
    if !crate::mmu::map_device(distributor.clone()) || !crate::mmu::map_device(redistributor.clone()) {
        STATE.store(ABSENT, Ordering::Relaxed);
        return false;
    }
    // SAFETY: both blocks come from the device tree's GIC node and are mapped as devices;
    // the library OS is the only driver of the GIC. This CPU's redistributor is the first
    // (images run one CPU).
    let (gicd, gicr) = unsafe {
        (
            Mmio32::new(distributor.start as usize),
            Mmio32::new(redistributor.start as usize),
        )
    };
    gicd.write(
        GICD_CTLR,
        gicd.read(GICD_CTLR) | GICD_CTLR_AFFINITY_ROUTING | GICD_CTLR_ENABLE_GROUP1,
    );
    wait_while(|| gicd.read(GICD_CTLR) & GICD_CTLR_WRITE_PENDING != 0);
    gicr.write(GICR_WAKER, gicr.read(GICR_WAKER) & !GICR_WAKER_PROCESSOR_SLEEP);
    wait_while(|| gicr.read(GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP != 0);

    let bit = 1u32 << (id % 32);
    gicr.write(GICR_IGROUPR0, gicr.read(GICR_IGROUPR0) | bit);
    let priority_word = GICR_IPRIORITYR + (id as usize & !3);
    let shift = (id % 4) * 8;
    let priorities = gicr.read(priority_word) & !(0xff << shift);
    gicr.write(priority_word, priorities | (PRIORITY << shift));
    gicr.write(GICR_ISENABLER0, bit);

    // SAFETY: the CPU interface's system registers: system-register access on, every
    // priority let through, group 1 interrupts on.
    unsafe {
        asm!(
            "mrs {sre}, S3_0_C12_C12_5",
            "orr {sre}, {sre}, #1",
            "msr S3_0_C12_C12_5, {sre}",
            "isb",
            "msr S3_0_C4_C6_0, {pmr}",
            "msr S3_0_C12_C12_7, {enable}",
            "isb",
            sre = out(reg) _,
            pmr = in(reg) 0xffu64,
            enable = in(reg) 1u64,
            options(nostack),
        );
    }
    STATE.store(READY, Ordering::Relaxed);
    true
}

/// Acknowledges the highest-priority pending interrupt (`ICC_IAR1_EL1`); `None` if none is.
pub fn acknowledge() -> Option<u32> {
    let id: u64;
    // SAFETY: reading IAR1 acknowledges a pending group 1 interrupt; nothing else.
    unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) id, options(nomem, nostack)) };
    let id = id as u32 & 0xff_ffff;
    (id < FIRST_SPECIAL_ID).then_some(id)
}

/// Ends interrupt `id`, acknowledged before (`ICC_EOIR1_EL1`).
pub fn end(id: u32) {
    // SAFETY: ends an interrupt this CPU acknowledged.
    unsafe { asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) u64::from(id), options(nomem, nostack)) };
}
