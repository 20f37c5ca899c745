//! The `xen-arm64` platform: an arm64 guest of Xen, as an `xl` domU, a dom0less domU or
//! dom0.
//!
//! Console, the first that exists: the PV console ring (HVM parameters `CONSOLE_PFN` and
//! `CONSOLE_EVTCHN`, what an `xl`-created domU gets), the SBSA UART Xen emulates for a
//! dom0less domU (`vpl011`, named in the device tree), else the `console_io` hypercall
//! (dom0). Time: the generic timer, which Xen virtualises, its interrupt through the
//! virtual GICv3; the wall clock from the shared info page (an `xl` domU) or the command
//! line (a dom0less domU, which `unik run` gives the host's time). Exit: the status
//! printed as the console's last line, the console flushed, then `SCHEDOP_shutdown`
//! (poweroff for 0, crash otherwise).
//!
//! Devices are Xen's split drivers: this platform is a [`XenBus`] for netfront, the same
//! code as on x86. What arm64 adds is where things are: the device tree's `/hypervisor`
//! node (written by the toolstack; a dom0less domU has none, so no split drivers there)
//! names the region where the grant table's frame is placed and the private interrupt
//! that delivers event-channel upcalls through the GIC; the shared info page (the event
//! bitmaps) is placed on a page of the image with `XENMEM_add_to_physmap`.
#![no_std]

use core::ptr::{addr_of_mut, null_mut};
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use unik_arch_aarch64::mmio::Mmio32;
use unik_arch_aarch64::{boot, cpu, devicetree, gic, mmu, timer, xen as arch};
use unik_driver_pl011::{Pl011, Registers};
use unik_platform_api::{BootInfo, Clock, Console, Devices, MmioDevice, Platform, Shutdown, memory, status};
use unik_xen::abi::{self, XenconsInterface, XenstoreDomainInterface};
use unik_xen::connect::{LazyGrantTable, LazyRing};
use unik_xen::console::Ring;
use unik_xen::grant::GrantTable;
use unik_xen::xenstore::Store;
use unik_xen::{Hypercall, XenBus, events};

/// The shared info page's layout on arm64.
type SharedInfo = abi::Arm64SharedInfo;

/// The xen-arm64 platform.
pub struct XenArm64;

impl Platform for XenArm64 {
    const NAME: &'static str = "xen-arm64";
}

unik_platform_api::impl_processor!(XenArm64, unik_arch_aarch64::context);
unik_platform_api::export_platform!(XenArm64, unik_arch_aarch64::boot::cycles_since_entry);

/// Hypercalls through `hvc #0xea1`.
pub struct HvcHypercall;

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
static CONSOLE_RING: LazyRing<XenconsInterface> = LazyRing::new();
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
    let console = if ring().is_some() {
        RING
    } else {
        match devicetree::device("arm,sbsa-uart") {
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

/// Maps a page Xen names (a ring's) as memory.
fn map_page(page: u64) -> bool {
    mmu::map_memory(page..page + 4096)
}

/// The PV console ring and its event channel, if this domain has one.
fn ring() -> Option<(Ring, u32)> {
    let (interface, port) =
        CONSOLE_RING.get::<H>(abi::HVM_PARAM_CONSOLE_PFN, abi::HVM_PARAM_CONSOLE_EVTCHN, map_page)?;
    // SAFETY: the console page Xen named, mapped by `map_page`.
    Some((unsafe { Ring::new(interface) }, port))
}

fn vpl011() -> Pl011<Uart> {
    // SAFETY: the device tree's SBSA UART, mapped as a device in `decide_console`.
    Pl011::new(Uart(unsafe { Mmio32::new(VPL011_BASE.load(Ordering::Relaxed)) }))
}

impl Console for XenArm64 {
    fn write(bytes: &[u8]) {
        match (decide_console(), ring()) {
            (RING, Some((ring, port))) => ring.write_all::<H>(port, bytes),
            (VPL011, _) => vpl011().write(bytes),
            _ => unik_xen::console_io_write::<H>(bytes),
        }
    }
}

fn flush_console() {
    match (decide_console(), ring()) {
        (RING, Some((ring, port))) => ring.drain::<H>(port),
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
    /// Xen on arm keeps in the shared info page the Unix time at which the domain's
    /// virtual counter read 0 (its creation, counted in whole seconds from Xen's boot),
    /// once a dom0 has told Xen the time: right to about a second either way. Without a
    /// `/hypervisor` node (a dom0less domU) there is no shared info page here, and the
    /// time comes from the command line (`unik.time`).
    fn wall_clock_nanos() -> Option<u64> {
        let shared = events()?;
        // SAFETY: `events` placed the shared info page.
        unsafe { unik_xen::wall_clock(shared, timer::counter_nanos()) }
    }

    fn now_nanos() -> u64 {
        timer::now_nanos()
    }

    fn wait_until(deadline: u64) {
        // Wakes at the deadline or at an event-channel upcall, whichever comes first; the
        // timer's wait acknowledges either interrupt at the GIC, the events are
        // acknowledged here (the caller checks what it waits for).
        timer::wait_until(deadline);
        let shared = SHARED_INFO.load(Ordering::Acquire);
        if !shared.is_null() {
            // SAFETY: a non-null pointer is the mapped shared info page.
            unsafe { events::acknowledge(shared, |_| {}) };
        }
    }
}

// ---- split-driver devices ----

#[repr(C, align(4096))]
struct Page([u8; 4096]);

static STORE: LazyRing<XenstoreDomainInterface> = LazyRing::new();
static GRANT_TABLE: LazyGrantTable = LazyGrantTable::new();

/// The guest frame Xen's shared info page replaces.
static mut SHARED_INFO_FRAME: Page = Page([0; 4096]);
/// The shared info page once placed and upcalls routed; null before, or without them.
static SHARED_INFO: AtomicPtr<SharedInfo> = AtomicPtr::new(null_mut());
const UNTRIED: u8 = 0;
const READY: u8 = 1;
const ABSENT: u8 = 2;
static EVENTS: AtomicU8 = AtomicU8::new(UNTRIED);

/// Event-channel upcalls, set up once: the shared info page placed on a page of the
/// image, the `/hypervisor` node's interrupt enabled at the GIC (it stays masked at the
/// CPU: it wakes `wfi`, as the timer's does), upcalls unmasked. The shared info page.
fn events() -> Option<*mut SharedInfo> {
    match EVENTS.load(Ordering::Acquire) {
        READY => return Some(SHARED_INFO.load(Ordering::Acquire)),
        ABSENT => return None,
        _ => {}
    }
    let frame = addr_of_mut!(SHARED_INFO_FRAME).cast::<SharedInfo>();
    let ready = devicetree::xen_hypervisor().is_some_and(|xen| gic::enable_private_interrupt(xen.event_interrupt.id))
        // SAFETY: the frame is a page of this image that nothing else uses.
        && unsafe { unik_xen::map_shared_info::<H>(frame as u64 >> 12) }.is_ok();
    if !ready {
        EVENTS.store(ABSENT, Ordering::Release);
        return None;
    }
    // SAFETY: Xen placed the shared info page at `frame`.
    unsafe { events::enable_upcalls(frame) };
    SHARED_INFO.store(frame, Ordering::Release);
    EVENTS.store(READY, Ordering::Release);
    Some(frame)
}

impl XenBus for XenArm64 {
    type Hypercall = H;
    const IO_PROTOCOL: &'static str = unik_xen::abi::XEN_IO_PROTO_ABI_ARM;

    fn store() -> Option<Store> {
        STORE.store::<H>(map_page)
    }

    fn grant_table() -> Option<&'static GrantTable> {
        // The first page of the region the device tree reserves for grant frames.
        let frame = || {
            let start = devicetree::xen_hypervisor()?.grant_frames.start;
            map_page(start).then_some(start)
        };
        // SAFETY: the region is the guest's to place grant frames in; nothing else uses it.
        unsafe { GRANT_TABLE.get::<H>(frame) }
    }

    fn listen(port: u32) -> bool {
        let Some(shared) = events() else {
            return false;
        };
        // SAFETY: `events` placed the shared info page.
        unsafe { events::unmask(shared, port) };
        true
    }
}

impl BootInfo for XenArm64 {
    fn command_line() -> &'static str {
        devicetree::command_line()
    }

    fn free_memory() -> impl Iterator<Item = memory::Region> {
        boot::free_memory()
    }

    fn initial_ramdisk() -> &'static [u8] {
        boot::initial_ramdisk()
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
