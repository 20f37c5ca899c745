//! A Xen block front end (blkfront), as a [`BlockDevice`].
//!
//! The back end is blkback (or QEMU's qdisk) in the domain that serves the vbd: dom0,
//! usually. The front end finds its disk in xenstore (`device/vbd/<virtual device>/`),
//! waits for the back end to open the disk (`InitWait`), shares one ring page and
//! [`SEGMENTS`] buffer pages through the grant table, allocates an event channel, and
//! says `Initialised`; the back end connects and publishes the disk's size (`sectors`),
//! its `info` bits and `feature-flush-cache`, and the front end says `Connected`.
//!
//! Requests are synchronous, as the files component asks for them: the data is copied
//! into (or out of) the granted pages, one request of up to [`SEGMENTS`] pages (44 KiB)
//! is published, and the CPU halts until its response arrives (the back end's event
//! wakes it). A flush is `BLKIF_OP_FLUSH_DISKCACHE` when the back end offers it; a back
//! end without it has no volatile cache, so its completed writes are already durable.
//! Sectors are 512 bytes: the driver does not offer `feature-large-sector-size`, so the
//! back end must use that size.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};
use unik_platform_api::block::{BlockDevice, DeviceError, DiskDriver, SECTOR_SIZE};
use unik_platform_api::{Clock, Console};
use unik_xen::XenBus;
use unik_xen::abi::{
    BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP,
    BLKIF_RSP_OKAY, BlkifRequest, BlkifResponse, BlkifSegment, VDISK_READONLY, XENBUS_STATE_CONNECTED,
    XENBUS_STATE_INIT_WAIT, XENBUS_STATE_INITIALISED,
};
use unik_xen::grant::GrantRef;
use unik_xen::ring::FrontRing;
use unik_xen_frontend::{Device, PAGE_SIZE, Page, ProbeError};

/// Buffer pages, one per segment of a request.
pub const SEGMENTS: usize = BLKIF_MAX_SEGMENTS_PER_REQUEST;
const SECTORS_PER_PAGE: usize = PAGE_SIZE / SECTOR_SIZE;
/// How long one request may take before the disk counts as failed.
const REQUEST_TIMEOUT_NS: u64 = 30_000_000_000;
/// The longest halt between looks at the ring, should an event be missed.
const POLL_NS: u64 = 10_000_000;

/// A granted buffer page.
struct Buffer {
    page: Box<Page>,
    grant: GrantRef,
}

/// A connected Xen virtual block device on the platform `B`.
pub struct Blkfront<B: XenBus> {
    ring: FrontRing<BlkifRequest, BlkifResponse>,
    /// The ring page, shared with the back end for as long as the driver lives.
    _ring_page: Box<Page>,
    buffers: Vec<Buffer>,
    port: u32,
    /// The disk's virtual device number, as requests name it.
    handle: u16,
    sectors: u64,
    read_only: bool,
    /// Whether the back end has a volatile cache to flush (`feature-flush-cache`).
    flush_cache: bool,
    next_id: u64,
    bus: PhantomData<B>,
}

// SAFETY: the ring, its page and the buffers are owned by this value alone (a disk is
// claimed once, see `open`); the library OS runs on one CPU and the files component
// reaches a disk only under its lock.
unsafe impl<B: XenBus> Send for Blkfront<B> {}

/// Disks already handed to a driver, one bit each (a vbd must never have two).
static CLAIMED: AtomicU32 = AtomicU32::new(0);

impl<B: XenBus + Clock> Blkfront<B> {
    /// Connects disk `index` of the domain (in the order of the virtual device numbers:
    /// xvda, xvdb, …).
    pub fn probe(index: usize) -> Result<Self, ProbeError> {
        let bit = u32::try_from(index)
            .ok()
            .and_then(|index| 1u32.checked_shl(index))
            .ok_or(ProbeError::Absent)?;
        if CLAIMED.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return Err(ProbeError::Absent);
        }
        let disk = Self::connect(index);
        if disk.is_err() {
            CLAIMED.fetch_and(!bit, Ordering::AcqRel);
        }
        disk
    }

    fn connect(index: usize) -> Result<Self, ProbeError> {
        let device = Device::<B>::find("vbd", index)?;
        device.await_back_state(XENBUS_STATE_INIT_WAIT)?;
        let mut ring_page = Page::new();
        let ring_ref = device.grant(&ring_page, false)?;
        let buffers = (0..SEGMENTS)
            .map(|_| {
                let page = Page::new();
                device.grant(&page, false).map(|grant| Buffer { page, grant })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // SAFETY: a fresh page, kept in the driver for as long as the ring, shared only
        // with the back end.
        let ring = unsafe { FrontRing::new(ring_page.0.as_mut_ptr(), PAGE_SIZE) };
        let port = device.event_channel()?;
        device.write_front_string("protocol", B::IO_PROTOCOL)?;
        device.write_front(&[
            ("ring-ref", u64::from(ring_ref)),
            ("event-channel", u64::from(port)),
            ("feature-persistent", 0),
            ("state", u64::from(XENBUS_STATE_INITIALISED)),
        ])?;
        device.await_back_state(XENBUS_STATE_CONNECTED)?;
        if device
            .back_number("sector-size")
            .is_some_and(|size| size != SECTOR_SIZE as u64)
        {
            return Err(ProbeError::Failed("the disk's sectors are not 512 bytes"));
        }
        let sectors = device
            .back_number("sectors")
            .ok_or(ProbeError::Failed("the back end gave no disk size"))?;
        let info = device.back_number("info").unwrap_or(0);
        let read_only = info & VDISK_READONLY != 0 || device.back_string("mode").as_deref() == Some("r");
        let flush_cache = device.back_feature("feature-flush-cache");
        device.write_front(&[("state", u64::from(XENBUS_STATE_CONNECTED))])?;
        Ok(Blkfront {
            ring,
            _ring_page: ring_page,
            buffers,
            port,
            handle: device.id() as u16,
            sectors,
            read_only,
            flush_cache,
            next_id: 0,
            bus: PhantomData,
        })
    }

    /// Sends one request of `operation` at `sector` over the first `pages` buffers
    /// (`sectors` sectors in all) and waits for its status.
    fn request(&mut self, operation: u8, sector: u64, sectors: usize) -> Result<i16, DeviceError> {
        let mut request = BlkifRequest {
            operation,
            nr_segments: sectors.div_ceil(SECTORS_PER_PAGE) as u8,
            handle: self.handle,
            id: self.next_id,
            sector_number: sector,
            seg: [BlkifSegment::default(); SEGMENTS],
        };
        self.next_id = self.next_id.wrapping_add(1);
        let mut left = sectors;
        for (segment, buffer) in request.seg.iter_mut().zip(&self.buffers) {
            if left == 0 {
                break;
            }
            let here = left.min(SECTORS_PER_PAGE);
            *segment = BlkifSegment {
                gref: buffer.grant,
                first_sect: 0,
                last_sect: (here - 1) as u8,
            };
            left -= here;
        }
        // Only one request is ever in flight, so the ring has room.
        if !self.ring.push(request) {
            return Err(DeviceError);
        }
        if self.ring.publish() {
            unik_xen::evtchn_send::<B::Hypercall>(self.port);
        }
        let deadline = B::now_nanos() + REQUEST_TIMEOUT_NS;
        loop {
            while let Some(response) = self.ring.take_response() {
                if response.id == request.id {
                    return Ok(response.status);
                }
            }
            let now = B::now_nanos();
            if now >= deadline {
                return Err(DeviceError);
            }
            B::wait_until(deadline.min(now + POLL_NS));
        }
    }

    /// Checks a transfer of `bytes` at `sector`: whole sectors, on the disk.
    fn check(&self, sector: u64, bytes: usize) -> Result<(), DeviceError> {
        let count = (bytes / SECTOR_SIZE) as u64;
        let fits = sector.checked_add(count).is_some_and(|end| end <= self.sectors);
        if bytes == 0 || !bytes.is_multiple_of(SECTOR_SIZE) || !fits {
            return Err(DeviceError);
        }
        Ok(())
    }
}

impl<B: XenBus + Clock> BlockDevice for Blkfront<B> {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read(&mut self, sector: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.check(sector, buffer.len())?;
        let mut at = sector;
        for chunk in buffer.chunks_mut(SEGMENTS * PAGE_SIZE) {
            let sectors = chunk.len() / SECTOR_SIZE;
            if self.request(BLKIF_OP_READ, at, sectors)? != BLKIF_RSP_OKAY {
                return Err(DeviceError);
            }
            for (part, buffer) in chunk.chunks_mut(PAGE_SIZE).zip(&self.buffers) {
                part.copy_from_slice(&buffer.page.0[..part.len()]);
            }
            at += sectors as u64;
        }
        Ok(())
    }

    fn write(&mut self, sector: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        self.check(sector, bytes.len())?;
        if self.read_only {
            return Err(DeviceError);
        }
        let mut at = sector;
        for chunk in bytes.chunks(SEGMENTS * PAGE_SIZE) {
            for (part, buffer) in chunk.chunks(PAGE_SIZE).zip(&mut self.buffers) {
                buffer.page.0[..part.len()].copy_from_slice(part);
            }
            let sectors = chunk.len() / SECTOR_SIZE;
            if self.request(BLKIF_OP_WRITE, at, sectors)? != BLKIF_RSP_OKAY {
                return Err(DeviceError);
            }
            at += sectors as u64;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        if !self.flush_cache {
            return Ok(());
        }
        match self.request(BLKIF_OP_FLUSH_DISKCACHE, 0, 0)? {
            BLKIF_RSP_OKAY => Ok(()),
            // The back end stopped offering flushes (its disk lost its cache): as without
            // the feature, completed writes are durable.
            BLKIF_RSP_EOPNOTSUPP => {
                self.flush_cache = false;
                Ok(())
            }
            _ => Err(DeviceError),
        }
    }
}

/// The files component's view: the domain's vbds, in virtual device order.
impl<B: XenBus + Clock + Console> DiskDriver<B> for Blkfront<B> {
    fn open(index: usize) -> Option<Self> {
        ProbeError::device_or_report::<B, _>(Blkfront::probe(index), "the Xen vbd")
    }
}
