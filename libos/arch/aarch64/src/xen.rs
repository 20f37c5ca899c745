//! Running on Xen: the arm64 hypercall instruction. The Xen interfaces themselves live in
//! `unik-xen`.

use core::arch::asm;

/// Performs hypercall `op` with up to five arguments; returns Xen's result.
///
/// # Safety
/// The CPU must run under Xen, and the arguments must be valid for `op` (pointers to
/// memory of the right layout, in normal cacheable memory, owned by the caller).
pub unsafe fn hypercall(op: u32, args: [u64; 5]) -> i64 {
    let result: i64;
    // SAFETY: the caller's contract. Xen's arm64 ABI: `hvc #0xea1`, the operation in x16,
    // arguments in x0..x4, the result in x0; argument registers may be clobbered.
    unsafe {
        asm!(
            "hvc #0xea1",
            inlateout("x0") args[0] => result,
            inlateout("x1") args[1] => _,
            inlateout("x2") args[2] => _,
            inlateout("x3") args[3] => _,
            inlateout("x4") args[4] => _,
            inlateout("x16") u64::from(op) => _,
            options(nostack),
        )
    };
    result
}
