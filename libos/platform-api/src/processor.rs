//! What threads and Rust's std need from the processor: execution contexts to switch
//! between, the thread pointer that locates thread-local storage, and a hardware random
//! number generator.

/// How thread-local storage sits around the thread pointer (the ELF TLS variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsLayout {
    /// Variant II (x86_64): the TLS block ends where the thread pointer points, and the
    /// word there holds the thread pointer itself.
    BlockBelowPointer,
    /// Variant I (arm64): the thread pointer points at a thread control block of
    /// `control_block` bytes, and the TLS block follows it (aligned).
    BlockAbovePointer {
        /// Size of the thread control block.
        control_block: usize,
    },
}

/// The processor's side of threads, and its random number generator.
///
/// A *context* is a saved stack pointer: switching saves the registers the calling
/// convention says a call preserves (including the floating-point/SIMD ones and the FP
/// control registers) on the current stack and resumes the other context where it was
/// saved. Scheduling is cooperative, so the caller-saved registers need no saving.
pub trait Processor {
    /// Where thread-local storage lies relative to the thread pointer.
    const TLS_LAYOUT: TlsLayout;

    /// The architecture's name as Linux's `uname` reports it (`x86_64`, `aarch64`).
    const LINUX_MACHINE: &'static str;

    /// Points the thread pointer (FS base on x86_64, TPIDR_EL0 on arm64) at `pointer`.
    fn set_thread_pointer(pointer: usize);

    /// Prepares a context on the stack whose highest address is `stack_top` (16-byte
    /// aligned) that, when first switched to, calls `entry(argument)`. Returns it.
    ///
    /// # Safety
    ///
    /// The stack must be writable memory, unused by anything else for as long as the
    /// context may run.
    #[allow(unsafe_code)]
    unsafe fn new_context(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> usize;

    /// Saves the running context into `*save` and resumes `resume`; returns when another
    /// switch resumes the saved context.
    ///
    /// # Safety
    ///
    /// `resume` must be a context made by [`Processor::new_context`] or saved by this
    /// function, not resumed since, whose stack is still valid.
    #[allow(unsafe_code)]
    unsafe fn switch_context(save: *mut usize, resume: usize);

    /// Fills `buffer` from the processor's random number generator (RDRAND, RNDR);
    /// `false` if the processor has none (or it keeps failing).
    fn hardware_random(buffer: &mut [u8]) -> bool;

    /// The processor's features as Linux reports them in the auxiliary vector's
    /// `AT_HWCAP` word for this architecture (CPUID leaf 1 EDX on x86_64; the `HWCAP_*`
    /// bits derived from the ID registers on arm64), so that feature detection written
    /// for Linux (std's `is_*_feature_detected!`, ring, OpenSSL-style C code) sees what
    /// the processor really has.
    fn linux_hardware_capabilities() -> u64;

    /// Makes the 4 KiB page at `address` (page-aligned, in the heap's RAM) inaccessible,
    /// so that a stack running into it faults at once (`guarded`), or ordinary memory
    /// again. `false` if the platform cannot: the caller then has no guard page.
    fn set_guard_page(address: usize, guarded: bool) -> bool;
}

/// Implements [`Processor`] for platform `$platform` by forwarding to the arch module
/// `$context`, which defines `TLS_LAYOUT`, `LINUX_MACHINE`, `set_thread_pointer`, `new_context`,
/// `switch_context`, `hardware_random`, `linux_hardware_capabilities` and
/// `set_guard_page` with the trait's signatures (every platform of an architecture does
/// the same).
#[macro_export]
macro_rules! impl_processor {
    ($platform:ty, $($context:ident)::+) => {
        impl $crate::Processor for $platform {
            const TLS_LAYOUT: $crate::TlsLayout = $($context)::+::TLS_LAYOUT;
            const LINUX_MACHINE: &'static str = $($context)::+::LINUX_MACHINE;

            fn set_thread_pointer(pointer: usize) {
                $($context)::+::set_thread_pointer(pointer)
            }

            unsafe fn new_context(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> usize {
                // SAFETY: forwarded from the caller.
                unsafe { $($context)::+::new_context(stack_top, entry, argument) }
            }

            unsafe fn switch_context(save: *mut usize, resume: usize) {
                // SAFETY: forwarded from the caller.
                unsafe { $($context)::+::switch_context(save, resume) }
            }

            fn hardware_random(buffer: &mut [u8]) -> bool {
                $($context)::+::hardware_random(buffer)
            }

            fn linux_hardware_capabilities() -> u64 {
                $($context)::+::linux_hardware_capabilities()
            }

            fn set_guard_page(address: usize, guarded: bool) -> bool {
                $($context)::+::set_guard_page(address, guarded)
            }
        }
    };
}
