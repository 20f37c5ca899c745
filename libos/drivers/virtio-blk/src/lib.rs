//! A virtio-blk disk on a virtio-mmio transport, as a [`BlockDevice`]: reads, writes and
//! flush requests (`VIRTIO_BLK_F_FLUSH`, negotiated by virtio-drivers; a device without it
//! has no volatile cache, so its writes are durable once done), each waited for.
//!
//! Disks are numbered in the platform's transport order (QEMU's: the order of the
//! `-device` options), which is the order `unik run` gives the volumes in.
#![no_std]

use core::sync::atomic::{AtomicU32, Ordering};
use unik_driver_virtio::IdentityHal;
use unik_platform_api::block::{BlockDevice, DeviceError, DiskDriver, SECTOR_SIZE};
use unik_platform_api::{Devices, MmioDevice};
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::mmio::MmioTransport;

/// A virtio-blk disk.
pub struct VirtioBlk {
    device: VirtIOBlk<IdentityHal, MmioTransport<'static>>,
}

// SAFETY: the device's registers and queues are owned by this value alone (a disk is
// claimed once, see `probe`); the library OS runs on one CPU and the files component
// reaches a disk only under its lock.
unsafe impl Send for VirtioBlk {}

/// Disks already handed to a driver, one bit each (a device must never have two).
static CLAIMED: AtomicU32 = AtomicU32::new(0);

impl VirtioBlk {
    /// Block device `index` among `transports` (as `Devices::virtio_mmio` gives them),
    /// started; `None` if there is none, it fails to start, or it was already claimed.
    pub fn probe(transports: impl Iterator<Item = MmioDevice>, index: usize) -> Option<VirtioBlk> {
        let bit = 1u32.checked_shl(u32::try_from(index).ok()?)?;
        if CLAIMED.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return None;
        }
        let mut found = None;
        // SAFETY: `CLAIMED` keeps a second driver off disk `index`.
        let disks = unsafe { unik_driver_virtio::transports(transports, DeviceType::Block) };
        for (position, disk) in disks.enumerate() {
            if position == index {
                found = Some(disk);
                break;
            }
            // An earlier disk, perhaps already another volume's: dropping its transport
            // would reset it.
            core::mem::forget(disk);
        }
        let device = found.and_then(|(transport, _)| VirtIOBlk::new(transport).ok());
        if device.is_none() {
            CLAIMED.fetch_and(!bit, Ordering::AcqRel);
        }
        Some(VirtioBlk { device: device? })
    }
}

impl<P: Devices> DiskDriver<P> for VirtioBlk {
    fn open(index: usize) -> Option<VirtioBlk> {
        VirtioBlk::probe(P::virtio_mmio(), index)
    }
}

impl BlockDevice for VirtioBlk {
    fn sectors(&self) -> u64 {
        self.device.capacity()
    }

    fn read_only(&self) -> bool {
        self.device.readonly()
    }

    fn read(&mut self, sector: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        if buffer.is_empty() || !buffer.len().is_multiple_of(SECTOR_SIZE) {
            return Err(DeviceError);
        }
        let sector = usize::try_from(sector).map_err(|_| DeviceError)?;
        self.device.read_blocks(sector, buffer).map_err(|_| DeviceError)
    }

    fn write(&mut self, sector: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(SECTOR_SIZE) {
            return Err(DeviceError);
        }
        let sector = usize::try_from(sector).map_err(|_| DeviceError)?;
        self.device.write_blocks(sector, bytes).map_err(|_| DeviceError)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.device.flush().map_err(|_| DeviceError)
    }
}
