//! The device tree the loader passed in x0: where it is (moved past the image before a
//! heap takes RAM), and the platforms' questions answered by `unik-devicetree` over its
//! bytes. The blob is never written otherwise (the heap is carved around it) and is
//! parsed again on each question: questions are rare.

use core::sync::atomic::{AtomicU64, Ordering};
use unik_devicetree::{Compatible, DeviceTree, Interrupt, XenHypervisor};
use unik_platform_api::MmioDevice;
use unik_platform_api::memory::Region;

static DTB: AtomicU64 = AtomicU64::new(0);

/// Records the device tree the loader passed at `address`. Runs with the MMU off, before
/// anything else reads the tree.
pub(crate) fn record(address: u64) {
    DTB.store(address, Ordering::Relaxed);
}

/// Moves the device tree to just past the image, once, before the heap takes RAM: loaders
/// put it in the middle of RAM (QEMU: at RAM + half its size), which would split the
/// heap's RAM in two; past the image it costs the heap nothing. Only images with a heap
/// call this (through [`crate::boot::free_memory`]), so the others carry none of it.
pub(crate) fn move_past_image() {
    let address = DTB.load(Ordering::Relaxed);
    let blob = blob();
    if blob.is_empty() {
        return;
    }
    let destination = crate::mmu::image().end;
    let used = used_size(address).min(blob.end - blob.start);
    if destination == address || used < unik_devicetree::HEADER_SIZE as u64 {
        return;
    }
    // A loader may have put the initial ramdisk right after the image: then the tree stays.
    let ramdisk = initial_ramdisk();
    if ramdisk.start < destination + used && destination < ramdisk.end {
        return;
    }
    if !crate::mmu::map_memory(destination..destination + used) {
        return;
    }
    // SAFETY: the loader's blob spans `used` bytes at `address`, mapped since boot; the
    // RAM past the image is free (loaders keep the image's `image_size` for it and put
    // nothing there), mapped just above. Both ends are 8-byte aligned.
    unsafe {
        move_words(address, destination, used.div_ceil(8));
        // The copy holds only the used part: its total size says so.
        ((destination + 4) as *mut [u8; 4]).write((used as u32).to_be_bytes());
    }
    DTB.store(destination, Ordering::Relaxed);
}

/// Copies `words` 8-byte words from `from` to `to`, in the direction that makes an overlap
/// harmless. Volatile, so the compiler keeps this loop rather than calling `memmove`,
/// which a hello-world image would otherwise carry for this one copy.
///
/// # Safety
/// Both ranges must be 8-byte aligned memory, readable and writable respectively.
unsafe fn move_words(from: u64, to: u64, words: u64) {
    let (from, to) = (from as *const u64, to as *mut u64);
    let word = |index: u64| {
        // SAFETY: the caller's contract; `index < words`.
        unsafe {
            to.add(index as usize)
                .write_volatile(from.add(index as usize).read_volatile())
        }
    };
    if (to as u64) < from as u64 {
        (0..words).for_each(word);
    } else {
        (0..words).rev().for_each(word);
    }
}

/// Bytes of the blob at `address` its header, reserved-memory map, structure and strings
/// occupy.
fn used_size(address: u64) -> u64 {
    // SAFETY: `blob` checked the magic: a header of ten big-endian words is there.
    let header = unsafe { (address as *const [u8; unik_devicetree::HEADER_SIZE]).read() };
    unik_devicetree::used_size(&header)
}

/// Size of the header fields read before the blob is trusted: magic and total size.
const HEADER_PREFIX: usize = 8;

/// The memory the device tree blob occupies (empty if the loader passed none).
///
/// Reads only the header, without the parser: the boot path maps the blob with this.
pub fn blob() -> Region {
    let address = DTB.load(Ordering::Relaxed);
    if address == 0 || !address.is_multiple_of(8) {
        return 0..0;
    }
    // SAFETY: the loader passed the blob's address; its first 8 bytes are the magic and
    // the total size, big-endian. The memory is RAM (mapped, or MMU off).
    let prefix = unsafe { (address as *const [u8; HEADER_PREFIX]).read() };
    match unik_devicetree::declared_size(prefix) {
        Some(size) => address..address.saturating_add(u64::from(size)),
        None => 0..0,
    }
}

/// The parsed device tree, if the loader passed a valid one.
pub fn tree() -> Option<DeviceTree<'static>> {
    let blob = blob();
    if blob.is_empty() {
        return None;
    }
    // SAFETY: `blob` found a device tree header at this address declaring its size; the
    // blob is never written (the heap is carved around it) and stays mapped.
    let bytes = unsafe { core::slice::from_raw_parts(blob.start as *const u8, (blob.end - blob.start) as usize) };
    DeviceTree::parse(bytes)
}

/// RAM regions (see [`DeviceTree::ram`]).
pub fn ram() -> impl Iterator<Item = Region> {
    tree().into_iter().flat_map(|tree| tree.ram())
}

/// The boot command line (`/chosen/bootargs`; empty when there is none).
pub fn command_line() -> &'static str {
    tree().map_or("", |tree| tree.command_line())
}

/// Where the loader put the initial ramdisk (empty if it put none).
pub fn initial_ramdisk() -> Region {
    tree().and_then(|tree| tree.initial_ramdisk()).unwrap_or(0..0)
}

/// The first `reg` region of the first node compatible with one of `compatible`.
pub fn device(compatible: Compatible<'_>) -> Option<Region> {
    nth_register_block(compatible, 0)
}

/// Region `index` of the `reg` of the first node compatible with one of `compatible`.
pub fn nth_register_block(compatible: Compatible<'_>, index: usize) -> Option<Region> {
    tree()?.nth_register_block(compatible, index)
}

/// The GIC interrupt ID of the EL1 virtual timer; 27, the architected one, when the tree
/// does not say.
pub fn virtual_timer_interrupt() -> u32 {
    const ARCHITECTED_DEFAULT: u32 = 27;
    tree()
        .and_then(|tree| tree.virtual_timer_interrupt())
        .unwrap_or(ARCHITECTED_DEFAULT)
}

/// The `/hypervisor` node of a Xen guest (see [`DeviceTree::xen_hypervisor`]).
pub fn xen_hypervisor() -> Option<XenHypervisor> {
    tree()?.xen_hypervisor()
}

/// Every `virtio,mmio` node: its registers and interrupt (see [`DeviceTree::virtio_mmio`]).
pub fn virtio_mmio() -> impl Iterator<Item = (MmioDevice, Interrupt)> {
    tree().into_iter().flat_map(|tree| tree.virtio_mmio())
}

/// The trigger of shared interrupt `id` as the device tree's virtio-mmio nodes give it
/// (edge when no node names it: QEMU's `virt` wires virtio-mmio edge-triggered).
pub fn virtio_mmio_interrupt_is_edge(id: u32) -> bool {
    virtio_mmio()
        .find(|(device, _)| device.interrupt == id)
        .is_none_or(|(_, interrupt)| interrupt.edge)
}
