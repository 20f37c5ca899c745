//! The contract between portable library-OS code and a platform.
//!
//! A *platform* (one per target: `kvm-x86_64`, later `xen-x86_64`, ...) is a zero-sized type
//! implementing [`Platform`]. Portable crates call it through `unik_platform::Current`, which
//! names the platform the image was built for; they never look at `target_arch`.
//!
//! All methods are associated functions (no `self`): there is one platform per image and
//! dispatch is static, so the linker can drop every method the application never reaches.
//!
//! Every platform must hold to the *boot contract*: before the application's entry runs,
//! only what is needed to run Rust code at all (stack, page tables, exception reporting) is
//! set up. Everything else (console device, timers, heap) initialises on first use.
#![no_std]
#![deny(unsafe_code)]

pub mod bench;
pub mod block;
pub mod calendar;
pub mod devices;
pub mod fault;
pub mod hex;
pub mod memory;
pub mod processor;
pub mod status;

pub use devices::MmioDevice;
pub use fault::Fault;
pub use processor::{Processor, TlsLayout};

/// Byte-oriented console output.
pub trait Console {
    /// Writes all of `bytes` to the console, initialising the device on first use.
    ///
    /// After return the bytes are handed to the device (they may still sit in a device
    /// or hypervisor buffer until [`Shutdown::exit`], which flushes).
    fn write(bytes: &[u8]);
}

/// Ending the VM.
pub trait Shutdown {
    /// Flushes console output and ends the VM, reporting `status` to whoever started it
    /// (0 = success). Never returns.
    fn exit(status: i32) -> !;
}

/// Monotonic time and waiting.
pub trait Clock {
    /// Nanoseconds since an arbitrary point fixed at the first call; never decreases.
    ///
    /// The first call may calibrate the clock (a few milliseconds).
    fn now_nanos() -> u64;

    /// Halts the CPU until [`Clock::now_nanos`] is at least `deadline`, or until some
    /// other event wakes it: callers loop. Must not spin while waiting.
    fn wait_until(deadline: u64);

    /// The wall clock: nanoseconds since the Unix epoch, now, from the machine's real-time
    /// clock or the hypervisor; `None` where it has none. May be slow (device registers)
    /// and coarse (whole seconds): callers read it once and count on with `now_nanos`.
    fn wall_clock_nanos() -> Option<u64> {
        None
    }
}

/// What the boot loader told the image.
pub trait BootInfo {
    /// The boot command line, as given to the VM (empty when there is none).
    fn command_line() -> &'static str;

    /// RAM the image may hand to its heap: mapped, writable, and used by nothing else
    /// (image, stack, boot structures and page tables are already carved out).
    ///
    /// Each call yields the same regions; claiming them is the caller's business.
    fn free_memory() -> impl Iterator<Item = memory::Region>;

    /// The initial ramdisk the loader placed beside the image (QEMU's `-initrd`, Xen's
    /// ramdisk module, `xl`'s `ramdisk`): unik's packed files. Empty when there is none.
    /// [`BootInfo::free_memory`] never yields its memory, so it stays as loaded.
    fn initial_ramdisk() -> &'static [u8];
}

/// Devices for drivers, and their interrupts.
///
/// Interrupts only wake the CPU: a driver enables its device's interrupt, and
/// [`Clock::wait_until`] then also returns when the device raises it. Drivers find out what
/// happened from the device itself (and acknowledge it there), so platforms keep no
/// per-device handlers.
pub trait Devices {
    /// The machine's virtio-mmio transports, their registers mapped as device memory.
    ///
    /// A transport may have no device behind it (device ID 0): drivers probe each one.
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice>;

    /// Routes `interrupt` (as in [`MmioDevice::interrupt`]) to this CPU, so that it ends a
    /// [`Clock::wait_until`]. Idempotent; `false` if the platform cannot route it.
    fn enable_interrupt(interrupt: u32) -> bool;
}

/// A network interface driver, as the net component sees the NIC its platform names
/// (`unik_platform::Nic`): found and started through the platform `P`, so the net
/// component names no driver itself.
pub trait NetworkDriver<P>: Sized {
    /// Finds and starts the VM's NIC, its interrupt (if it has one) routed to this CPU;
    /// the NIC and its MAC address. `None` when the VM has none (a driver that finds one it
    /// cannot use says why on the console).
    fn open() -> Option<(Self, [u8; 6])>;

    /// Re-arms the NIC's interrupt before the stack looks for work (interrupts only wake
    /// the CPU; nothing runs in a handler).
    fn acknowledge_interrupt(&mut self) {}
}

/// Everything a platform provides; implemented by one zero-sized type per target.
pub trait Platform: Console + Shutdown + Clock + BootInfo + Devices + Processor {
    /// The target name, e.g. `"kvm-x86_64"`.
    const NAME: &'static str;

    /// Whether the fault address the CPU reports (x86 CR2, arm64 FAR) can read 0 for a
    /// fault elsewhere, so that 0 says nothing. Fault reports then say `address unknown`.
    const ZERO_FAULT_ADDRESS_IS_UNKNOWN: bool = false;
}

/// Defines the two symbols through which the arch layer hands control to platform `$p`:
/// `$cycles` (bench builds) gives the arch's [`bench::Ticks`] since the image's first instruction;
/// `__unik_platform_start` (runs the application's `#[unik::main]` and exits with its
/// status) and `__unik_platform_fault` (prints a [`Fault`] report and exits with
/// [`status::FAULT`]). Every platform crate invokes this once.
#[macro_export]
macro_rules! export_platform {
    ($p:ty, $cycles:path) => {
        unsafe extern "Rust" {
            /// Generated by `#[unik::main]` in the application.
            safe fn __unik_app_main() -> i32;
        }

        #[unsafe(no_mangle)]
        fn __unik_platform_start() -> ! {
            // Bench builds report the cycles from the image's first instruction to here.
            #[cfg(unik_bench)]
            $crate::bench::report_entry_to_main($cycles(), <$p as $crate::Console>::write);
            <$p as $crate::Shutdown>::exit(__unik_app_main())
        }

        #[unsafe(no_mangle)]
        fn __unik_platform_fault(fault: &$crate::Fault) -> ! {
            $crate::fault::report(
                fault,
                <$p as $crate::Platform>::ZERO_FAULT_ADDRESS_IS_UNKNOWN,
                <$p as $crate::Console>::write,
            );
            <$p as $crate::Shutdown>::exit($crate::status::FAULT)
        }
    };
}
