//! The `xen-arm64` platform: an arm64 guest of Xen, as a dom0less domU or as dom0.
//!
//! Console, the first that exists: the PV console ring (HVM parameters `CONSOLE_PFN` and
//! `CONSOLE_EVTCHN`, what an `xl`-created domU gets), the SBSA UART Xen emulates for a
//! dom0less domU (`vpl011`, named in the device tree), else the `console_io` hypercall
//! (dom0). Time: the generic timer, which Xen virtualises, its interrupt through the
//! virtual GICv3. Exit: the status printed as the console's last line, the console
//! flushed, then `SCHEDOP_shutdown` (poweroff for 0, crash otherwise).
#![no_std]

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use unik_arch_aarch64::mmio::Mmio32;
use unik_arch_aarch64::{boot, cpu, devicetree, mmu, timer, xen as arch};
use unik_driver_pl011::{Pl011, Registers};
use unik_platform_api::{BootInfo, Clock, Console, Devices, MmioDevice, Platform, Shutdown, memory, status};
use unik_xen::Hypercall;
use unik_xen::abi::{self, XenconsInterface};
use unik_xen::console::Ring;

/// The xen-arm64 platform.
pub struct XenArm64;

impl Platform for XenArm64 {
    const NAME: &'static str = "xen-arm64";
}

unik_platform_api::impl_processor!(XenArm64, unik_arch_aarch64::context);
unik_platform_api::export_platform!(XenArm64, unik_arch_aarch64::boot::cycles_since_entry);

/// Hypercalls through `hvc #0xea1`.
struct HvcHypercall;

impl Hypercall for HvcHypercall {
    unsafe fn call(op: u32, args: [u64; 5]) -> i64 {
        // SAFETY: the caller guarantees the arguments; this platform only runs on Xen.
        unsafe { arch::hypercall(op, args) }
    }
}

type H = HvcHypercall;

// ---- console ----

/// Which console this domain has, decided on first use.
const UNDECIDED: u8 = 0;
const RING: u8 = 1;
const VPL011: u8 = 2;
const CONSOLE_IO: u8 = 3;
static CONSOLE: AtomicU8 = AtomicU8::new(UNDECIDED);
static CONSOLE_RING: AtomicPtr<XenconsInterface> = AtomicPtr::new(null_mut());
static CONSOLE_PORT: AtomicU32 = AtomicU32::new(0);
static VPL011_BASE: AtomicUsize = AtomicUsize::new(0);

/// The SBSA UART's registers.
struct Uart(Mmio32);

impl Registers for Uart {
    fn read(&self, offset: usize) -> u32 {
        self.0.read(offset)
    }
    fn write(&self, offset: usize, value: u32) {
        self.0.write(offset, value)
    }
}

fn decide_console() -> u8 {
    let decided = CONSOLE.load(Ordering::Relaxed);
    if decided != UNDECIDED {
        return decided;
    }
    let ring = unik_xen::ring_page::<H>(abi::HVM_PARAM_CONSOLE_PFN, abi::HVM_PARAM_CONSOLE_EVTCHN, |page| {
        mmu::map_memory(page..page + 4096)
    });
    let console = if let Some((page, port)) = ring {
        CONSOLE_PORT.store(port, Ordering::Relaxed);
        CONSOLE_RING.store(page as *mut XenconsInterface, Ordering::Relaxed);
        RING
    } else {
        match devicetree::device(&["arm,sbsa-uart"]) {
            Some(registers) if mmu::map_device(registers.clone()) => {
                VPL011_BASE.store(registers.start as usize, Ordering::Relaxed);
                VPL011
            }
            _ => CONSOLE_IO,
        }
    };
    CONSOLE.store(console, Ordering::Relaxed);
    console
}

fn ring() -> Option<Ring> {
    let interface = CONSOLE_RING.load(Ordering::Relaxed);
    // SAFETY: a non-null pointer is the console page Xen named, mapped in `decide_console`.
    (!interface.is_null()).then(|| unsafe { Ring::new(interface) })
}

fn vpl011() -> Pl011<Uart> {
    // SAFETY: the device tree's SBSA UART, mapped as a device in `decide_console`.
    Pl011::new(Uart(unsafe { Mmio32::new(VPL011_BASE.load(Ordering::Relaxed)) }))
}

impl Console for XenArm64 {
    fn write(bytes: &[u8]) {
        match (decide_console(), ring()) {
            (RING, Some(ring)) => ring.write_all::<H>(CONSOLE_PORT.load(Ordering::Relaxed), bytes),
            (VPL011, _) => vpl011().write(bytes),
            _ => unik_xen::console_io_write::<H>(bytes),
        }
    }
}

fn flush_console() {
    match (decide_console(), ring()) {
        (RING, Some(ring)) => ring.drain::<H>(CONSOLE_PORT.load(Ordering::Relaxed)),
        (VPL011, _) => vpl011().flush(),
        _ => {}
    }
}

impl Shutdown for XenArm64 {
    fn exit(status: i32) -> ! {
        status::report_line(status, Self::write);
        flush_console();
        let _ = unik_xen::shutdown_for_status::<H>(status);
        cpu::halt_forever()
    }
}

impl Clock for XenArm64 {
    fn now_nanos() -> u64 {
        timer::now_nanos()
    }

    fn wait_until(deadline: u64) {
        timer::wait_until(deadline)
    }
}

impl BootInfo for XenArm64 {
    fn command_line() -> &'static str {
        devicetree::command_line()
    }

    fn free_memory() -> impl Iterator<Item = memory::Region> {
        boot::free_memory()
    }
}

/// Xen guests get devices through xenstore and split drivers, not virtio-mmio.
impl Devices for XenArm64 {
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice> {
        core::iter::empty()
    }

    fn enable_interrupt(_interrupt: u32) -> bool {
        false
    }
}
