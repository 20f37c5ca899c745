//! Block devices, as file systems use them and disk drivers provide them.

/// Bytes per sector of a [`BlockDevice`].
pub const SECTOR_SIZE: usize = 512;

/// The device failed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceError;

/// A block device: 512-byte sectors, and a flush that makes completed writes durable.
pub trait BlockDevice {
    /// The device's size in sectors.
    fn sectors(&self) -> u64;
    /// Whether writes are refused.
    fn read_only(&self) -> bool;
    /// Reads whole sectors from `sector` into `buffer` (a multiple of [`SECTOR_SIZE`]).
    fn read(&mut self, sector: u64, buffer: &mut [u8]) -> Result<(), DeviceError>;
    /// Writes whole sectors from `bytes` at `sector`.
    fn write(&mut self, sector: u64, bytes: &[u8]) -> Result<(), DeviceError>;
    /// Makes every completed write durable (a flush request to the device).
    fn flush(&mut self) -> Result<(), DeviceError>;
}

/// A disk driver, as the files component sees the disks its platform names
/// (`unik_platform::Disk`): found through the platform `P`.
pub trait DiskDriver<P>: BlockDevice + Sized + Send {
    /// The VM's disk `index` (0 first, in the order the VM's configuration lists them);
    /// `None` when there is no such disk or it cannot be started.
    fn open(index: usize) -> Option<Self>;
}

/// The disk driver of a platform that has none: it finds no disk.
pub enum NoDisk {}

impl BlockDevice for NoDisk {
    fn sectors(&self) -> u64 {
        match *self {}
    }

    fn read_only(&self) -> bool {
        match *self {}
    }

    fn read(&mut self, _sector: u64, _buffer: &mut [u8]) -> Result<(), DeviceError> {
        match *self {}
    }

    fn write(&mut self, _sector: u64, _bytes: &[u8]) -> Result<(), DeviceError> {
        match *self {}
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        match *self {}
    }
}

impl<P> DiskDriver<P> for NoDisk {
    fn open(_index: usize) -> Option<NoDisk> {
        None
    }
}
