//! Numbers and structure layouts from Xen's public headers, with their C names.
#![allow(missing_docs)]

// xen.h: hypercall numbers.
pub const HYPERVISOR_MEMORY_OP: u32 = 12;
pub const HYPERVISOR_CONSOLE_IO: u32 = 18;
pub const HYPERVISOR_VCPU_OP: u32 = 24;
pub const HYPERVISOR_SCHED_OP: u32 = 29;
pub const HYPERVISOR_EVENT_CHANNEL_OP: u32 = 32;
pub const HYPERVISOR_HVM_OP: u32 = 34;

pub const CONSOLEIO_WRITE: u64 = 0;
pub const DOMID_SELF: u16 = 0x7ff0;
pub const VIRQ_TIMER: u32 = 0;

// sched.h
pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_SHUTDOWN: u64 = 2;
pub const SHUTDOWN_POWEROFF: u32 = 0;
pub const SHUTDOWN_REBOOT: u32 = 1;
pub const SHUTDOWN_CRASH: u32 = 3;

#[repr(C)]
pub struct SchedShutdown {
    pub reason: u32,
}

// hvm/hvm_op.h, hvm/params.h
pub const HVMOP_SET_PARAM: u64 = 0;
pub const HVMOP_GET_PARAM: u64 = 1;
pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
pub const HVM_PARAM_STORE_PFN: u32 = 1;
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;
/// `HVM_PARAM_CALLBACK_IRQ` value type "vector" (bits 63:56): upcalls arrive on a vector.
pub const HVM_PARAM_CALLBACK_TYPE_VECTOR: u64 = 2 << 56;

#[repr(C)]
pub struct HvmParam {
    pub domid: u16,
    pub _pad: u16,
    pub index: u32,
    pub value: u64,
}

// memory.h
pub const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
pub const XENMEM_MEMORY_MAP: u64 = 9;

/// `xen_memory_map`: in, the capacity of `buffer`; out, the entries written.
#[repr(C)]
pub struct MemoryMap {
    pub nr_entries: u32,
    pub _pad: u32,
    pub buffer: u64,
}

/// An E820 entry as `XENMEM_memory_map` writes it (packed, 20 bytes).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default)]
pub struct E820Entry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
}

/// E820 type of usable RAM.
pub const E820_RAM: u32 = 1;
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;

#[repr(C)]
pub struct AddToPhysmap {
    pub domid: u16,
    pub size: u16,
    pub space: u32,
    pub idx: u64,
    pub gpfn: u64,
}

// event_channel.h
pub const EVTCHNOP_BIND_VIRQ: u64 = 1;
pub const EVTCHNOP_SEND: u64 = 4;
pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;

/// `evtchn_alloc_unbound`: in, this domain and the remote one; out, the new port.
#[repr(C)]
pub struct EvtchnAllocUnbound {
    pub dom: u16,
    pub remote_dom: u16,
    pub port: u32,
}

#[repr(C)]
pub struct EvtchnBindVirq {
    pub virq: u32,
    pub vcpu: u32,
    pub port: u32,
}

#[repr(C)]
pub struct EvtchnSend {
    pub port: u32,
}

// vcpu.h
pub const VCPUOP_STOP_PERIODIC_TIMER: u64 = 7;
pub const VCPUOP_SET_SINGLESHOT_TIMER: u64 = 8;

#[repr(C)]
pub struct VcpuSetSingleshotTimer {
    pub timeout_abs_ns: u64,
    pub flags: u32,
    pub _pad: u32,
}

// xen.h: shared info (64-bit guests).
/// `vcpu_time_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuTimeInfo {
    pub version: u32,
    pub pad0: u32,
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
    pub flags: u8,
    pub pad1: [u8; 2],
}

/// Words of `arch_vcpu_info` on x86_64 (`cr2` and a pad).
pub const X86_64_ARCH_VCPU_WORDS: usize = 2;
/// Words of `arch_vcpu_info` on arm64 (an empty structure in `arch-arm.h`).
pub const ARM64_ARCH_VCPU_WORDS: usize = 0;

/// `vcpu_info`: 64 bytes on x86_64, 48 on arm64, where `arch_vcpu_info` is empty
/// (`ARCH_WORDS`: [`X86_64_ARCH_VCPU_WORDS`] or [`ARM64_ARCH_VCPU_WORDS`], given by the
/// platform, which knows its architecture).
#[repr(C)]
pub struct VcpuInfo<const ARCH_WORDS: usize> {
    pub evtchn_upcall_pending: u8,
    pub evtchn_upcall_mask: u8,
    pub _pad: [u8; 6],
    pub evtchn_pending_sel: u64,
    pub arch: [u64; ARCH_WORDS],
    pub time: VcpuTimeInfo,
}

/// `XEN_LEGACY_MAX_VCPUS` on x86: the `vcpu_info` slots in the shared info page.
pub const X86_64_LEGACY_MAX_VCPUS: usize = 32;
/// `XEN_LEGACY_MAX_VCPUS` on arm64 (`arch-arm.h`): one slot; other vCPUs register theirs.
pub const ARM64_LEGACY_MAX_VCPUS: usize = 1;
/// Bits per `xen_ulong_t`, and words of the event bitmaps.
pub const EVTCHN_WORDS: usize = 64;

/// The start of `shared_info` (what unik reads of it): on 64-bit guests the wall clock
/// (`wc_*`: the Unix time at system time 0, odd `wc_version` while Xen updates it)
/// follows the event bitmaps, with `wc_sec_hi` in the generic part. Where the bitmaps
/// start depends on the architecture: the size of `vcpu_info` (`ARCH_WORDS`) and how many
/// there are (`VCPUS`); [`X86_64SharedInfo`] and [`Arm64SharedInfo`] are the two layouts.
#[repr(C)]
pub struct SharedInfo<const ARCH_WORDS: usize, const VCPUS: usize> {
    pub vcpu_info: [VcpuInfo<ARCH_WORDS>; VCPUS],
    pub evtchn_pending: [u64; EVTCHN_WORDS],
    pub evtchn_mask: [u64; EVTCHN_WORDS],
    pub wc_version: u32,
    pub wc_sec: u32,
    pub wc_nsec: u32,
    pub wc_sec_hi: u32,
}

/// The shared info page of an x86_64 guest.
pub type X86_64SharedInfo = SharedInfo<X86_64_ARCH_VCPU_WORDS, X86_64_LEGACY_MAX_VCPUS>;
/// The shared info page of an arm64 guest.
pub type Arm64SharedInfo = SharedInfo<ARM64_ARCH_VCPU_WORDS, ARM64_LEGACY_MAX_VCPUS>;

// grant_table.h (version 1 entries, the default version).
/// `grant_entry_v1`: `frame` is shared with `domid` as `flags` allow. Write `flags` last.
#[repr(C)]
pub struct GrantEntryV1 {
    pub flags: u16,
    pub domid: u16,
    pub frame: u32,
}

pub const GTF_PERMIT_ACCESS: u16 = 1;
pub const GTF_READONLY: u16 = 1 << 2;
pub const GTF_READING: u16 = 1 << 3;
pub const GTF_WRITING: u16 = 1 << 4;
/// Entries 0..8 belong to the toolstack (the console's and the store's pages).
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;

// io/ring.h
/// Bytes before a shared ring's first entry: the four indices, then padding.
pub const SRING_HEADER: usize = 64;

// io/netif.h
/// `netif_tx_request`: a packet in granted page `gref` at `offset`, `size` bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifTxRequest {
    pub gref: u32,
    pub offset: u16,
    pub flags: u16,
    pub id: u16,
    pub size: u16,
}

/// `netif_tx_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifTxResponse {
    pub id: u16,
    pub status: i16,
}

/// `netif_rx_request`: granted page `gref` for the back end to copy a packet into.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifRxRequest {
    pub id: u16,
    pub _pad: u16,
    pub gref: u32,
}

/// `netif_rx_response`: `status` bytes at `offset` of the request's page, or an error.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetifRxResponse {
    pub id: u16,
    pub offset: u16,
    pub flags: u16,
    pub status: i16,
}

pub const NETRXF_MORE_DATA: u16 = 1 << 2;
pub const NETRXF_EXTRA_INFO: u16 = 1 << 3;
pub const NETIF_RSP_OKAY: i16 = 0;
pub const NETIF_RSP_NULL: i16 = 1;

// io/protocols.h
pub const XEN_IO_PROTO_ABI_X86_64: &str = "x86_64-abi";
pub const XEN_IO_PROTO_ABI_ARM: &str = "arm-abi";

// io/blkif.h
pub const BLKIF_OP_READ: u8 = 0;
pub const BLKIF_OP_WRITE: u8 = 1;
pub const BLKIF_OP_WRITE_BARRIER: u8 = 2;
pub const BLKIF_OP_FLUSH_DISKCACHE: u8 = 3;
/// Segments (granted pages) one request may carry.
pub const BLKIF_MAX_SEGMENTS_PER_REQUEST: usize = 11;
pub const BLKIF_RSP_EOPNOTSUPP: i16 = -2;
pub const BLKIF_RSP_OKAY: i16 = 0;
/// The back end's `info` bit for a disk the front end may only read.
pub const VDISK_READONLY: u64 = 0x4;

/// `blkif_request_segment`: sectors `first_sect..=last_sect` of granted page `gref`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlkifSegment {
    pub gref: u32,
    pub first_sect: u8,
    pub last_sect: u8,
}

/// `blkif_request` (the native layout of x86_64 and arm64: `id` 8-byte aligned).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlkifRequest {
    pub operation: u8,
    pub nr_segments: u8,
    pub handle: u16,
    pub id: u64,
    pub sector_number: u64,
    pub seg: [BlkifSegment; BLKIF_MAX_SEGMENTS_PER_REQUEST],
}

/// `blkif_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlkifResponse {
    pub id: u64,
    pub operation: u8,
    pub status: i16,
}

// io/xenbus.h
pub const XENBUS_STATE_INIT_WAIT: u32 = 2;
pub const XENBUS_STATE_INITIALISED: u32 = 3;
pub const XENBUS_STATE_CONNECTED: u32 = 4;
pub const XENBUS_STATE_CLOSING: u32 = 5;

// io/console.h
pub const XENCONS_IN_SIZE: usize = 1024;
pub const XENCONS_OUT_SIZE: usize = 2048;

/// `xencons_interface`.
#[repr(C)]
pub struct XenconsInterface {
    pub input: [u8; XENCONS_IN_SIZE],
    pub output: [u8; XENCONS_OUT_SIZE],
    pub in_cons: u32,
    pub in_prod: u32,
    pub out_cons: u32,
    pub out_prod: u32,
}

// io/xs_wire.h
pub const XENSTORE_RING_SIZE: usize = 1024;
/// The largest payload of one message.
pub const XENSTORE_PAYLOAD_MAX: usize = 4096;
pub const XS_DIRECTORY: u32 = 1;
pub const XS_READ: u32 = 2;
pub const XS_WRITE: u32 = 11;
pub const XS_WATCH_EVENT: u32 = 15;
pub const XS_ERROR: u32 = 16;

/// `xsd_sockmsg`: the header of every xenstore message, then `len` payload bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XsdSockmsg {
    pub kind: u32,
    pub req_id: u32,
    pub tx_id: u32,
    pub len: u32,
}

/// `xenstore_domain_interface`: the request and response rings on the store page.
#[repr(C)]
pub struct XenstoreDomainInterface {
    pub req: [u8; XENSTORE_RING_SIZE],
    pub rsp: [u8; XENSTORE_RING_SIZE],
    pub req_cons: u32,
    pub req_prod: u32,
    pub rsp_cons: u32,
    pub rsp_prod: u32,
    pub server_features: u32,
    pub connection: u32,
    pub error: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_the_public_headers() {
        assert_eq!(size_of::<XsdSockmsg>(), 16);
        assert_eq!(offset_of!(XenstoreDomainInterface, req_cons), 2048);
        assert_eq!(offset_of!(XenstoreDomainInterface, error), 2072);
        assert_eq!(size_of::<VcpuTimeInfo>(), 32);
        type X86 = X86_64SharedInfo;
        assert_eq!(size_of::<VcpuInfo<X86_64_ARCH_VCPU_WORDS>>(), 64);
        assert_eq!(offset_of!(VcpuInfo<X86_64_ARCH_VCPU_WORDS>, time), 32);
        assert_eq!(offset_of!(X86, evtchn_pending), 2048);
        assert_eq!(offset_of!(X86, evtchn_mask), 2560);
        assert_eq!(offset_of!(X86, wc_version), 3072);
        assert_eq!(offset_of!(X86, wc_sec), 3076);
        assert_eq!(offset_of!(X86, wc_nsec), 3080);
        assert_eq!(offset_of!(X86, wc_sec_hi), 3084);
        // arm64: `arch_vcpu_info` is empty, so `vcpu_info` is 48 bytes, and there is one
        // (`XEN_LEGACY_MAX_VCPUS` is 1): the bitmaps start at 48.
        type Arm = Arm64SharedInfo;
        assert_eq!(size_of::<VcpuInfo<ARM64_ARCH_VCPU_WORDS>>(), 48);
        assert_eq!(offset_of!(VcpuInfo<ARM64_ARCH_VCPU_WORDS>, time), 16);
        assert_eq!(offset_of!(Arm, evtchn_pending), 48);
        assert_eq!(offset_of!(Arm, evtchn_mask), 560);
        assert_eq!(offset_of!(Arm, wc_version), 1072);
        assert_eq!(offset_of!(Arm, wc_sec), 1076);
        assert_eq!(offset_of!(Arm, wc_nsec), 1080);
        assert_eq!(offset_of!(Arm, wc_sec_hi), 1084);
        assert_eq!(offset_of!(XenconsInterface, in_cons), 3072);
        assert_eq!(offset_of!(XenconsInterface, out_prod), 3084);
        assert_eq!(offset_of!(HvmParam, index), 4);
        assert_eq!(offset_of!(HvmParam, value), 8);
        assert_eq!(offset_of!(AddToPhysmap, idx), 8);
        assert_eq!(offset_of!(AddToPhysmap, gpfn), 16);
        assert_eq!(size_of::<VcpuSetSingleshotTimer>(), 16);
        assert_eq!(size_of::<E820Entry>(), 20);
        assert_eq!(offset_of!(MemoryMap, buffer), 8);
        assert_eq!(size_of::<EvtchnAllocUnbound>(), 8);
        assert_eq!(size_of::<GrantEntryV1>(), 8);
        assert_eq!(size_of::<NetifTxRequest>(), 12);
        assert_eq!(size_of::<NetifTxResponse>(), 4);
        assert_eq!(size_of::<NetifRxRequest>(), 8);
        assert_eq!(size_of::<NetifRxResponse>(), 8);
        // blkif: 112-byte requests (so 32 fit a ring page), 16-byte responses.
        assert_eq!(size_of::<BlkifSegment>(), 8);
        assert_eq!(offset_of!(BlkifRequest, id), 8);
        assert_eq!(offset_of!(BlkifRequest, sector_number), 16);
        assert_eq!(offset_of!(BlkifRequest, seg), 24);
        assert_eq!(size_of::<BlkifRequest>(), 112);
        assert_eq!(offset_of!(BlkifResponse, status), 10);
        assert_eq!(size_of::<BlkifResponse>(), 16);
    }
}
