//! The questions the arm64 platforms ask of a flattened device tree, answered from the
//! blob's bytes with the `flat_device_tree` crate.
//!
//! The tree comes from the loader (QEMU, Xen): its bytes are not trusted. Every answer is
//! bounded (at most [`MAX_RAM_REGIONS`] memory regions, [`MAX_VIRTIO_MMIO`] transports) and
//! an address range that would overflow is dropped, never wrapped. Where the blob lives and
//! how it is mapped is the arch layer's business (`unik-arch-aarch64`'s `devicetree`).
#![no_std]
#![forbid(unsafe_code)]

use flat_device_tree::Fdt;
use flat_device_tree::node::FdtNode;
use unik_platform_api::MmioDevice;
use unik_platform_api::memory::Region;

/// The magic number a device tree blob starts with (big-endian).
pub const MAGIC: u32 = 0xd00d_feed;

/// Bytes of the header: ten big-endian words.
pub const HEADER_SIZE: usize = 40;

/// Memory regions beyond this many are ignored.
pub const MAX_RAM_REGIONS: usize = 8;

/// Virtio-mmio transports beyond this many are ignored (QEMU's `virt` has 32).
pub const MAX_VIRTIO_MMIO: usize = 64;

/// The header word at `offset`.
fn header_word(header: &[u8; HEADER_SIZE], offset: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&header[offset..offset + 4]);
    u32::from_be_bytes(word)
}

/// The total size a blob's header declares, if it starts with the magic.
pub fn declared_size(prefix: [u8; 8]) -> Option<u32> {
    let [m0, m1, m2, m3, s0, s1, s2, s3] = prefix;
    (u32::from_be_bytes([m0, m1, m2, m3]) == MAGIC).then_some(u32::from_be_bytes([s0, s1, s2, s3]))
}

/// Bytes of the blob its header, reserved-memory map, structure and strings occupy (QEMU
/// pads its tree to 1 MiB): the total size if the blocks are not in the usual order or
/// reach past it.
pub fn used_size(header: &[u8; HEADER_SIZE]) -> u64 {
    let field = |offset| u64::from(header_word(header, offset));
    let (total, structure, strings, reservations) = (field(4), field(8), field(12), field(16));
    let (strings_size, structure_size) = (field(32), field(36));
    if reservations < structure && structure <= strings {
        (strings + strings_size)
            .max(structure + structure_size)
            .next_multiple_of(8)
            .min(total)
    } else {
        total
    }
}

/// Nodes nested deeper than this make a tree unsound (the parser keeps 64 parents; real
/// trees are a handful deep).
pub const MAX_DEPTH: usize = 32;

/// Structure block tokens (the devicetree specification, "Lexical structure").
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;

/// Whether the blob's structure block is one well-formed tree: within the blob, a single
/// root node, every node closed, nesting at most [`MAX_DEPTH`], properties only inside
/// nodes with their values inside the block and their names inside the strings block,
/// and the end token last.
pub fn structure_is_sound(bytes: &[u8]) -> bool {
    let Some(header) = bytes.first_chunk::<HEADER_SIZE>() else {
        return false;
    };
    let field = |offset| header_word(header, offset) as usize;
    let (structure_at, structure_size, strings_size) = (field(8), field(36), field(32));
    let Some(structure) = bytes.get(structure_at..structure_at + structure_size) else {
        return false;
    };
    let word = |at: usize| Some(u32::from_be_bytes(*structure.get(at..)?.first_chunk::<4>()?));
    let padded = |end: usize| end.next_multiple_of(4);
    let (mut at, mut depth, mut roots) = (0usize, 0usize, 0u32);
    loop {
        let Some(token) = word(at) else {
            return false;
        };
        at += 4;
        match token {
            BEGIN_NODE => {
                let Some(name_length) = structure.get(at..).and_then(|rest| rest.iter().position(|&b| b == 0)) else {
                    return false;
                };
                at = padded(at + name_length + 1);
                roots += u32::from(depth == 0);
                depth += 1;
                if depth > MAX_DEPTH || roots > 1 {
                    return false;
                }
            }
            END_NODE if depth > 0 => depth -= 1,
            PROP if depth > 0 => {
                let (Some(length), Some(name_at)) = (word(at), word(at + 4)) else {
                    return false;
                };
                if name_at as usize >= strings_size {
                    return false;
                }
                at = padded(at + 8 + length as usize);
                if at > structure.len() {
                    return false;
                }
            }
            NOP => {}
            END => return depth == 0 && roots == 1,
            _ => return false,
        }
    }
}

/// A device interrupt from the tree: GIC interrupt ID, and whether it is edge-triggered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupt {
    /// The GIC interrupt ID (shared interrupts from 32, private ones from 16).
    pub id: u32,
    /// Edge-triggered (rather than level-sensitive).
    pub edge: bool,
}

/// A parsed device tree.
pub struct DeviceTree<'a> {
    tree: Fdt<'a>,
}

impl<'a> DeviceTree<'a> {
    /// Parses the blob `bytes` (which may run past its declared total size).
    ///
    /// The structure block is checked first (see [`structure_is_sound`]): the parser
    /// trusts it, and panics on some malformed trees.
    pub fn parse(bytes: &'a [u8]) -> Option<DeviceTree<'a>> {
        let tree = Fdt::new(bytes).ok()?;
        structure_is_sound(bytes).then_some(DeviceTree { tree })
    }

    /// RAM regions: the `reg` of every node whose `device_type` is `memory` (at most
    /// [`MAX_RAM_REGIONS`]).
    pub fn ram(&self) -> impl Iterator<Item = Region> + use<> {
        let mut found: [Option<Region>; MAX_RAM_REGIONS] = [const { None }; MAX_RAM_REGIONS];
        let regions = self
            .tree
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
        found.into_iter().flatten()
    }

    /// The boot command line (`/chosen/bootargs`; empty when there is none).
    pub fn command_line(&self) -> &'a str {
        self.tree
            .chosen()
            .ok()
            .and_then(|chosen| chosen.bootargs())
            .unwrap_or("")
    }

    /// Region `index` of the `reg` of the first node compatible with one of `compatible`.
    pub fn nth_register_block(&self, compatible: &[&str], index: usize) -> Option<Region> {
        let region = self.tree.find_compatible(compatible)?.reg().nth(index)?;
        let start = region.starting_address as u64;
        Some(start..start.checked_add(region.size.unwrap_or(0) as u64)?)
    }

    /// The GIC interrupt ID of the EL1 virtual timer: the third `interrupts` entry of the
    /// `arm,armv8-timer` node (a private interrupt, so 16 + its number), if the tree says.
    pub fn virtual_timer_interrupt(&self) -> Option<u32> {
        let node = self.tree.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
        let cells = node.property("interrupts")?.value;
        // Each entry is three cells: type (1 = private), number, flags.
        let number = cells.chunks_exact(12).nth(2)?.get(4..8)?.try_into().ok()?;
        u32::from_be_bytes(number).checked_add(16)
    }

    /// Whether PSCI calls go through `smc` (`/psci` `method`); `hvc` otherwise.
    pub fn psci_uses_smc(&self) -> bool {
        self.tree
            .find_node("/psci")
            .and_then(|node| node.property("method")?.as_str())
            .is_some_and(|method| method == "smc")
    }

    /// Every `virtio,mmio` node: its registers and interrupt (at most [`MAX_VIRTIO_MMIO`]).
    pub fn virtio_mmio(&self) -> impl Iterator<Item = (MmioDevice, Interrupt)> + use<> {
        let mut found: [Option<(MmioDevice, Interrupt)>; MAX_VIRTIO_MMIO] = [const { None }; MAX_VIRTIO_MMIO];
        let is_virtio_mmio = |node: &FdtNode<'_, '_>| {
            node.compatible()
                .is_some_and(|names| names.all().any(|name| name == "virtio,mmio"))
        };
        let devices = self.tree.all_nodes().filter(is_virtio_mmio).filter_map(|node| {
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
        found.into_iter().flatten()
    }
}

/// What a Xen guest's device tree says about the hypervisor (its `/hypervisor` node,
/// compatible `xen,xen`): where the guest maps grant-table frames, and the interrupt that
/// delivers event-channel upcalls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XenHypervisor {
    /// The guest-physical region reserved for grant-table frames (`reg`).
    pub grant_frames: Region,
    /// The event-channel upcall interrupt (a private one).
    pub event_interrupt: Interrupt,
}

impl DeviceTree<'_> {
    /// The `/hypervisor` node Xen's toolstack writes for a guest: `None` without one (a
    /// dom0less domU's tree has none).
    pub fn xen_hypervisor(&self) -> Option<XenHypervisor> {
        let node = self.tree.find_compatible(&["xen,xen"])?;
        let region = node.reg().next()?;
        let start = region.starting_address as u64;
        Some(XenHypervisor {
            grant_frames: start..start.checked_add(region.size? as u64)?,
            event_interrupt: gic_interrupt(node)?,
        })
    }
}

/// The first `interrupts` entry of a node whose interrupt parent is a GIC: three cells,
/// type (0 = shared, 1 = private), number, and flags (1 and 2 = edge).
fn gic_interrupt(node: FdtNode<'_, '_>) -> Option<Interrupt> {
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
        id: cell(1)?.checked_add(base)?,
        edge: cell(2)? & 0b11 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;
    use vm_fdt::FdtWriter;

    /// A tree shaped like QEMU's `virt`: two memory nodes, bootargs, a PSCI node, the
    /// timer, a PL011 and two virtio-mmio transports.
    fn virt_like() -> Vec<u8> {
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        fdt.property_u32("#address-cells", 2).unwrap();
        fdt.property_u32("#size-cells", 2).unwrap();
        let chosen = fdt.begin_node("chosen").unwrap();
        fdt.property_string("bootargs", "app \"two words\" unik.ip=10.0.2.15/24")
            .unwrap();
        fdt.end_node(chosen).unwrap();
        for (name, start, size) in [
            ("memory@40000000", 0x4000_0000u64, 0x400_0000u64),
            ("memory@80000000", 0x8000_0000, 0x1000_0000),
        ] {
            let memory = fdt.begin_node(name).unwrap();
            fdt.property_string("device_type", "memory").unwrap();
            fdt.property_array_u64("reg", &[start, size]).unwrap();
            fdt.end_node(memory).unwrap();
        }
        let psci = fdt.begin_node("psci").unwrap();
        fdt.property_string("method", "smc").unwrap();
        fdt.end_node(psci).unwrap();
        let timer = fdt.begin_node("timer").unwrap();
        fdt.property_string("compatible", "arm,armv8-timer").unwrap();
        fdt.property_array_u32("interrupts", &[1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4])
            .unwrap();
        fdt.end_node(timer).unwrap();
        let uart = fdt.begin_node("pl011@9000000").unwrap();
        fdt.property_string_list("compatible", std::vec!["arm,pl011".into(), "arm,primecell".into()])
            .unwrap();
        fdt.property_array_u64("reg", &[0x900_0000, 0x1000]).unwrap();
        fdt.end_node(uart).unwrap();
        // As Xen's toolstack writes it for a guest: grant-table region, event PPI 31.
        let hypervisor = fdt.begin_node("hypervisor").unwrap();
        fdt.property_string_list("compatible", std::vec!["xen,xen-4.17".into(), "xen,xen".into()])
            .unwrap();
        fdt.property_array_u64("reg", &[0x3800_0000, 0x100_0000]).unwrap();
        fdt.property_array_u32("interrupts", &[1, 15, 0xf08]).unwrap();
        fdt.end_node(hypervisor).unwrap();
        for (index, edge) in [(0u64, 1u32), (1, 4)] {
            let name = std::format!("virtio_mmio@{:x}", 0xa00_0000 + index * 0x200);
            let node = fdt.begin_node(&name).unwrap();
            fdt.property_string("compatible", "virtio,mmio").unwrap();
            fdt.property_array_u64("reg", &[0xa00_0000 + index * 0x200, 0x200])
                .unwrap();
            fdt.property_array_u32("interrupts", &[0, 16 + index as u32, edge])
                .unwrap();
            fdt.end_node(node).unwrap();
        }
        fdt.end_node(root).unwrap();
        fdt.finish().unwrap()
    }

    #[test]
    fn answers_the_platform_questions() {
        let blob = virt_like();
        let tree = DeviceTree::parse(&blob).unwrap();
        let ram: Vec<_> = tree.ram().collect();
        assert_eq!(ram, [0x4000_0000..0x4400_0000, 0x8000_0000..0x9000_0000]);
        assert_eq!(tree.command_line(), "app \"two words\" unik.ip=10.0.2.15/24");
        assert_eq!(tree.nth_register_block(&["arm,pl011"], 0), Some(0x900_0000..0x900_1000));
        assert_eq!(tree.nth_register_block(&["arm,pl011"], 1), None);
        assert_eq!(tree.virtual_timer_interrupt(), Some(27));
        assert!(tree.psci_uses_smc());
        let transports: Vec<_> = tree.virtio_mmio().collect();
        assert_eq!(transports.len(), 2);
        assert_eq!(transports[0].0.registers, 0xa00_0000..0xa00_0200);
        assert_eq!(transports[0].1, Interrupt { id: 48, edge: true });
        assert_eq!(transports[1].1, Interrupt { id: 49, edge: false });
        let xen = tree.xen_hypervisor().unwrap();
        assert_eq!(xen.grant_frames, 0x3800_0000..0x3900_0000);
        assert_eq!(xen.event_interrupt, Interrupt { id: 31, edge: false });
    }

    #[test]
    fn the_header_gives_magic_and_used_size() {
        let blob = virt_like();
        assert_eq!(declared_size(blob[..8].try_into().unwrap()), Some(blob.len() as u32));
        assert_eq!(declared_size([0; 8]), None);
        let header: &[u8; HEADER_SIZE] = blob[..HEADER_SIZE].try_into().unwrap();
        assert!(used_size(header) <= blob.len() as u64);
        // A header whose blocks claim to reach past the total is held to the total.
        let mut lying = *header;
        lying[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(used_size(&lying), blob.len() as u64);
    }

    #[test]
    fn unsound_structures_are_no_tree() {
        let sound = virt_like();
        assert!(structure_is_sound(&sound));
        let structure_at = u32::from_be_bytes(sound[8..12].try_into().unwrap()) as usize;
        // The root's BEGIN_NODE turned into END_NODE: a node closed that was never opened.
        let mut closed_first = sound.clone();
        closed_first[structure_at..structure_at + 4].copy_from_slice(&END_NODE.to_be_bytes());
        assert!(DeviceTree::parse(&closed_first).is_none());
        // The inputs the `device-tree` fuzz target found panicking the parser.
        let found = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/regressions/device-tree");
        for entry in std::fs::read_dir(found).unwrap() {
            let blob = std::fs::read(entry.unwrap().path()).unwrap();
            if let Some(tree) = DeviceTree::parse(&blob) {
                let _ = (tree.ram().count(), tree.command_line(), tree.virtio_mmio().count());
            }
        }
    }

    #[test]
    fn garbage_is_no_tree_and_a_tree_without_answers_gives_defaults() {
        assert!(DeviceTree::parse(&[0; 64]).is_none());
        assert!(DeviceTree::parse(&virt_like()[..100]).is_none());
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        fdt.end_node(root).unwrap();
        let blob = fdt.finish().unwrap();
        let tree = DeviceTree::parse(&blob).unwrap();
        assert_eq!(tree.ram().count(), 0);
        assert_eq!(tree.command_line(), "");
        assert_eq!(tree.virtual_timer_interrupt(), None);
        assert!(!tree.psci_uses_smc());
        assert_eq!(tree.virtio_mmio().count(), 0);
    }
}
