//! What the virtio drivers share: [`IdentityHal`], DMA for
//! [`virtio-drivers`](https://crates.io/crates/virtio-drivers) on the library OS's
//! identity-mapped memory, and [`transports`], the platform's virtio-mmio transports of one
//! device type.
//!
//! The library OS maps RAM and devices 1:1 and QEMU's devices are cache-coherent, so a
//! buffer's physical address is its address.
#![no_std]

extern crate alloc;

use alloc::alloc::{Layout, alloc_zeroed, dealloc};
use core::ptr::NonNull;
use unik_platform_api::MmioDevice;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PAGE_SIZE, PhysAddr};

/// DMA for virtio-drivers: page-aligned heap memory, addressed 1:1.
pub struct IdentityHal;

fn pages_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE).expect("a page-aligned layout")
}

// SAFETY: `dma_alloc` returns zeroed, page-aligned memory from the global allocator that
// nothing else aliases until `dma_dealloc`; addresses are physical because the library OS
// identity-maps RAM and device registers, and QEMU's DMA is coherent, so sharing needs no
// copy or mapping.
unsafe impl Hal for IdentityHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size.
        let memory = unsafe { alloc_zeroed(pages_layout(pages)) };
        let memory = NonNull::new(memory).unwrap_or_else(|| alloc::alloc::handle_alloc_error(pages_layout(pages)));
        (memory.as_ptr() as PhysAddr, memory)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: the caller passes back what `dma_alloc` returned for `pages`.
        unsafe { dealloc(vaddr.as_ptr(), pages_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).expect("device registers are not at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr().cast::<u8>() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// The transports among `devices` (as `Devices::virtio_mmio` gives them: mapped) with a
/// device of type `kind` behind them, in the platform's order, and the interrupt of each.
/// The others are only read (a dropped transport would reset its device).
///
/// # Safety
/// No other driver may use these devices: the caller claims them (drivers keep a flag of
/// what they took).
pub unsafe fn transports(
    devices: impl Iterator<Item = MmioDevice>,
    kind: DeviceType,
) -> impl Iterator<Item = (MmioTransport<'static>, u32)> {
    devices.filter_map(move |device| {
        let header = NonNull::new(device.registers.start as usize as *mut VirtIOHeader)?;
        let size = usize::try_from(device.registers.end - device.registers.start).ok()?;
        // SAFETY: the platform maps every transport it reports (`Devices::virtio_mmio`) for
        // as long as the image runs; the caller keeps other drivers off it.
        let transport = unsafe { MmioTransport::new(header, size) }.ok()?;
        if transport.device_type() != kind {
            // Dropping a transport resets its device, which may be another driver's
            // (a NIC probed for after the disk was started): leave it alone.
            core::mem::forget(transport);
            return None;
        }
        Some((transport, device.interrupt))
    })
}
