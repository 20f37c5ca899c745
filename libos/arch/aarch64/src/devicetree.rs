//! The device tree the loader passed in x0: memory, command line and devices, read with
//! the `flat_device_tree` crate. The blob stays where the loader put it (the heap is
//! carved around it) and is parsed again on each question: questions are rare.

use core::sync::atomic::{AtomicU64, Ordering};
use flat_device_tree::Fdt;
use unik_platform_api::MmioDevice;
use unik_platform_api::memory::Region;

static DTB: AtomicU64 = AtomicU64::new(0);

/// Records the device tree the loader passed at `address`, first moving it to just past
/// the image. Loaders put it in the middle of RAM (QEMU: at RAM + half its size), which
/// would split the heap's RAM in two; past the image it costs the heap nothing.
///
/// Runs with the MMU off, before anything else reads the tree.
pub(crate) fn record(address: u64) {
    DTB.store(address, Ordering::Relaxed);
    let blob = blob();
    if blob.is_empty() {
        return;
    }
    let destination = crate::mmu::image().end;
    let used = used_size(address).min(blob.end - blob.start);
    if destination == address || used < HEADER_PREFIX as u64 {
        return;
    }
    // SAFETY: the loader's blob spans `used` bytes at `address`; the RAM past the image is
    // free (loaders keep the image's `image_size` for it and put nothing there); `copy`
    // handles an overlap. With the MMU off this is plain memory, 8-byte aligned.
    unsafe {
        core::ptr::copy(address as *const u8, destination as *mut u8, used as usize);
        // The copy holds only the used part: its total size says so.
        ((destination + 4) as *mut [u8; 4]).write((used as u32).to_be_bytes());
    }
    DTB.store(destination, Ordering::Relaxed);
}

/// Bytes of the blob at `address` its header, reserved-memory map, structure and strings
/// occupy (QEMU pads its tree to 1 MiB); the total size if the blocks are not in the usual
/// order.
fn used_size(address: u64) -> u64 {
    let field = |offset: u64| {
        // SAFETY: `blob` checked the magic: a header of ten big-endian words is there.
        u64::from(u32::from_be_bytes(unsafe {
            ((address + offset) as *const [u8; 4]).read()
        }))
    };
    let (total, structure, strings, reservations) = (field(4), field(8), field(12), field(16));
    let (strings_size, structure_size) = (field(32), field(36));
    if reservations < structure && structure <= strings {
        (strings + strings_size)
            .max(structure + structure_size)
            .next_multiple_of(8)
    } else {
        total
    }
}

/// Size of the header fields read before the blob is trusted: magic and total size.
const HEADER_PREFIX: usize = 8;
const FDT_MAGIC: u32 = 0xd00d_feed;

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
    let [m0, m1, m2, m3, s0, s1, s2, s3] = prefix;
    if u32::from_be_bytes([m0, m1, m2, m3]) != FDT_MAGIC {
        return 0..0;
    }
    address..address + u64::from(u32::from_be_bytes([s0, s1, s2, s3]))
}

/// The parsed device tree, if the loader passed a valid one.
pub fn tree() -> Option<Fdt<'static>> {
    let blob = blob();
    if blob.is_empty() {
        return None;
    }
    // SAFETY: `blob` found a device tree header at this address; the blob is never
    // written (the heap is carved around it) and stays mapped.
    unsafe { Fdt::from_ptr(blob.start as *const u8) }.ok()
}

/// RAM regions: the `reg` of every node whose `device_type` is `memory` (at most
/// [`MAX_RAM_REGIONS`]).
pub fn ram() -> impl Iterator<Item = Region> {
    let mut found: [Option<Region>; MAX_RAM_REGIONS] = [const { None }; MAX_RAM_REGIONS];
    if let Some(tree) = tree() {
        let regions = tree
            .all_nodes()
            .filter(|node| node.property("device_type").and_then(|p| p.as_str()) == Some("memory"))
            .flat_map(|node| node.reg())
            .filter_map(|region| {
                let start = region.starting_address as u64;
                Some(start..start.checked_add(region.size? as u64)?)
            });
        for (slot, region) in found.iter_mut().zip(regions) {
            *slot = Some(region);
        }
    }
    found.into_iter().flatten()
}

/// Memory regions beyond this many are ignored.
pub const MAX_RAM_REGIONS: usize = 8;

/// The boot command line (`/chosen/bootargs`; empty when there is none).
pub fn command_line() -> &'static str {
    tree().and_then(|tree| tree.chosen().ok()?.bootargs()).unwrap_or("")
}

/// The first `reg` region of the first node compatible with one of `compatible`.
pub fn device(compatible: &[&str]) -> Option<Region> {
    nth_register_block(compatible, 0)
}

/// Region `index` of the `reg` of the first node compatible with one of `compatible`.
pub fn nth_register_block(compatible: &[&str], index: usize) -> Option<Region> {
    let tree = tree()?;
    let region = tree.find_compatible(compatible)?.reg().nth(index)?;
    let start = region.starting_address as u64;
    Some(start..start + region.size.unwrap_or(0) as u64)
}

/// The GIC interrupt ID of the EL1 virtual timer: the third `interrupts` entry of the
/// `arm,armv8-timer` node (a PPI, so 16 + its number). 27 when the tree does not say.
pub fn virtual_timer_interrupt() -> u32 {
    const ARCHITECTED_DEFAULT: u32 = 27;
    let from_tree = || {
        let tree = tree()?;
        let node = tree.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
        let cells = node.property("interrupts")?.value;
        // Each entry is three cells: type (1 = PPI), number, flags.
        let number = cells.chunks_exact(12).nth(2)?.get(4..8)?.try_into().ok()?;
        let number = u32::from_be_bytes(number);
        Some(number + 16)
    };
    from_tree().unwrap_or(ARCHITECTED_DEFAULT)
}

/// Whether PSCI calls go through `smc` (`/psci` `method`); `hvc` otherwise.
pub fn psci_uses_smc() -> bool {
    tree()
        .and_then(|tree| {
            tree.find_node("/psci")?
                .property("method")?
                .as_str()
                .map(|m| m == "smc")
        })
        .unwrap_or(false)
}

/// Virtio-mmio transports beyond this many are ignored (QEMU's `virt` has 32).
pub const MAX_VIRTIO_MMIO: usize = 64;

/// A device interrupt from the tree: GIC interrupt ID, and whether it is edge-triggered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupt {
    /// The GIC interrupt ID (shared interrupts from 32, private ones from 16).
    pub id: u32,
    /// Edge-triggered (rather than level-sensitive).
    pub edge: bool,
}

/// The first `interrupts` entry of a node whose interrupt parent is a GIC: three cells,
/// type (0 = shared, 1 = private), number, and flags (1 and 2 = edge).
fn gic_interrupt(node: flat_device_tree::node::FdtNode<'_, '_>) -> Option<Interrupt> {
    let cells = node.property("interrupts")?.value;
    let cell = |index: usize| -> Option<u32> {
        Some(u32::from_be_bytes(
            cells.get(index * 4..index * 4 + 4)?.try_into().ok()?,
        ))
    };
    let base = match cell(0)? {
        0 => 32,
        1 => 16,
        _ => return None,
    };
    Some(Interrupt {
        id: base + cell(1)?,
        edge: cell(2)? & 0b11 != 0,
    })
}

/// Every `virtio,mmio` node: its registers and interrupt (at most [`MAX_VIRTIO_MMIO`]).
pub fn virtio_mmio() -> impl Iterator<Item = (MmioDevice, Interrupt)> {
    let mut found: [Option<(MmioDevice, Interrupt)>; MAX_VIRTIO_MMIO] = [const { None }; MAX_VIRTIO_MMIO];
    if let Some(tree) = tree() {
        let is_virtio_mmio = |node: &flat_device_tree::node::FdtNode<'_, '_>| {
            node.compatible()
                .is_some_and(|names| names.all().any(|name| name == "virtio,mmio"))
        };
        let devices = tree.all_nodes().filter(is_virtio_mmio).filter_map(|node| {
            let region = node.reg().next()?;
            let start = region.starting_address as u64;
            let interrupt = gic_interrupt(node)?;
            let device = MmioDevice {
                registers: start..start.checked_add(region.size? as u64)?,
                interrupt: interrupt.id,
            };
            Some((device, interrupt))
        });
        for (slot, device) in found.iter_mut().zip(devices) {
            *slot = Some(device);
        }
    }
    found.into_iter().flatten()
}

/// The trigger of shared interrupt `id` as the device tree's virtio-mmio nodes give it
/// (edge when no node names it: QEMU's `virt` wires virtio-mmio edge-triggered).
pub fn virtio_mmio_interrupt_is_edge(id: u32) -> bool {
    virtio_mmio()
        .find(|(device, _)| device.interrupt == id)
        .is_none_or(|(_, interrupt)| interrupt.edge)
}
