//! Arm semihosting: the exit status reaches the host through QEMU's `-semihosting`
//! (`SYS_EXIT` with `ADP_Stopped_ApplicationExit`, which makes QEMU exit with the status).
//! When the host does not listen, the call is an undefined instruction; the exception
//! handler recognises it and [`exit`] runs its fallback instead.

use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

unsafe extern "C" {
    /// `hlt #0xf000; ret` in `entry.S`: w0 = operation, x1 = parameter block.
    fn unik_aarch64_semihosting(operation: u32, parameter: *const u64) -> u64;
}

const SYS_EXIT: u32 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

/// The exit in progress: its status and its fallback (an `fn(i32) -> !`; 0 = none).
static EXIT_STATUS: AtomicI32 = AtomicI32::new(0);
static EXIT_FALLBACK: AtomicUsize = AtomicUsize::new(0);

/// Ends the VM reporting `status` to the host (QEMU exits with `status & 0xff`). Without
/// a semihosting host, calls `fallback(status)` instead.
pub fn exit(status: i32, fallback: fn(i32) -> !) -> ! {
    EXIT_STATUS.store(status, Ordering::Relaxed);
    EXIT_FALLBACK.store(fallback as usize, Ordering::Relaxed);
    let block = [ADP_STOPPED_APPLICATION_EXIT, status as u64];
    // SAFETY: `block` is the two-word parameter block SYS_EXIT takes on AArch64.
    unsafe { unik_aarch64_semihosting(SYS_EXIT, block.as_ptr()) };
    // A host that answers SYS_EXIT does not return; one that ignores it might.
    fallback(status)
}

/// Whether an undefined-instruction exception at `pc` is an exit's semihosting call.
pub(crate) fn is_unanswered_call(pc: u64) -> bool {
    pc == symbol_address!(unik_aarch64_semihosting) && EXIT_FALLBACK.load(Ordering::Relaxed) != 0
}

/// The host did not answer: run the fallback of the exit in progress.
pub(crate) fn unanswered() -> ! {
    let fallback = EXIT_FALLBACK.load(Ordering::Relaxed);
    // SAFETY: only `exit` stores into EXIT_FALLBACK, always an `fn(i32) -> !`, and
    // `is_unanswered_call` checked it is set.
    let fallback: fn(i32) -> ! = unsafe { core::mem::transmute(fallback) };
    fallback(EXIT_STATUS.load(Ordering::Relaxed))
}
