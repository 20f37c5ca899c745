//! The `xen-x86_64` platform: a PVH guest of Xen (dom0 or domU).
//!
//! Console: the PV console ring when Xen gives the domain one (a domU), else the
//! `console_io` hypercall (dom0). Time: Xen's pvclock in the shared info page. Sleep: a
//! one-shot Xen timer whose event arrives through the HVM callback vector while the vCPU
//! halts. Exit: the status printed as the console's last line, the ring flushed, then
//! `SCHEDOP_shutdown` (poweroff for 0, crash otherwise). No device of the PC is touched.
//! Devices are Xen's split drivers: this platform is a [`XenBus`] (xenstore, grant
//! table, event channels on the same upcall vector) for the netfront driver.
#![no_std]

use core::ptr::{addr_of_mut, null_mut};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use unik_arch_x86_64::{cpu, mmu, pvh, trap, xen as arch};
use unik_platform_api::{BootInfo, Clock, Console, Devices, MmioDevice, Platform, Shutdown, memory, status};
use unik_xen::abi::{self, XenconsInterface, XenstoreDomainInterface};
use unik_xen::connect::{LazyGrantTable, LazyRing};
use unik_xen::console::Ring;
use unik_xen::grant::GrantTable;
use unik_xen::xenstore::Store;
use unik_xen::{Hypercall, XenBus, events, pvclock};

/// The shared info page's layout on x86_64.
type SharedInfo = abi::X86_64SharedInfo;

/// The xen-x86_64 platform.
pub struct XenX86_64;

impl Platform for XenX86_64 {
    const NAME: &'static str = "xen-x86_64";
    // Measured: under Xen inside QEMU's emulated nested SVM, CR2 reads 0 in the guest for
    // every page fault (the error code is right). A null access and an unknown address
    // look alike there, so 0 is reported as unknown rather than as a null access.
    const ZERO_FAULT_ADDRESS_IS_UNKNOWN: bool = true;
}

unik_platform_api::impl_processor!(XenX86_64, unik_arch_x86_64::context);
unik_platform_api::export_platform!(XenX86_64, unik_arch_x86_64::boot::cycles_since_entry);

/// Hypercalls through the hypercall page Xen fills in.
pub struct PageHypercall;

impl Hypercall for PageHypercall {
    unsafe fn call(op: u32, args: [u64; 5]) -> i64 {
        // SAFETY: `hypervisor()` installed the page before any caller got here; the
        // caller guarantees the arguments.
        unsafe { arch::hypercall(op, args) }
    }
}

type H = PageHypercall;

/// Installs the hypercall page; an image for Xen cannot do anything without it.
fn hypervisor() {
    if !arch::install_hypercall_page() {
        // Not on Xen: there is no console to say so on.
        cpu::halt_forever();
    }
}

#[repr(C, align(4096))]
struct Page([u8; 4096]);

// ---- xenstore ----

static STORE: LazyRing<XenstoreDomainInterface> = LazyRing::new();

// ---- split-driver devices ----

/// The guest frame Xen's first grant table frame replaces.
static mut GRANT_FRAME: Page = Page([0; 4096]);
static GRANT_TABLE: LazyGrantTable = LazyGrantTable::new();

impl XenBus for XenX86_64 {
    type Hypercall = H;
    const IO_PROTOCOL: &'static str = unik_xen::abi::XEN_IO_PROTO_ABI_X86_64;

    fn store() -> Option<Store> {
        hypervisor();
        STORE.store::<H>(mmu::map_memory)
    }

    fn grant_table() -> Option<&'static GrantTable> {
        hypervisor();
        // SAFETY: the frame is a page of this image that nothing else uses.
        unsafe { GRANT_TABLE.get::<H>(|| Some(addr_of_mut!(GRANT_FRAME) as u64)) }
    }

    fn listen(port: u32) -> bool {
        // Event upcalls arrive once the clock's timer path is set up.
        timer_events();
        // SAFETY: `timer_events` mapped the shared info page.
        unsafe { events::unmask(shared_info(), port) };
        true
    }
}

// ---- console ----

static CONSOLE: LazyRing<XenconsInterface> = LazyRing::new();

/// The PV console ring and its event channel, if this domain has one.
fn console_ring() -> Option<(Ring, u32)> {
    hypervisor();
    let (interface, port) = CONSOLE.get::<H>(
        abi::HVM_PARAM_CONSOLE_PFN,
        abi::HVM_PARAM_CONSOLE_EVTCHN,
        mmu::map_memory,
    )?;
    // SAFETY: the console page Xen named, mapped by `mmu::map_memory`.
    Some((unsafe { Ring::new(interface) }, port))
}

impl Console for XenX86_64 {
    fn write(bytes: &[u8]) {
        let Some((ring, port)) = console_ring() else {
            unik_xen::console_io_write::<H>(bytes);
            return;
        };
        ring.write_all::<H>(port, bytes);
    }
}

fn flush_console() {
    if let Some((ring, port)) = console_ring() {
        ring.drain::<H>(port);
    }
}

impl Shutdown for XenX86_64 {
    fn exit(status: i32) -> ! {
        status::report_line(status, Self::write);
        flush_console();
        let _ = unik_xen::shutdown_for_status::<H>(status);
        cpu::halt_forever()
    }
}

// ---- time ----

/// The guest frame Xen's shared info page replaces.
static mut SHARED_INFO_FRAME: Page = Page([0; 4096]);
static SHARED_INFO: AtomicPtr<SharedInfo> = AtomicPtr::new(null_mut());

fn shared_info() -> *mut SharedInfo {
    let mapped = SHARED_INFO.load(Ordering::Relaxed);
    if !mapped.is_null() {
        return mapped;
    }
    hypervisor();
    let frame = addr_of_mut!(SHARED_INFO_FRAME);
    // SAFETY: the frame is a page of this image that nothing else uses.
    if unsafe { unik_xen::map_shared_info::<H>(frame as u64 >> 12) }.is_err() {
        cpu::halt_forever();
    }
    SHARED_INFO.store(frame.cast(), Ordering::Relaxed);
    frame.cast()
}

/// Vector the HVM callback (event channel upcall) arrives on.
const UPCALL_VECTOR: u8 = 33;
static TIMER_READY: AtomicBool = AtomicBool::new(false);

fn upcall() {
    // SAFETY: the shared info page is mapped before the callback is registered.
    unsafe { events::acknowledge(shared_info(), |_| {}) };
}

/// Binds the timer VIRQ and routes event upcalls to [`UPCALL_VECTOR`], once.
fn timer_events() {
    if TIMER_READY.swap(true, Ordering::Relaxed) {
        return;
    }
    let shared = shared_info();
    trap::register_interrupt(UPCALL_VECTOR, upcall);
    let via = abi::HVM_PARAM_CALLBACK_TYPE_VECTOR | u64::from(UPCALL_VECTOR);
    if unik_xen::hvm_set_param::<H>(abi::HVM_PARAM_CALLBACK_IRQ, via).is_err() {
        cpu::halt_forever();
    }
    let _ = unik_xen::stop_periodic_timer::<H>();
    match unik_xen::bind_virq::<H>(abi::VIRQ_TIMER) {
        // SAFETY: `shared` is the mapped shared info page.
        Ok(port) => unsafe {
            events::unmask(shared, port);
            events::enable_upcalls(shared);
        },
        Err(_) => cpu::halt_forever(),
    }
    // One wake-up through the whole path (timer, event, upcall) now, with the clock's set-up:
    // it proves the path before a sleep relies on it, and under emulation the first pass
    // through the hypervisor's code is slow, which belongs here rather than in a sleep.
    // A deadline slightly ahead, so that Xen arms its hardware timer as a real sleep does.
    // SAFETY: the shared info page is mapped.
    let now = unsafe { pvclock::read(addr_of_mut!((*shared).vcpu_info[0].time), cpu::rdtsc) };
    if unik_xen::set_singleshot_timer::<H>(now + SELF_TEST_DELAY_NS).is_ok() {
        cpu::wait_for_interrupt();
    }
}

/// How far ahead the set-up's test wake-up is.
const SELF_TEST_DELAY_NS: u64 = 100_000;

impl Clock for XenX86_64 {
    fn wall_clock_nanos() -> Option<u64> {
        let now = Self::now_nanos();
        // SAFETY: `now_nanos` mapped the shared info page.
        unsafe { unik_xen::wall_clock(shared_info(), now) }
    }

    fn now_nanos() -> u64 {
        let shared = shared_info();
        // Set the timer's event path up with the clock, so a first sleep is not longer.
        timer_events();
        // SAFETY: the shared info page is mapped; vCPU 0's time info is what Xen updates
        // for the only vCPU.
        unsafe { pvclock::read(addr_of_mut!((*shared).vcpu_info[0].time), cpu::rdtsc) }
    }

    fn wait_until(deadline: u64) {
        if Self::now_nanos() >= deadline {
            return;
        }
        if unik_xen::set_singleshot_timer::<H>(deadline).is_ok() {
            cpu::wait_for_interrupt();
        }
    }
}

/// The memory map Xen reports, for a start info without one (a PVH dom0).
static mut XEN_MEMORY_MAP: [abi::E820Entry; 32] = [abi::E820Entry {
    addr: 0,
    size: 0,
    kind: 0,
}; 32];
static XEN_MEMORY_MAP_LEN: AtomicU32 = AtomicU32::new(u32::MAX);

fn xen_ram() -> impl Iterator<Item = memory::Region> {
    if XEN_MEMORY_MAP_LEN.load(Ordering::Relaxed) == u32::MAX {
        hypervisor();
        // SAFETY: single CPU; the map is written once, here, before anything reads it.
        let entries = unsafe { &mut *addr_of_mut!(XEN_MEMORY_MAP) };
        let count = unik_xen::memory_map::<H>(entries).unwrap_or(0);
        XEN_MEMORY_MAP_LEN.store(count as u32, Ordering::Relaxed);
    }
    let count = XEN_MEMORY_MAP_LEN.load(Ordering::Relaxed) as usize;
    // SAFETY: written once above; only read from then on.
    let entries = unsafe { &*core::ptr::addr_of!(XEN_MEMORY_MAP) };
    entries
        .iter()
        .take(count)
        .filter(|e| e.kind == abi::E820_RAM)
        .map(|e| e.addr..e.addr.saturating_add(e.size))
}

impl BootInfo for XenX86_64 {
    fn command_line() -> &'static str {
        pvh::command_line()
    }

    fn free_memory() -> impl Iterator<Item = memory::Region> {
        // A domU's start info has the memory map; a dom0 asks Xen.
        let from_xen = (!pvh::has_memory_map()).then(xen_ram).into_iter().flatten();
        pvh::free_memory_in(pvh::ram().chain(from_xen))
    }

    fn initial_ramdisk() -> &'static [u8] {
        pvh::ramdisk()
    }
}

/// Xen guests get devices through xenstore and split drivers, not virtio-mmio.
impl Devices for XenX86_64 {
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice> {
        core::iter::empty()
    }

    fn enable_interrupt(_interrupt: u32) -> bool {
        false
    }
}
