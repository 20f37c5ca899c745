//! Running on Xen (HVM/PVH): detection through CPUID, the hypercall page, and the
//! hypercall instruction sequence. The Xen interfaces themselves live in `unik-xen`.

use crate::cpu;
use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

unsafe extern "C" {
    /// A page in the image's executable, zero-filled region; Xen writes the hypercall
    /// stubs into it (through its physical address, so the page stays read-only here).
    static unik_x86_64_hypercall_page: u8;
}

/// Bytes per hypercall stub in the hypercall page.
const STUB_SIZE: u64 = 32;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The CPUID leaf base of Xen's leaves (0x40000000 + n * 0x100), if Xen is the hypervisor.
pub fn cpuid_base() -> Option<u32> {
    if cpu::cpuid(1).ecx & (1 << 31) == 0 {
        return None;
    }
    (0x4000_0000..0x4001_0000).step_by(0x100).find(|&base| {
        let r = cpu::cpuid(base);
        let signature = [r.ebx.to_le_bytes(), r.ecx.to_le_bytes(), r.edx.to_le_bytes()];
        signature.as_flattened() == b"XenVMMXenVMM" && r.eax >= base + 2
    })
}

/// Asks Xen to fill the hypercall page; `false` when not running on Xen. Idempotent.
pub fn install_hypercall_page() -> bool {
    if INSTALLED.load(Ordering::Relaxed) {
        return true;
    }
    let Some(base) = cpuid_base() else { return false };
    let msr = cpu::cpuid(base + 2).ebx;
    let page = core::ptr::addr_of!(unik_x86_64_hypercall_page) as u64;
    // SAFETY: Xen defines this MSR (CPUID base+2 EBX); writing the page's address makes
    // Xen write the hypercall stubs into that page, which the image reserves for them.
    unsafe { asm!("wrmsr", in("ecx") msr, in("eax") page as u32, in("edx") (page >> 32) as u32, options(nostack)) };
    INSTALLED.store(true, Ordering::Relaxed);
    true
}

/// Performs hypercall `op` with up to five arguments; returns Xen's result.
///
/// # Safety
/// [`install_hypercall_page`] must have succeeded, and the arguments must be valid for
/// `op` (pointers to memory of the right layout and size, owned by the caller).
pub unsafe fn hypercall(op: u32, args: [u64; 5]) -> i64 {
    let entry = core::ptr::addr_of!(unik_x86_64_hypercall_page) as u64 + u64::from(op) * STUB_SIZE;
    let result: i64;
    // SAFETY: the caller guarantees the page is installed and the arguments valid; the
    // x86_64 hypercall ABI takes RDI, RSI, RDX, R10, R8 and clobbers RCX and R11.
    unsafe {
        asm!(
            "call {entry}",
            entry = in(reg) entry,
            inlateout("rax") 0i64 => result,
            inlateout("rdi") args[0] => _,
            inlateout("rsi") args[1] => _,
            inlateout("rdx") args[2] => _,
            inlateout("r10") args[3] => _,
            inlateout("r8") args[4] => _,
            out("rcx") _,
            out("r11") _,
        )
    };
    result
}
