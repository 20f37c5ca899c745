//! Traps: the TSS with a separate fault stack, the IDT, and dispatch of exceptions and
//! interrupts arriving through the stubs in `trap_entry.S`.
//!
//! Exceptions are fatal: they are turned into a [`Fault`] and handed to the platform's
//! `__unik_platform_fault`, which reports it and ends the VM. Double faults, page faults
//! and NMIs run on their own stack (IST 1), so a stack overflow into the guard page is
//! reported instead of silently resetting the machine.

use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{AtomicUsize, Ordering};
use unik_platform_api::Fault;

unsafe extern "Rust" {
    /// Defined by the platform crate: reports `fault` and ends the VM.
    safe fn __unik_platform_fault(fault: &Fault) -> !;
}

unsafe extern "C" {
    static mut unik_x86_64_gdt: [u64; 5];
    static unik_x86_64_exception_stubs: u8;
    static unik_x86_64_interrupt_stubs: u8;
}

/// First vector [`register_interrupt`] accepts.
pub const FIRST_INTERRUPT_VECTOR: u8 = 32;
/// How many vectors, from [`FIRST_INTERRUPT_VECTOR`], can have handlers.
pub const INTERRUPT_VECTORS: usize = 16;

/// Handlers of vectors 32..48, as `fn()` addresses; 0 = none.
static INTERRUPT_HANDLERS: [AtomicUsize; INTERRUPT_VECTORS] = [const { AtomicUsize::new(0) }; INTERRUPT_VECTORS];

const KERNEL_CODE: u64 = 0x08;
const TSS_SELECTOR: u16 = 0x18;
/// Bytes between exception stubs (`trap_entry.S`).
const EXCEPTION_STUB_SPACING: u64 = 4;
/// Bytes between interrupt stubs (`trap_entry.S`).
const INTERRUPT_STUB_SPACING: u64 = 16;
/// Vectors for which the CPU pushes an error code: 8, 10–14, 17, 21, 29 and 30.
const VECTORS_WITH_ERROR_CODE: u32 = 1 << 8 | 0b11111 << 10 | 1 << 17 | 1 << 21 | 1 << 29 | 1 << 30;
const FAULT_STACK_SIZE: usize = 8192;

/// What an interrupt stub saved, lowest address first: the caller-saved registers, then
/// the vector (the error code, the CPU's frame above it, are not read).
#[repr(C)]
pub(crate) struct TrapFrame {
    _scratch: [u64; 9],
    vector: u64,
}

#[repr(C, packed(4))]
struct TaskStateSegment {
    _reserved0: u32,
    _privilege_stacks: [u64; 3],
    _reserved1: u64,
    interrupt_stacks: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    io_map_base: u16,
}

#[repr(C, align(16))]
struct InterruptDescriptorTable([[u64; 2]; 256]);

#[repr(C, align(16))]
struct FaultStack([u8; FAULT_STACK_SIZE]);

static mut TSS: TaskStateSegment = TaskStateSegment {
    _reserved0: 0,
    _privilege_stacks: [0; 3],
    _reserved1: 0,
    interrupt_stacks: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
};
static mut IDT: InterruptDescriptorTable = InterruptDescriptorTable([[0; 2]; 256]);
static mut FAULT_STACK: FaultStack = FaultStack([0; FAULT_STACK_SIZE]);

fn interrupt_gate(handler: u64, stack: u64) -> [u64; 2] {
    let low = (handler & 0xffff)
        | (KERNEL_CODE << 16)
        | (stack << 32)
        | (0x8e << 40) // present, ring 0, 64-bit interrupt gate
        | (((handler >> 16) & 0xffff) << 48);
    [low, handler >> 32]
}

/// Loads the TSS and an IDT whose 32 exception vectors all lead to the fault report.
pub(crate) fn init() {
    // SAFETY: boot, single CPU, interrupts off; the GDT slot at 0x18 is reserved for the
    // TSS by `pvh_entry.S`, and the structures are statics that live forever.
    unsafe {
        let tss = &mut *addr_of_mut!(TSS);
        tss.interrupt_stacks[0] = addr_of!(FAULT_STACK) as u64 + FAULT_STACK_SIZE as u64;
        let base = addr_of!(TSS) as u64;
        let limit = core::mem::size_of::<TaskStateSegment>() as u64 - 1;
        let gdt = &mut *addr_of_mut!(unik_x86_64_gdt);
        gdt[3] = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40) // present, 64-bit available TSS
            | (((base >> 24) & 0xff) << 56);
        gdt[4] = base >> 32;
        core::arch::asm!("ltr {0:x}", in(reg) TSS_SELECTOR, options(nostack, preserves_flags));

        let idt = &mut *addr_of_mut!(IDT);
        let stubs = addr_of!(unik_x86_64_exception_stubs) as u64;
        for (vector, entry) in idt.0.iter_mut().take(32).enumerate() {
            let stack = matches!(vector, 2 | 8 | 14) as u64;
            *entry = interrupt_gate(stubs + vector as u64 * EXCEPTION_STUB_SPACING, stack);
        }
        let pointer = IdtPointer {
            limit: 256 * 16 - 1,
            base: addr_of!(IDT) as u64,
        };
        core::arch::asm!("lidt [{}]", in(reg) &pointer, options(readonly, nostack, preserves_flags));
    }
}

#[repr(C, packed)]
struct IdtPointer {
    limit: u16,
    base: u64,
}

/// Routes `vector` (32..=255) to the assembly stub `stub`.
pub(crate) fn set_interrupt_stub(vector: u8, stub: unsafe extern "C" fn()) {
    // SAFETY: single CPU, called with interrupts off; the IDT is loaded and lives forever.
    unsafe { (*addr_of_mut!(IDT)).0[vector as usize] = interrupt_gate(stub as usize as u64, 0) };
}

/// Makes interrupts on `vector` (32..48) call `handler`, with interrupts disabled, on the
/// interrupted stack. Returns `false` for a vector outside that range. Call with
/// interrupts off. Handlers must acknowledge their device (e.g. the APIC's EOI).
pub fn register_interrupt(vector: u8, handler: fn()) -> bool {
    let Some(slot) = INTERRUPT_HANDLERS.get(usize::from(vector.wrapping_sub(FIRST_INTERRUPT_VECTOR))) else {
        return false;
    };
    slot.store(handler as usize, Ordering::Relaxed);
    let stub = addr_of!(unik_x86_64_interrupt_stubs) as u64
        + u64::from(vector - FIRST_INTERRUPT_VECTOR) * INTERRUPT_STUB_SPACING;
    // SAFETY: single CPU, interrupts off; the IDT is loaded and lives forever.
    unsafe { (*addr_of_mut!(IDT)).0[vector as usize] = interrupt_gate(stub, 0) };
    true
}

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        3 => "breakpoint",
        6 => "invalid opcode",
        8 => "double fault",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        _ => "cpu exception",
    }
}

/// The exception stubs' common path: `frame` points at the vector the stub pushed, above
/// it the error code (for vectors that have one), then the CPU's frame (rip, cs, rflags,
/// rsp, ss). Reports the fault; never returns.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_exception(frame: *const u64) -> ! {
    // SAFETY: the stub's push and the CPU's frame are on the stack above `frame`.
    let word = |index: usize| unsafe { frame.add(index).read() };
    let vector = word(0);
    let has_error_code = vector < 32 && VECTORS_WITH_ERROR_CODE & (1 << vector) != 0;
    let (error_code, cpu_frame) = if has_error_code { (word(1), 2) } else { (0, 1) };
    let (rip, rsp) = (word(cpu_frame), word(cpu_frame + 3));
    let address = (vector == 14).then(|| {
        let cr2: u64;
        // SAFETY: reading CR2 has no side effects.
        unsafe { core::arch::asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack, preserves_flags)) };
        cr2
    });
    // A page fault in the main stack's guard page is its overflow; where CR2 reads 0
    // (Xen in nested virtualisation), the stack pointer at the guard tells. (By hand
    // rather than with `fault::hits_guard`: this is in every image.)
    let guard = crate::mmu::main_stack_guard();
    let cr2 = address.unwrap_or(1);
    let in_guard = |at: u64, span: u64| at.wrapping_sub(guard) < span;
    let overflow = in_guard(cr2, 4096) || (cr2 == 0 && in_guard(rsp, 4096 + 256));
    __unik_platform_fault(&Fault {
        kind: if overflow {
            "stack overflow in the main thread"
        } else {
            exception_name(vector)
        },
        code: vector,
        pc: rip,
        address,
        detail: error_code,
        stack_pointer: rsp,
    })
}

/// The interrupt stubs' common path: runs the handler registered for the vector.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_trap(frame: &mut TrapFrame) {
    let slot = INTERRUPT_HANDLERS.get(frame.vector.wrapping_sub(u64::from(FIRST_INTERRUPT_VECTOR)) as usize);
    let handler = slot.map_or(0, |slot| slot.load(Ordering::Relaxed));
    if handler != 0 {
        // SAFETY: only `register_interrupt` stores into the table, and it stores `fn()`s.
        let handler: fn() = unsafe { core::mem::transmute::<usize, fn()>(handler) };
        handler();
    }
}
