//! The local APIC: its one-shot timer wakes a halted CPU for `sleep`.
//!
//! Initialised on first use by [`init`]: masks the legacy PIC, maps the APIC page, installs
//! the timer and spurious-interrupt handlers and software-enables the APIC.

use crate::{cpu, mmu, trap};
use core::sync::atomic::{AtomicU64, Ordering};

/// Interrupt vector of the timer.
pub const TIMER_VECTOR: u8 = 32;
const SPURIOUS_VECTOR: u8 = 0xff;

const APIC_BASE_MSR: u32 = 0x1b;
const EOI: u64 = 0xb0;
const SPURIOUS: u64 = 0xf0;
const LVT_TIMER: u64 = 0x320;
const INITIAL_COUNT: u64 = 0x380;
const CURRENT_COUNT: u64 = 0x390;
const DIVIDE_CONFIG: u64 = 0x3e0;
const MASKED: u32 = 1 << 16;
const DIVIDE_BY_1: u32 = 0b1011;

/// Virtual address of the APIC registers; 0 until [`init`].
static BASE: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    fn unik_x86_64_spurious_stub();
}

fn register(offset: u64) -> *mut u32 {
    (BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

fn write(offset: u64, value: u32) {
    // SAFETY: after `init` the APIC page is mapped uncached; registers are 32-bit aligned.
    unsafe { register(offset).write_volatile(value) }
}

fn read(offset: u64) -> u32 {
    // SAFETY: as for `write`.
    unsafe { register(offset).read_volatile() }
}

/// Sets the APIC up with its timer masked. Idempotent; call with interrupts off.
pub fn init() {
    if BASE.load(Ordering::Relaxed) != 0 {
        return;
    }
    // The legacy PIC would deliver its interrupts on exception vectors: mask it.
    cpu::outb(0x21, 0xff);
    cpu::outb(0xa1, 0xff);
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let base = unsafe { cpu::rdmsr(APIC_BASE_MSR) } & 0xffff_f000;
    if !mmu::map_device(base) {
        return;
    }
    trap::register_interrupt(TIMER_VECTOR, end_of_interrupt);
    trap::set_interrupt_stub(SPURIOUS_VECTOR, unik_x86_64_spurious_stub);
    BASE.store(base, Ordering::Relaxed);
    write(SPURIOUS, 0x100 | u32::from(SPURIOUS_VECTOR));
    write(DIVIDE_CONFIG, DIVIDE_BY_1);
    write(LVT_TIMER, MASKED | u32::from(TIMER_VECTOR));
}

/// Starts the timer counting down from `ticks`; `interrupt` unmasks its interrupt.
pub fn start_countdown(ticks: u32, interrupt: bool) {
    let mask = if interrupt { 0 } else { MASKED };
    write(LVT_TIMER, mask | u32::from(TIMER_VECTOR));
    write(INITIAL_COUNT, ticks);
}

/// The timer's current count.
pub fn current_count() -> u32 {
    read(CURRENT_COUNT)
}

/// Signals the end of the interrupt being handled (the timer's and devices' handler).
pub(crate) fn end_of_interrupt() {
    write(EOI, 0);
}
