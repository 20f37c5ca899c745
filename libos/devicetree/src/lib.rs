//! The questions the arm64 platforms ask of a flattened device tree, answered by walking
//! the blob's bytes.
//!
//! The tree comes from the loader (QEMU, Xen): its bytes are not trusted. Every answer is
//! bounded (at most [`MAX_RAM_REGIONS`] memory regions, [`MAX_VIRTIO_MMIO`] transports) and
//! an address range that would overflow is dropped, never wrapped. Where the blob lives and
//! how it is mapped is the arch layer's business (`unik-arch-aarch64`'s `devicetree`).
//!
//! The walk is this crate's own rather than a parser crate's because it runs in every
//! arm64 boot: it never panics on malformed bytes (the parser used before did on fuzzed
//! blobs) and never decodes names as UTF-8, so a boot path that only looks up devices
//! pulls in no panic or formatting code, which on a hello-world image is most of its size.
#![no_std]
#![forbid(unsafe_code)]

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
    word_at(header, offset).unwrap_or(0)
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

/// Nodes nested deeper than this end the walk (real trees are a handful deep).
pub const MAX_DEPTH: usize = 15;

/// Structure block tokens (the devicetree specification, "Lexical structure").
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;

/// One token of the structure block, with what it carries.
#[derive(Clone, Copy)]
enum Token<'a> {
    /// A node starts; its name (unit address included), without the NUL.
    Begin(&'a [u8]),
    /// A property: its name offset in the strings block, and its value.
    Property(u32, &'a [u8]),
    /// A node ends.
    End,
    /// The structure block ends.
    Finish,
}

/// The big-endian word at `at` in `bytes`. Never inlined: built for strict alignment (as
/// arm64 images are), each read is four byte loads and the shifts that join them.
#[inline(never)]
fn word_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(*bytes.get(at..)?.first_chunk::<4>()?))
}

/// The token at `at` in `structure` and where the next one starts; `None` for a token
/// that is malformed or runs past the block. NOPs are skipped.
fn token_at(structure: &[u8], mut at: usize) -> Option<(Token<'_>, usize)> {
    loop {
        let token = word_at(structure, at)?;
        at += 4;
        return Some(match token {
            BEGIN_NODE => {
                let rest = structure.get(at..)?;
                let length = rest.iter().position(|&byte| byte == 0)?;
                (Token::Begin(rest.get(..length)?), (at + length + 1).next_multiple_of(4))
            }
            END_NODE => (Token::End, at),
            PROP => {
                let length = word_at(structure, at)? as usize;
                let name = word_at(structure, at + 4)?;
                let value = structure.get(at + 8..(at + 8).checked_add(length)?)?;
                (Token::Property(name, value), (at + 8 + length).next_multiple_of(4))
            }
            NOP => continue,
            END => (Token::Finish, at),
            _ => return None,
        });
    }
}

/// The structure and strings blocks of a blob.
#[derive(Clone, Copy)]
struct Blob<'a> {
    structure: &'a [u8],
    strings: &'a [u8],
}

impl<'a> Blob<'a> {
    fn locate(bytes: &'a [u8]) -> Option<Blob<'a>> {
        let header = bytes.first_chunk::<HEADER_SIZE>()?;
        let field = |offset| header_word(header, offset) as usize;
        let block = |at: usize, size: usize| bytes.get(at..at.checked_add(size)?);
        Some(Blob {
            structure: block(field(8), field(36))?,
            strings: block(field(12), field(32))?,
        })
    }

    /// The NUL-terminated name at `offset` in the strings block.
    fn string(&self, offset: u32) -> &'a [u8] {
        let rest = self.strings.get(offset as usize..).unwrap_or_default();
        rest.split(|&byte| byte == 0).next().unwrap_or_default()
    }

    /// Every property in document order, with its node.
    fn properties(&self) -> Properties<'_, 'a> {
        Properties {
            blob: self,
            at: 0,
            depth: 0,
            cells: Cells::DEFAULT.pack(),
            node: None,
        }
    }
}

/// `#address-cells` and `#size-cells` a node gives its children's `reg`.
#[derive(Clone, Copy)]
struct Cells {
    address: u32,
    size: u32,
}

impl Cells {
    /// The devicetree specification's defaults.
    const DEFAULT: Cells = Cells { address: 2, size: 1 };

    /// Packed into 4 bits, 2 per count (a count above 2, which no `reg` is read with,
    /// becomes 3).
    fn pack(self) -> u64 {
        u64::from(self.address.min(3) << 2 | self.size.min(3))
    }

    fn unpack(bits: u64) -> Cells {
        Cells {
            address: (bits >> 2) as u32 & 3,
            size: bits as u32 & 3,
        }
    }
}

/// A node of the tree.
#[derive(Clone, Copy)]
struct Node<'t, 'a> {
    blob: &'t Blob<'a>,
    name: &'a [u8],
    /// 0 for the root, 1 for its children.
    depth: usize,
    /// Where its properties start in the structure block.
    properties_at: usize,
    /// The cells of its parent, which its `reg` is read with.
    reg_cells: Cells,
}

impl<'a> Node<'_, 'a> {
    /// The value of the node's property `name`.
    fn property(self, name: &str) -> Option<&'a [u8]> {
        let mut at = self.properties_at;
        loop {
            let (Token::Property(found, value), next) = token_at(self.blob.structure, at)? else {
                return None;
            };
            if is(self.blob.string(found), name) {
                return Some(value);
            }
            at = next;
        }
    }

    /// The node's name without its unit address.
    fn base_name(self) -> &'a [u8] {
        self.name.split(|&byte| byte == b'@').next().unwrap_or_default()
    }

    /// The regions of its `reg` (a size of 0 when the parent gives no size cells). Entries
    /// with more than two cells per number, or that would overflow, are dropped.
    fn reg(self) -> impl Iterator<Item = Region> {
        let Cells { address, size } = self.reg_cells;
        let (address, size) = (address as usize, size as usize);
        let entry = (address + size) * 4;
        let value = self.property("reg").filter(|_| address <= 2 && size <= 2 && entry > 0);
        value
            .unwrap_or_default()
            .chunks_exact(entry.max(1))
            .filter_map(move |cells| {
                let start = number(cells.get(..address * 4)?);
                let length = number(cells.get(address * 4..)?);
                Some(start..start.checked_add(length)?)
            })
    }

    /// The first `interrupts` entry of a node whose interrupt parent is a GIC: three
    /// cells, type (0 = shared, 1 = private), number, and flags (1 and 2 = edge).
    fn gic_interrupt(self) -> Option<Interrupt> {
        let cells = self.property("interrupts")?;
        let base = match word_at(cells, 0)? {
            0 => 32,
            1 => 16,
            _ => return None,
        };
        Some(Interrupt {
            id: word_at(cells, 4)?.checked_add(base)?,
            edge: word_at(cells, 8)? & 0b11 != 0,
        })
    }
}

/// A big-endian number of one or two cells (zero cells: 0).
fn number(cells: &[u8]) -> u64 {
    cells.iter().fold(0, |value, &byte| value << 8 | u64::from(byte))
}

/// The names a device may be compatible with: one name, or several separated by NUL as in
/// a device tree's string list (`"arm,armv8-timer\0arm,armv7-timer"`). A string rather
/// than a slice of names: a constant slice of `&str` is a table of pointers, which in a
/// position-independent image costs a dynamic relocation per name.
pub type Compatible<'n> = &'n str;

/// The NUL-separated strings of a string-list value.
fn string_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.strip_suffix(&[0]).unwrap_or(value).split(|&byte| byte == 0)
}

/// Whether the string list `value` holds one of `names` (see [`Compatible`]).
fn holds_one_of(value: &[u8], names: Compatible<'_>) -> bool {
    string_list(value).any(|entry| string_list(names.as_bytes()).any(|name| name == entry))
}

/// Whether `bytes` are `expected`. Never inlined: arm64 images are built for strict
/// alignment, where a comparison with a constant inlines as a load and compare per byte;
/// one call to `memcmp` per comparison is a fraction of that.
#[inline(never)]
fn is(bytes: &[u8], expected: &str) -> bool {
    bytes == expected.as_bytes()
}

/// The first string of a string-list value.
fn first_string(value: &[u8]) -> &[u8] {
    string_list(value).next().unwrap_or_default()
}

/// The properties of a sound structure block in document order, each with its node: one
/// pass over the tokens, which notes the `#address-cells` and `#size-cells` it passes so
/// that every node knows the cells its `reg` is read with.
struct Properties<'t, 'a> {
    blob: &'t Blob<'a>,
    at: usize,
    /// Nodes open: the current node's depth + 1.
    depth: usize,
    /// 4 bits per depth: at bit `4 * d`, the [`Cells`] the open node at depth `d - 1`
    /// gives its children (at 0, the root's own: the defaults).
    cells: u64,
    /// The node whose properties come next; `None` once a node closed (a property
    /// after a child node is malformed and ends the walk).
    node: Option<Node<'t, 'a>>,
}

impl<'t, 'a> Iterator for Properties<'t, 'a> {
    /// The node, the property's name and its value.
    type Item = (Node<'t, 'a>, &'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (token, next) = token_at(self.blob.structure, self.at)?;
            self.at = next;
            match token {
                Token::Begin(name) => {
                    if self.depth >= MAX_DEPTH {
                        return None;
                    }
                    self.node = Some(Node {
                        blob: self.blob,
                        name,
                        depth: self.depth,
                        properties_at: next,
                        reg_cells: Cells::unpack(self.cells >> (4 * self.depth)),
                    });
                    self.depth += 1;
                    let shift = 4 * self.depth;
                    self.cells = self.cells & !(0xf << shift) | Cells::DEFAULT.pack() << shift;
                }
                Token::Property(name, value) => {
                    let node = self.node?;
                    let name = self.blob.string(name);
                    let (field, bits) = if is(name, "#address-cells") {
                        (0b1100, 2)
                    } else if is(name, "#size-cells") {
                        (0b0011, 0)
                    } else {
                        (0, 0)
                    };
                    let count = u64::from(word_at(value, 0).unwrap_or(0).min(3));
                    let shift = 4 * self.depth;
                    self.cells = self.cells & !(field << shift) | (count << bits & field) << shift;
                    return Some((node, name, value));
                }
                Token::End => {
                    self.node = None;
                    self.depth = self.depth.checked_sub(1)?;
                }
                Token::Finish => return None,
            }
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

/// A device tree whose structure is sound.
pub struct DeviceTree<'a> {
    blob: Blob<'a>,
}

impl<'a> DeviceTree<'a> {
    /// Reads the blob `bytes` (which may run past its declared total size): `None` unless
    /// it starts with the magic and its structure and strings blocks lie within `bytes`.
    ///
    /// The structure is not checked up front: every walk stops at the first token that is
    /// malformed or runs past the block, or at nesting deeper than [`MAX_DEPTH`], so a
    /// damaged tree gives the answers found before the damage.
    pub fn parse(bytes: &'a [u8]) -> Option<DeviceTree<'a>> {
        declared_size(*bytes.first_chunk::<8>()?)?;
        Some(DeviceTree {
            blob: Blob::locate(bytes)?,
        })
    }

    fn properties(&self) -> Properties<'_, 'a> {
        self.blob.properties()
    }

    /// The first node compatible with one of `compatible`.
    fn find_compatible(&self, compatible: Compatible<'_>) -> Option<Node<'_, 'a>> {
        self.properties()
            .find(|&(_, name, value)| is(name, "compatible") && holds_one_of(value, compatible))
            .map(|(node, ..)| node)
    }

    /// The value of property `property` of the root's child named `node` (without unit
    /// address).
    fn top_level(&self, node: &str, property: &str) -> Option<&'a [u8]> {
        self.properties()
            .find(|(found, name, _)| found.depth == 1 && is(found.base_name(), node) && is(name, property))
            .map(|(.., value)| value)
    }

    /// RAM regions: the `reg` of every node whose `device_type` is `memory` (at most
    /// [`MAX_RAM_REGIONS`]).
    pub fn ram(&self) -> impl Iterator<Item = Region> + use<> {
        let mut found: [Option<Region>; MAX_RAM_REGIONS] = [const { None }; MAX_RAM_REGIONS];
        let regions = self
            .properties()
            .filter(|&(_, name, value)| is(name, "device_type") && is(first_string(value), "memory"))
            .flat_map(|(node, ..)| node.reg());
        for (slot, region) in found.iter_mut().zip(regions) {
            *slot = Some(region);
        }
        found.into_iter().flatten()
    }

    /// The boot command line (`/chosen/bootargs`; empty when there is none or it is not
    /// UTF-8).
    pub fn command_line(&self) -> &'a str {
        let bootargs = self.top_level("chosen", "bootargs").unwrap_or_default();
        core::str::from_utf8(first_string(bootargs)).unwrap_or("")
    }

    /// The initial ramdisk the loader placed (`/chosen`'s `linux,initrd-start` and
    /// `linux,initrd-end`, each one or two cells), if the tree names a non-empty one.
    pub fn initial_ramdisk(&self) -> Option<Region> {
        let number = |name: &str| -> Option<u64> {
            match self.top_level("chosen", name)? {
                [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d]).into()),
                value => Some(u64::from_be_bytes(*<&[u8; 8]>::try_from(value).ok()?)),
            }
        };
        let region = number("linux,initrd-start")?..number("linux,initrd-end")?;
        (region.start < region.end).then_some(region)
    }

    /// Region `index` of the `reg` of the first node compatible with one of `compatible`.
    pub fn nth_register_block(&self, compatible: Compatible<'_>, index: usize) -> Option<Region> {
        self.find_compatible(compatible)?.reg().nth(index)
    }

    /// The GIC interrupt ID of the EL1 virtual timer: the third `interrupts` entry of the
    /// `arm,armv8-timer` node (a private interrupt, so 16 + its number), if the tree says.
    pub fn virtual_timer_interrupt(&self) -> Option<u32> {
        let node = self.find_compatible("arm,armv8-timer\0arm,armv7-timer")?;
        // Each entry is three cells: type (1 = private), number, flags.
        word_at(node.property("interrupts")?, 2 * 12 + 4)?.checked_add(16)
    }

    /// Every `virtio,mmio` node: its registers and interrupt (at most [`MAX_VIRTIO_MMIO`]).
    pub fn virtio_mmio(&self) -> impl Iterator<Item = (MmioDevice, Interrupt)> + use<> {
        let mut found: [Option<(MmioDevice, Interrupt)>; MAX_VIRTIO_MMIO] = [const { None }; MAX_VIRTIO_MMIO];
        let devices = self
            .properties()
            .filter(|&(_, name, value)| is(name, "compatible") && holds_one_of(value, "virtio,mmio"))
            .filter_map(|(node, ..)| {
                let interrupt = node.gic_interrupt()?;
                let device = MmioDevice {
                    registers: node.reg().next()?,
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
        let node = self.find_compatible("xen,xen")?;
        Some(XenHypervisor {
            grant_frames: node.reg().next()?,
            event_interrupt: node.gic_interrupt()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;
    use vm_fdt::FdtWriter;

    /// A tree shaped like QEMU's `virt`: two memory nodes, bootargs, the timer, a PL011 and two virtio-mmio transports.
    fn virt_like() -> Vec<u8> {
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        fdt.property_u32("#address-cells", 2).unwrap();
        fdt.property_u32("#size-cells", 2).unwrap();
        let chosen = fdt.begin_node("chosen").unwrap();
        fdt.property_string("bootargs", "app \"two words\" unik.ip=10.0.2.15/24")
            .unwrap();
        fdt.property_u64("linux,initrd-start", 0x4800_0000).unwrap();
        fdt.property_u32("linux,initrd-end", 0x4800_0200).unwrap();
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
        assert_eq!(tree.initial_ramdisk(), Some(0x4800_0000..0x4800_0200));
        assert_eq!(tree.nth_register_block("arm,pl011", 0), Some(0x900_0000..0x900_1000));
        assert_eq!(tree.nth_register_block("arm,pl011", 1), None);
        assert_eq!(tree.virtual_timer_interrupt(), Some(27));
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
    fn reg_is_read_with_the_parents_cells() {
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        fdt.property_u32("#address-cells", 2).unwrap();
        fdt.property_u32("#size-cells", 2).unwrap();
        // A bus whose children use one cell each, and a grandchild bus with no size cells.
        let soc = fdt.begin_node("soc").unwrap();
        fdt.property_u32("#address-cells", 1).unwrap();
        fdt.property_u32("#size-cells", 1).unwrap();
        let rtc = fdt.begin_node("pl031@9010000").unwrap();
        fdt.property_string("compatible", "arm,pl031").unwrap();
        fdt.property_array_u32("reg", &[0x901_0000, 0x1000, 0x902_0000, 0x10])
            .unwrap();
        fdt.end_node(rtc).unwrap();
        let bus = fdt.begin_node("bus").unwrap();
        fdt.property_u32("#size-cells", 0).unwrap();
        let device = fdt.begin_node("device@4").unwrap();
        fdt.property_string("compatible", "test,no-size").unwrap();
        fdt.property_array_u32("reg", &[0, 4]).unwrap();
        fdt.end_node(device).unwrap();
        fdt.end_node(bus).unwrap();
        fdt.end_node(soc).unwrap();
        // Back at the root's cells after the bus closed.
        let uart = fdt.begin_node("pl011@9000000").unwrap();
        fdt.property_string("compatible", "arm,pl011").unwrap();
        fdt.property_array_u64("reg", &[0x900_0000, 0x1000]).unwrap();
        fdt.end_node(uart).unwrap();
        fdt.end_node(root).unwrap();
        let blob = fdt.finish().unwrap();
        let tree = DeviceTree::parse(&blob).unwrap();
        assert_eq!(tree.nth_register_block("arm,pl031", 0), Some(0x901_0000..0x901_1000));
        assert_eq!(tree.nth_register_block("arm,pl031", 1), Some(0x902_0000..0x902_0010));
        assert_eq!(tree.nth_register_block("arm,pl031", 2), None);
        // Two address cells (the bus's default), no size cells.
        assert_eq!(tree.nth_register_block("test,no-size", 0), Some(4..4));
        assert_eq!(tree.nth_register_block("arm,pl011", 0), Some(0x900_0000..0x900_1000));
        assert_eq!(tree.nth_register_block("arm,gic-v3", 0), None);
        // Several names, NUL-separated: any of them matches, whichever comes first.
        assert_eq!(
            tree.nth_register_block("arm,sbsa-uart\0arm,pl011", 0),
            Some(0x900_0000..0x900_1000)
        );
        assert_eq!(
            tree.nth_register_block("arm,pl031\0arm,pl011", 0),
            Some(0x901_0000..0x901_1000)
        );
        assert_eq!(
            tree.nth_register_block("arm,pl01\0rm,pl011", 0),
            None,
            "whole names only"
        );
    }

    /// A blob around the structure block `words` (names of nodes empty) and `strings`.
    fn raw_blob(words: &[u32], strings: &[u8]) -> Vec<u8> {
        let structure: Vec<u8> = words.iter().flat_map(|word| word.to_be_bytes()).collect();
        let (structure_at, strings_at) = (HEADER_SIZE + 16, HEADER_SIZE + 16 + structure.len());
        let total = strings_at + strings.len();
        let header = [
            MAGIC,
            total as u32,
            structure_at as u32,
            strings_at as u32,
            HEADER_SIZE as u32,
            17,
            16,
            0,
            strings.len() as u32,
            structure.len() as u32,
        ];
        let mut blob: Vec<u8> = header.iter().flat_map(|word| word.to_be_bytes()).collect();
        blob.extend([0; 16]);
        blob.extend(structure);
        blob.extend(strings);
        blob
    }

    #[test]
    fn a_damaged_tree_answers_from_before_the_damage() {
        // root { memory { device_type = "memory"; reg = <0 0x40000000 0x1000>; } <junk> }
        // (the root gives no cells: two address cells and one size cell)
        let mut words = std::vec![BEGIN_NODE, 0, BEGIN_NODE, 0, PROP, 7, 0];
        words.extend([u32::from_be_bytes(*b"memo"), u32::from_be_bytes(*b"ry\0\0")]);
        words.extend([PROP, 12, 12, 0, 0x4000_0000, 0x1000, END_NODE, 0xdead]);
        let strings = b"device_type\0reg\0";
        let tree_ram = |words: &[u32]| {
            let blob = raw_blob(words, strings);
            DeviceTree::parse(&blob)
                .unwrap()
                .ram()
                .map(|r| (r.start, r.end))
                .collect::<Vec<_>>()
        };
        assert_eq!(tree_ram(&words), [(0x4000_0000, 0x4000_1000)]);
        // The value cut off: no region, and no panic.
        assert_eq!(tree_ram(&words[..12]), []);
        // Nesting deeper than the walk follows ends it.
        let deep: Vec<u32> = (0..MAX_DEPTH + 2).flat_map(|_| [BEGIN_NODE, 0]).collect();
        assert_eq!(tree_ram(&deep), []);
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
    fn malformed_structures_give_no_answers_and_no_panic() {
        let sound = virt_like();
        let structure_at = u32::from_be_bytes(sound[8..12].try_into().unwrap()) as usize;
        // The root's BEGIN_NODE turned into END_NODE: a node closed that was never opened.
        let mut closed_first = sound.clone();
        closed_first[structure_at..structure_at + 4].copy_from_slice(&END_NODE.to_be_bytes());
        let tree = DeviceTree::parse(&closed_first).unwrap();
        assert_eq!(tree.ram().count(), 0);
        assert_eq!(tree.nth_register_block("arm,pl011", 0), None);
        // The inputs the `device-tree` fuzz target found panicking the parser used before.
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
        assert_eq!(tree.initial_ramdisk(), None);
        assert_eq!(tree.virtual_timer_interrupt(), None);
        assert_eq!(tree.virtio_mmio().count(), 0);
    }
}
