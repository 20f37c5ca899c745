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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_xen_header() {
        assert_eq!(HVM_START_INFO_SIZE, 56);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, cmdline_paddr), 24);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, memmap_paddr), 40);
        assert_eq!(core::mem::offset_of!(HvmStartInfo, memmap_entries), 48);
        assert_eq!(core::mem::size_of::<HvmMemmapTableEntry>(), 24);
    }
}
