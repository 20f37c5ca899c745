//! Single CPU instructions: port I/O, CPUID, MSRs, the time-stamp counter, halting.

use core::arch::asm;

/// Reads a byte from I/O port `port`.
#[inline]
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: port input has no memory effects; devices are owned by the platform.
    unsafe { asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags)) };
    value
}

/// Writes a byte to I/O port `port`.
#[inline]
pub fn outb(port: u16, value: u8) {
    // SAFETY: as for `inb`; which ports a platform writes is its own decision.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

/// Writes a 32-bit value to I/O port `port`.
#[inline]
pub fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags)) };
}

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: RDTSC only reads the counter.
    unsafe { asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags)) };
    (u64::from(high) << 32) | u64::from(low)
}

/// Result of one CPUID query.
#[derive(Clone, Copy, Debug)]
pub struct Cpuid {
    /// EAX.
    pub eax: u32,
    /// EBX.
    pub ebx: u32,
    /// ECX.
    pub ecx: u32,
    /// EDX.
    pub edx: u32,
}

/// Executes CPUID for `leaf` (sub-leaf 0).
pub fn cpuid(leaf: u32) -> Cpuid {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    Cpuid {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// Reads model-specific register `msr`.
///
/// # Safety
/// `msr` must exist on this CPU.
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags)) };
    (u64::from(high) << 32) | u64::from(low)
}

/// Enables interrupts and halts until one arrives, atomically (no wake-up can be lost
/// between the two), then disables interrupts again.
#[inline]
pub fn wait_for_interrupt() {
    // SAFETY: `sti; hlt` takes effect after HLT begins. The handlers installed by this
    // crate save the general registers they use; the caller-saved SIMD registers, which
    // handlers built for an SSE target may use, are declared clobbered.
    unsafe { asm!("sti", "hlt", "cli", clobber_abi("C"), options(nomem, nostack)) };
}

/// Halts forever with interrupts off.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stops the CPU; nothing is left to run.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}
