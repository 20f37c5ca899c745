//! Xen's PVH boot protocol (`xen/include/public/arch-x86/hvm/start_info.h`, `elfnote.h`).
//!
//! A PVH kernel is an ELF file with a `XEN_ELFNOTE_PHYS32_ENTRY` note; the loader (Xen or
//! QEMU's `pvh.bin`) enters it in 32-bit protected mode, paging off, with `%ebx` holding the
//! physical address of [`HvmStartInfo`].

/// Owner name of every Xen ELF note (stored with a terminating NUL).
pub const XEN_ELFNOTE_NAME: &[u8] = b"Xen";
/// Note type whose descriptor is the physical address of the 32-bit PVH entry point.
pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
/// Alignment the PT_NOTE segment must have: QEMU mis-pads the note name with 8.
pub const NOTE_SEGMENT_ALIGN: u64 = 4;

/// `XEN_HVM_START_MAGIC_VALUE`: "xEn3" with the 0x80 bit of the "E" set.
pub const XEN_HVM_START_MAGIC_VALUE: u32 = 0x336e_c578;

/// `struct hvm_start_info` (version 1 layout; version 0 ends before `memmap_paddr`).
///
/// Address fields that are 0 mean "not present".
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HvmStartInfo {
    /// Must be [`XEN_HVM_START_MAGIC_VALUE`].
    pub magic: u32,
    /// Structure version; `memmap_*` exist from version 1.
    pub version: u32,
    /// `SIF_*` flags.
    pub flags: u32,
    /// Number of entries at `modlist_paddr`.
    pub nr_modules: u32,
    /// Physical address of the module list.
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line.
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP.
    pub rsdp_paddr: u64,
    /// Physical address of the memory map (version ≥ 1).
    pub memmap_paddr: u64,
    /// Number of [`HvmMemmapTableEntry`] entries at `memmap_paddr` (version ≥ 1).
    pub memmap_entries: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Size of the version-1 start info structure in bytes.
pub const HVM_START_INFO_SIZE: usize = core::mem::size_of::<HvmStartInfo>();

/// `struct hvm_memmap_table_entry`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HvmMemmapTableEntry {
    /// Base physical address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// One of the `XEN_HVM_MEMMAP_TYPE_*` values.
    pub kind: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Memory map entry type for usable RAM.
pub const XEN_HVM_MEMMAP_TYPE_RAM: u32 = 1;

/// Size of one memory map entry in bytes.
pub const HVM_MEMMAP_ENTRY_SIZE: usize = core::mem::size_of::<HvmMemmapTableEntry>();

/// `struct hvm_modlist_entry`: a module the loader placed in memory (the first one is
/// the initial ramdisk: QEMU's `-initrd`, Xen's second multiboot module for a dom0, `xl`'s
/// `ramdisk`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HvmModlistEntry {
    /// Physical address of the module.
    pub paddr: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Physical address of its NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Reserved, zero.
    pub reserved: u64,
}

/// Size of one module list entry in bytes.
pub const HVM_MODLIST_ENTRY_SIZE: usize = core::mem::size_of::<HvmModlistEntry>();

/// The guest-physical memory a start info and what it points at are read from. The
/// loader's values are not trusted: a range outside readable memory is `None`.
pub trait PhysicalMemory<'a> {
    /// The `len` bytes at `address`, if all of them are readable memory.
    fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]>;
    /// The bytes from `address` up to the first NUL (without it), if readable.
    fn c_string(&self, address: u64) -> Option<&'a [u8]>;
}

/// What the loader's start info says, each address checked against readable memory.
#[derive(Clone, Copy, Debug)]
pub struct StartInfo<'a> {
    /// Physical address of the structure.
    pub address: u64,
    /// The structure's bytes (version 0: only the part before `memmap_paddr` is read).
    pub bytes: &'a [u8],
    /// The command line, without its NUL; empty if none was passed.
    pub command_line: &'a [u8],
    /// Physical address of the command line (0 if none).
    pub command_line_address: u64,
    /// The raw memory map: [`HVM_MEMMAP_ENTRY_SIZE`] bytes per entry; empty before version 1
    /// or if the map is not readable.
    pub memory_map: &'a [u8],
    /// Physical address of the memory map (0 if none).
    pub memory_map_address: u64,
    /// The first module's bytes (the initial ramdisk); empty if there is none or it is not
    /// readable.
    pub ramdisk: &'a [u8],
    /// Physical address of the first module (0 if none).
    pub ramdisk_address: u64,
    /// Physical address of the module list (0 if none).
    pub module_list_address: u64,
}

/// Little-endian word of `width` bytes at `offset` (zero past the end).
fn word(bytes: &[u8], offset: usize, width: usize) -> u64 {
    let mut buffer = [0u8; 8];
    if let Some(field) = bytes.get(offset..offset + width) {
        buffer[..width].copy_from_slice(field);
    }
    u64::from_le_bytes(buffer)
}

impl<'a> StartInfo<'a> {
    /// Reads the start info at `address` from `memory`: `None` without a readable structure
    /// carrying [`XEN_HVM_START_MAGIC_VALUE`]. A command line or memory map that is not
    /// readable is left empty.
    pub fn read(memory: &impl PhysicalMemory<'a>, address: u64) -> Option<StartInfo<'a>> {
        if address == 0 {
            return None;
        }
        let bytes = memory.bytes(address, HVM_START_INFO_SIZE)?;
        if word(bytes, 0, 4) != u64::from(XEN_HVM_START_MAGIC_VALUE) {
            return None;
        }
        let command_line_address = word(bytes, 24, 8);
        let command_line = match command_line_address {
            0 => None,
            at => memory.c_string(at),
        };
        let (memory_map_address, entries) = match word(bytes, 4, 4) {
            0 => (0, 0),
            _ => (word(bytes, 40, 8), word(bytes, 48, 4) as usize),
        };
        let memory_map = match memory_map_address {
            0 => None,
            at => entries
                .checked_mul(HVM_MEMMAP_ENTRY_SIZE)
                .and_then(|len| memory.bytes(at, len)),
        };
        let module_list_address = match word(bytes, 12, 4) {
            0 => 0,
            _ => word(bytes, 16, 8),
        };
        let first_module = match module_list_address {
            0 => None,
            at => memory.bytes(at, HVM_MODLIST_ENTRY_SIZE),
        };
        let ramdisk = first_module.and_then(|entry| {
            let (at, size) = (word(entry, 0, 8), usize::try_from(word(entry, 8, 8)).ok()?);
            Some((at, memory.bytes(at, size)?))
        });
        Some(StartInfo {
            address,
            bytes,
            ramdisk: ramdisk.map_or(&[], |(_, bytes)| bytes),
            ramdisk_address: ramdisk.map_or(0, |(at, _)| at),
            module_list_address: if first_module.is_some() { module_list_address } else { 0 },
            command_line: command_line.unwrap_or_default(),
            command_line_address: if command_line.is_some() {
                command_line_address
            } else {
                0
            },
            memory_map: memory_map.unwrap_or_default(),
            memory_map_address: if memory_map.is_some() { memory_map_address } else { 0 },
        })
    }

    /// The entries of the memory map.
    pub fn memory_map(&self) -> impl Iterator<Item = HvmMemmapTableEntry> + use<'a> {
        self.memory_map
            .chunks_exact(HVM_MEMMAP_ENTRY_SIZE)
            .map(|entry| HvmMemmapTableEntry {
                addr: word(entry, 0, 8),
                size: word(entry, 8, 8),
                kind: word(entry, 16, 4) as u32,
                reserved: word(entry, 20, 4) as u32,
            })
    }

    /// RAM regions from the memory map (an entry that would pass the end of the address
    /// space ends there).
    pub fn ram(&self) -> impl Iterator<Item = core::ops::Range<u64>> + use<'a> {
        self.memory_map()
            .filter(|entry| entry.kind == XEN_HVM_MEMMAP_TYPE_RAM)
            .map(|entry| entry.addr..entry.addr.saturating_add(entry.size))
    }

    /// The memory the structure, its memory map, its command line (with the NUL), the first
    /// module list entry and that module occupy.
    pub fn footprint(&self) -> [core::ops::Range<u64>; 5] {
        let span = |start: u64, len: usize| start..start.saturating_add(len as u64);
        let present = |start: u64, len: usize| if start == 0 { 0..0 } else { span(start, len) };
        [
            span(self.address, HVM_START_INFO_SIZE),
            span(self.memory_map_address, self.memory_map.len()),
            present(self.command_line_address, self.command_line.len() + 1),
            present(self.module_list_address, HVM_MODLIST_ENTRY_SIZE),
            present(self.ramdisk_address, self.ramdisk.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// Guest memory in a buffer that starts at physical address `base`.
    struct Window<'a> {
        base: u64,
        bytes: &'a [u8],
    }

    impl<'a> PhysicalMemory<'a> for Window<'a> {
        fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]> {
            let start = usize::try_from(address.checked_sub(self.base)?).ok()?;
            self.bytes.get(start..start.checked_add(len)?)
        }
        fn c_string(&self, address: u64) -> Option<&'a [u8]> {
            let rest = self
                .bytes(address, 0)
                .map(|_| &self.bytes[(address - self.base) as usize..])?;
            rest.iter().position(|&b| b == 0).map(|end| &rest[..end])
        }
    }

    fn start_info(version: u32, cmdline: u64, memmap: u64, entries: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(XEN_HVM_START_MAGIC_VALUE.to_le_bytes());
        bytes.extend(version.to_le_bytes());
        bytes.extend([0; 16]);
        bytes.extend(cmdline.to_le_bytes());
        bytes.extend([0; 8]);
        bytes.extend(memmap.to_le_bytes());
        bytes.extend(entries.to_le_bytes());
        bytes.extend([0; 4]);
        bytes
    }

    #[test]
    fn reads_what_the_loader_left() {
        const BASE: u64 = 0x1000;
        let mut memory = start_info(1, BASE + 0x100, BASE + 0x80, 2);
        memory.resize(0x80, 0);
        for (addr, size, kind) in [(0u64, 0x9fc00u64, 1u32), (0x10_0000, u64::MAX, 1)] {
            memory.extend(addr.to_le_bytes());
            memory.extend(size.to_le_bytes());
            memory.extend(kind.to_le_bytes());
            memory.extend([0; 4]);
        }
        memory.resize(0x100, 0);
        memory.extend(b"app -v\0");
        let window = Window {
            base: BASE,
            bytes: &memory,
        };
        let info = StartInfo::read(&window, BASE).unwrap();
        assert_eq!(info.command_line, b"app -v");
        let ram: Vec<_> = info.ram().collect();
        assert_eq!(ram, [0..0x9fc00, 0x10_0000..u64::MAX]);
        assert_eq!(
            info.footprint(),
            [
                BASE..BASE + 56,
                BASE + 0x80..BASE + 0xb0,
                BASE + 0x100..BASE + 0x107,
                0..0,
                0..0
            ]
        );
        assert!(info.ramdisk.is_empty());
    }

    #[test]
    fn the_first_module_is_the_ramdisk() {
        const BASE: u64 = 0x1000;
        let mut memory = start_info(1, 0, 0, 0);
        memory[12..16].copy_from_slice(&2u32.to_le_bytes());
        memory[16..24].copy_from_slice(&(BASE + 0x40).to_le_bytes());
        memory.resize(0x40, 0);
        for (at, size) in [(BASE + 0x100, 5u64), (BASE + 0x200, 1)] {
            memory.extend(at.to_le_bytes());
            memory.extend(size.to_le_bytes());
            memory.extend([0; 16]);
        }
        memory.resize(0x100, 0);
        memory.extend(b"07070");
        let window = Window {
            base: BASE,
            bytes: &memory,
        };
        let info = StartInfo::read(&window, BASE).unwrap();
        assert_eq!(info.ramdisk, b"07070");
        assert_eq!(
            info.footprint()[3..],
            [BASE + 0x40..BASE + 0x60, BASE + 0x100..BASE + 0x105]
        );
        // A module past readable memory is no ramdisk.
        memory[0x48..0x50].copy_from_slice(&0x1000u64.to_le_bytes());
        let window = Window {
            base: BASE,
            bytes: &memory,
        };
        let info = StartInfo::read(&window, BASE).unwrap();
        assert!(info.ramdisk.is_empty());
        assert_eq!(info.footprint()[4], 0..0);
    }

    #[test]
    fn what_is_not_readable_is_left_out() {
        const BASE: u64 = 0x1000;
        // Version 0: no memory map even if the bytes after the structure look like one.
        let memory = start_info(0, 0, BASE, 1);
        let window = Window {
            base: BASE,
            bytes: &memory,
        };
        let info = StartInfo::read(&window, BASE).unwrap();
        assert_eq!((info.command_line, info.ram().count()), (&b""[..], 0));
        // A map and command line outside memory, and a count that overflows.
        let memory = start_info(1, 0xdead_0000, BASE + 8, u32::MAX);
        let window = Window {
            base: BASE,
            bytes: &memory,
        };
        let info = StartInfo::read(&window, BASE).unwrap();
        assert_eq!(info.footprint()[1..], [0..0, 0..0, 0..0, 0..0]);
        // No magic, or a structure cut short: no start info.
        assert!(StartInfo::read(&window, BASE + 4).is_none());
        assert!(
            StartInfo::read(
                &Window {
                    base: BASE,
                    bytes: &memory[..40]
                },
                BASE
            )
            .is_none()
        );
        assert!(StartInfo::read(&window, 0).is_none());
    }

    #[test]
    fn layouts_match_the_xen_header() {
        assert_eq!(HVM_START_INFO_SIZE, 56);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, cmdline_paddr), 24);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, memmap_paddr), 40);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, memmap_entries), 48);
        assert_eq!(core::mem::size_of::<HvmMemmapTableEntry>(), 24);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, nr_modules), 12);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, modlist_paddr), 16);
        assert_eq!(HVM_MODLIST_ENTRY_SIZE, 32);
    }
}
