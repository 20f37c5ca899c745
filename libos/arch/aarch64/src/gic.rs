//! The GICv3 interrupt controller, as far as waiting needs it: private interrupts (the
//! timer's) and shared ones (devices') enabled for this CPU, and acknowledged without
//! being taken.
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
const GICD_IGROUPR: usize = 0x80;
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ICFGR: usize = 0xc00;
const GICD_IROUTER: usize = 0x6000;
/// Shared (device) interrupts start here; 16..32 are private.
const FIRST_SHARED_ID: u32 = 32;
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

/// The distributor and this CPU's redistributor, once the GIC is set up.
fn controller() -> Option<(Mmio32, Mmio32)> {
    let (Some(distributor), Some(redistributor)) = (
        crate::devicetree::nth_register_block("arm,gic-v3", 0),
        crate::devicetree::nth_register_block("arm,gic-v3", 1),
    ) else {
        STATE.store(ABSENT, Ordering::Relaxed);
        return None;
    };
    match STATE.load(Ordering::Relaxed) {
        ABSENT => return None,
        READY => {}
        _ => {
            if !crate::mmu::map_device(distributor.clone()) || !crate::mmu::map_device(redistributor.clone()) {
                STATE.store(ABSENT, Ordering::Relaxed);
                return None;
            }
        }
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
    if STATE.load(Ordering::Relaxed) == UNTRIED {
        set_up(&gicd, &gicr);
        STATE.store(READY, Ordering::Relaxed);
    }
    Some((gicd, gicr))
}

/// Turns on affinity routing and group 1, wakes the redistributor and opens the CPU
/// interface.
fn set_up(gicd: &Mmio32, gicr: &Mmio32) {
    gicd.write(
        GICD_CTLR,
        gicd.read(GICD_CTLR) | GICD_CTLR_AFFINITY_ROUTING | GICD_CTLR_ENABLE_GROUP1,
    );
    wait_while(|| gicd.read(GICD_CTLR) & GICD_CTLR_WRITE_PENDING != 0);
    gicr.write(GICR_WAKER, gicr.read(GICR_WAKER) & !GICR_WAKER_PROCESSOR_SLEEP);
    wait_while(|| gicr.read(GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP != 0);
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
}

/// Sets the bit of `id` in the bank of 32-bit registers at `bank`.
fn set_bit(block: &Mmio32, bank: usize, id: u32) {
    let word = bank + 4 * (id / 32) as usize;
    block.write(word, block.read(word) | 1 << (id % 32));
}

/// Gives `id` a priority the mask lets through, in the byte registers at `bank`.
fn set_priority(block: &Mmio32, bank: usize, id: u32) {
    let word = bank + (id as usize & !3);
    let shift = (id % 4) * 8;
    block.write(word, (block.read(word) & !(0xff << shift)) | (PRIORITY << shift));
}

/// Enables private interrupt `id` (16..32) for this CPU, setting the GIC up on first use;
/// `false` if the device tree names no GICv3 (or it cannot be mapped).
pub fn enable_private_interrupt(id: u32) -> bool {
    let Some((_, gicr)) = controller() else {
        return false;
    };
    set_bit(&gicr, GICR_IGROUPR0, id);
    set_priority(&gicr, GICR_IPRIORITYR, id);
    gicr.write(GICR_ISENABLER0, 1 << (id % 32));
    true
}

/// Enables shared interrupt `id` (32..1020), edge- or level-triggered, routed to this CPU;
/// `false` if there is no GICv3 or `id` is not a shared interrupt.
pub fn enable_shared_interrupt(id: u32, edge: bool) -> bool {
    if !(FIRST_SHARED_ID..FIRST_SPECIAL_ID).contains(&id) {
        return false;
    }
    let Some((gicd, _)) = controller() else {
        return false;
    };
    set_bit(&gicd, GICD_IGROUPR, id);
    set_priority(&gicd, GICD_IPRIORITYR, id);
    let config = GICD_ICFGR + 4 * (id / 16) as usize;
    let shift = (id % 16) * 2 + 1;
    let edges = gicd.read(config) & !(1 << shift);
    gicd.write(config, edges | u32::from(edge) << shift);
    let affinity = crate::cpu::affinity();
    let router = GICD_IROUTER + 8 * id as usize;
    gicd.write(router, affinity as u32);
    gicd.write(router + 4, (affinity >> 32) as u32);
    gicd.write(GICD_ISENABLER + 4 * (id / 32) as usize, 1 << (id % 32));
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
