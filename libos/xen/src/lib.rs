//! Xen guest interfaces, shared by every Xen platform (`xen-x86_64`, `xen-arm64`).
//!
//! How a hypercall is made is architecture business (a hypercall page on x86, `hvc` on
//! arm64); a platform supplies it as a [`Hypercall`] implementation and this crate builds
//! everything else on top: console output ([`console`]), time ([`pvclock`]), event
//! channels and the upcall ([`events`]), the xenstore client ([`xenstore`]), grant tables
//! ([`grant`]), shared rings ([`ring`]), and shutdown ([`sched_shutdown`]).
//!
//! A platform that offers split-driver devices (netfront) implements [`XenBus`], keeping
//! its rings and grant table in the [`connect`] types.
//!
//! Layouts and numbers follow Xen's public headers (`xen/include/public/`).
#![no_std]

pub mod abi;
pub mod connect;
pub mod console;
pub mod events;
pub mod grant;
pub mod pvclock;
pub mod ring;
pub mod xenstore;

use abi::*;

/// Makes a hypercall; implemented once per architecture by the platform.
pub trait Hypercall {
    /// Calls hypercall `op` with `args`, returning Xen's result (negative errno on error).
    ///
    /// # Safety
    /// Pointer arguments must point to memory of the layout `op` expects, valid for the
    /// duration of the call.
    unsafe fn call(op: u32, args: [u64; 5]) -> i64;
}

/// What split-driver front ends need from the Xen platform they run on: its xenstore
/// connection, its grant table, and event channels that wake the CPU. Implemented by each
/// Xen platform that has them; everything is set up on first use.
pub trait XenBus {
    /// How this platform makes hypercalls.
    type Hypercall: Hypercall;

    /// The layout of this architecture's ring requests, as a front end names it to the
    /// back end (`protocol`: [`abi::XEN_IO_PROTO_ABI_X86_64`], [`abi::XEN_IO_PROTO_ABI_ARM`]).
    /// Back ends on x86 assume the 32-bit layout when it is not written.
    const IO_PROTOCOL: &'static str;

    /// This domain's xenstore connection; `None` without a store.
    fn store() -> Option<xenstore::Store>;

    /// This domain's grant table, its first frame mapped; `None` if it cannot be mapped.
    fn grant_table() -> Option<&'static grant::GrantTable>;

    /// Makes events on `port` interrupt the CPU, so that they end a wait for time
    /// (`Clock::wait_until`); `false` if they cannot.
    fn listen(port: u32) -> bool;
}

/// A hypercall failure: Xen's negative errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenError(pub i64);

fn result(value: i64) -> Result<i64, XenError> {
    if value < 0 { Err(XenError(value)) } else { Ok(value) }
}

/// Writes `bytes` to Xen's own console (`CONSOLEIO_write`): the console of a domain
/// without a PV console ring, such as dom0. Dropped unless Xen allows it for the domain.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn console_io_write<H: Hypercall>(bytes: &[u8]) {
    for chunk in bytes.chunks(u32::MAX as usize) {
        // SAFETY: the buffer is valid for `chunk.len()` bytes during the call.
        unsafe {
            H::call(
                HYPERVISOR_CONSOLE_IO,
                [CONSOLEIO_WRITE, chunk.len() as u64, chunk.as_ptr() as u64, 0, 0],
            )
        };
    }
}

/// Ends the domain (`SCHEDOP_shutdown`) with `reason` (e.g. [`SHUTDOWN_POWEROFF`]).
pub fn sched_shutdown<H: Hypercall>(reason: u32) -> Result<i64, XenError> {
    let argument = SchedShutdown { reason };
    // SAFETY: `argument` is a `sched_shutdown` structure alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_SCHED_OP,
            [SCHEDOP_SHUTDOWN, &argument as *const _ as u64, 0, 0, 0],
        )
    })
}

/// Ends the domain for exit status `status`: powered off for 0, crashed otherwise (a
/// domain's shutdown carries only a reason; the status itself goes on the console first).
pub fn shutdown_for_status<H: Hypercall>(status: i32) -> Result<i64, XenError> {
    let reason = if status == 0 { SHUTDOWN_POWEROFF } else { SHUTDOWN_CRASH };
    sched_shutdown::<H>(reason)
}

/// The page and event channel of a ring Xen names in HVM parameters `pfn_param` and
/// `port_param` (the console's, the store's), once `map` has mapped the page's address;
/// `None` if the domain has no such ring or the page cannot be mapped.
pub(crate) fn ring_page<H: Hypercall>(
    pfn_param: u32,
    port_param: u32,
    map: impl FnOnce(u64) -> bool,
) -> Option<(u64, u32)> {
    let pfn = hvm_get_param::<H>(pfn_param).unwrap_or(0);
    let port = hvm_get_param::<H>(port_param).unwrap_or(0);
    let page = pfn << 12;
    (pfn != 0 && map(page)).then_some((page, port as u32))
}

/// Gives up the CPU for a moment (`SCHEDOP_yield`).
pub fn sched_yield<H: Hypercall>() {
    // SAFETY: `SCHEDOP_yield` takes no argument.
    unsafe { H::call(HYPERVISOR_SCHED_OP, [SCHEDOP_YIELD, 0, 0, 0, 0]) };
}

/// Reads HVM parameter `index` of this domain.
pub fn hvm_get_param<H: Hypercall>(index: u32) -> Result<u64, XenError> {
    let mut param = HvmParam {
        domid: DOMID_SELF,
        _pad: 0,
        index,
        value: 0,
    };
    // SAFETY: `param` is an `xen_hvm_param` alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_HVM_OP,
            [HVMOP_GET_PARAM, &mut param as *mut _ as u64, 0, 0, 0],
        )
    })?;
    Ok(param.value)
}

/// Sets HVM parameter `index` of this domain.
pub fn hvm_set_param<H: Hypercall>(index: u32, value: u64) -> Result<(), XenError> {
    let param = HvmParam {
        domid: DOMID_SELF,
        _pad: 0,
        index,
        value,
    };
    // SAFETY: `param` is an `xen_hvm_param` alive during the call.
    result(unsafe { H::call(HYPERVISOR_HVM_OP, [HVMOP_SET_PARAM, &param as *const _ as u64, 0, 0, 0]) }).map(drop)
}

/// Places the shared info page at guest frame `gpfn` (`XENMEM_add_to_physmap`).
///
/// # Safety
/// The frame must be a page the caller owns and does not use otherwise: its contents
/// are replaced by the shared info page.
pub unsafe fn map_shared_info<H: Hypercall>(gpfn: u64) -> Result<(), XenError> {
    // SAFETY: the caller's contract.
    unsafe { add_to_physmap::<H>(XENMAPSPACE_SHARED_INFO, 0, gpfn) }
}

/// The wall clock: Unix nanoseconds at system time `system_time` (Xen keeps the Unix
/// time at system time 0 in the shared info page); `None` while Xen has not set it.
///
/// # Safety
/// `shared` must point to the mapped shared info page.
pub unsafe fn wall_clock<const A: usize, const V: usize>(
    shared: *const SharedInfo<A, V>,
    system_time: u64,
) -> Option<u64> {
    use core::ptr::addr_of;
    use core::sync::atomic::{Ordering, fence};
    loop {
        // SAFETY: the caller's guarantee; Xen writes these fields, so they are read
        // volatile, between two equal, even versions.
        let (version, seconds, nanos, high, again) = unsafe {
            let version = addr_of!((*shared).wc_version).read_volatile();
            fence(Ordering::Acquire);
            let seconds = addr_of!((*shared).wc_sec).read_volatile();
            let nanos = addr_of!((*shared).wc_nsec).read_volatile();
            let high = addr_of!((*shared).wc_sec_hi).read_volatile();
            fence(Ordering::Acquire);
            (
                version,
                seconds,
                nanos,
                high,
                addr_of!((*shared).wc_version).read_volatile(),
            )
        };
        if version % 2 == 1 || version != again {
            core::hint::spin_loop();
            continue;
        }
        let seconds = u64::from(high) << 32 | u64::from(seconds);
        if seconds == 0 {
            return None;
        }
        return Some(seconds * 1_000_000_000 + u64::from(nanos) + system_time);
    }
}

/// Places frame `index` of this domain's grant table at guest frame `gpfn`
/// (`XENMEM_add_to_physmap`), for [`grant::GrantTable::attach`].
///
/// # Safety
/// As [`map_shared_info`]: the frame's contents are replaced.
pub unsafe fn map_grant_frame<H: Hypercall>(index: u64, gpfn: u64) -> Result<(), XenError> {
    // SAFETY: the caller's contract.
    unsafe { add_to_physmap::<H>(XENMAPSPACE_GRANT_TABLE, index, gpfn) }
}

/// `XENMEM_add_to_physmap` of `idx` in `space` at `gpfn`.
///
/// # Safety
/// The frame must be a page the caller owns and does not use otherwise.
unsafe fn add_to_physmap<H: Hypercall>(space: u32, idx: u64, gpfn: u64) -> Result<(), XenError> {
    let argument = AddToPhysmap {
        domid: DOMID_SELF,
        size: 0,
        space,
        idx,
        gpfn,
    };
    // SAFETY: `argument` is an `xen_add_to_physmap` alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_MEMORY_OP,
            [XENMEM_ADD_TO_PHYSMAP, &argument as *const _ as u64, 0, 0, 0],
        )
    })
    .map(drop)
}

/// Reads this domain's memory map (`XENMEM_memory_map`) into `entries`; returns how many
/// entries Xen wrote.
pub fn memory_map<H: Hypercall>(entries: &mut [E820Entry]) -> Result<usize, XenError> {
    let mut argument = MemoryMap {
        nr_entries: entries.len() as u32,
        _pad: 0,
        buffer: entries.as_mut_ptr() as u64,
    };
    // SAFETY: `argument` describes `entries`, which Xen fills up to `nr_entries`.
    result(unsafe {
        H::call(
            HYPERVISOR_MEMORY_OP,
            [XENMEM_MEMORY_MAP, &mut argument as *mut _ as u64, 0, 0, 0],
        )
    })?;
    Ok((argument.nr_entries as usize).min(entries.len()))
}

/// Binds virtual interrupt `virq` on vCPU 0 to a new event channel; returns its port.
pub fn bind_virq<H: Hypercall>(virq: u32) -> Result<u32, XenError> {
    let mut argument = EvtchnBindVirq { virq, vcpu: 0, port: 0 };
    // SAFETY: `argument` is an `evtchn_bind_virq` alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_EVENT_CHANNEL_OP,
            [EVTCHNOP_BIND_VIRQ, &mut argument as *mut _ as u64, 0, 0, 0],
        )
    })?;
    Ok(argument.port)
}

/// An event channel port for the other end of a front end's device: allocated unbound
/// for domain `remote` to bind (`EVTCHNOP_alloc_unbound`).
pub fn alloc_unbound<H: Hypercall>(remote: u16) -> Result<u32, XenError> {
    let mut argument = EvtchnAllocUnbound {
        dom: DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    // SAFETY: `argument` is an `evtchn_alloc_unbound` alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_EVENT_CHANNEL_OP,
            [EVTCHNOP_ALLOC_UNBOUND, &mut argument as *mut _ as u64, 0, 0, 0],
        )
    })?;
    Ok(argument.port)
}

/// Notifies the other end of event channel `port`.
pub fn evtchn_send<H: Hypercall>(port: u32) {
    let argument = EvtchnSend { port };
    // SAFETY: `argument` is an `evtchn_send` alive during the call.
    unsafe {
        H::call(
            HYPERVISOR_EVENT_CHANNEL_OP,
            [EVTCHNOP_SEND, &argument as *const _ as u64, 0, 0, 0],
        )
    };
}

/// Arms vCPU 0's one-shot timer for Xen system time `deadline_ns`; it raises `VIRQ_TIMER`.
pub fn set_singleshot_timer<H: Hypercall>(deadline_ns: u64) -> Result<(), XenError> {
    let argument = VcpuSetSingleshotTimer {
        timeout_abs_ns: deadline_ns,
        flags: 0,
        _pad: 0,
    };
    // SAFETY: `argument` is a `vcpu_set_singleshot_timer` alive during the call.
    result(unsafe {
        H::call(
            HYPERVISOR_VCPU_OP,
            [VCPUOP_SET_SINGLESHOT_TIMER, 0, &argument as *const _ as u64, 0, 0],
        )
    })
    .map(drop)
}

/// Stops vCPU 0's periodic timer, which Xen starts at 100 Hz: an idle guest then sleeps
/// until its own deadlines.
pub fn stop_periodic_timer<H: Hypercall>() -> Result<(), XenError> {
    // SAFETY: `VCPUOP_stop_periodic_timer` takes no argument structure.
    result(unsafe { H::call(HYPERVISOR_VCPU_OP, [VCPUOP_STOP_PERIODIC_TIMER, 0, 0, 0, 0]) }).map(drop)
}
