//! PSCI (Arm's Power State Coordination Interface), through the conduit the platform
//! names: `hvc` (a hypervisor: KVM implements PSCI on it, as QEMU does for a guest entered
//! at EL1) or `smc` (firmware at EL3).

use core::arch::asm;

const SYSTEM_OFF: u64 = 0x8400_0008;

/// The instruction PSCI calls go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `hvc #0`: the hypervisor answers.
    Hvc,
    /// `smc #0`: the secure firmware answers.
    Smc,
}

fn call(conduit: Conduit, function: u64) {
    // SAFETY: a PSCI call takes its arguments in x0..x3 and may clobber x0..x17; with
    // SYSTEM_OFF it does not return when it succeeds.
    unsafe {
        match conduit {
            Conduit::Smc => asm!("smc #0", inlateout("x0") function => _, out("x1") _, out("x2") _,
                 out("x3") _, out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _,
                 out("x9") _, out("x10") _, out("x11") _, out("x12") _, out("x13") _,
                 out("x14") _, out("x15") _, out("x16") _, out("x17") _, options(nostack)),
            Conduit::Hvc => asm!("hvc #0", inlateout("x0") function => _, out("x1") _, out("x2") _,
                 out("x3") _, out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _,
                 out("x9") _, out("x10") _, out("x11") _, out("x12") _, out("x13") _,
                 out("x14") _, out("x15") _, out("x16") _, out("x17") _, options(nostack)),
        }
    }
}

/// Powers the machine off (`SYSTEM_OFF`) through `conduit`; halts if that fails.
pub fn system_off(conduit: Conduit) -> ! {
    call(conduit, SYSTEM_OFF);
    crate::cpu::halt_forever()
}
