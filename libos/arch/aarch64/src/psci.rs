//! PSCI (Arm's Power State Coordination Interface), through the conduit the device tree's
//! `/psci` node names: `hvc` (a hypervisor, or QEMU without EL2) or `smc` (firmware).

use core::arch::asm;

const SYSTEM_OFF: u64 = 0x8400_0008;

fn call(function: u64) {
    // SAFETY: a PSCI call takes its arguments in x0..x3 and may clobber x0..x17; with
    // SYSTEM_OFF it does not return when it succeeds.
    unsafe {
        if crate::devicetree::psci_uses_smc() {
            asm!("smc #0", inlateout("x0") function => _, out("x1") _, out("x2") _, out("x3") _,
                 out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _, out("x9") _,
                 out("x10") _, out("x11") _, out("x12") _, out("x13") _, out("x14") _,
                 out("x15") _, out("x16") _, out("x17") _, options(nostack));
        } else {
            asm!("hvc #0", inlateout("x0") function => _, out("x1") _, out("x2") _, out("x3") _,
                 out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _, out("x9") _,
                 out("x10") _, out("x11") _, out("x12") _, out("x13") _, out("x14") _,
                 out("x15") _, out("x16") _, out("x17") _, options(nostack));
        }
    }
}

/// Powers the machine off (`SYSTEM_OFF`); halts if that fails.
pub fn system_off() -> ! {
    call(SYSTEM_OFF);
    crate::cpu::halt_forever()
}
