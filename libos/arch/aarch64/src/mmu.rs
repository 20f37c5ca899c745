//! Page tables and the MMU: an identity map (virtual = physical) with a 4 KiB granule and
//! 48-bit addresses, held in the image's bss.
//!
//! At boot the image gets 4 KiB pages with its sections' permissions (text read-only and
//! executable, rodata read-only, data, bss and stack writable and never executable) and the
//! page below the stack stays unmapped (the guard); the rest of the 2 MiB blocks around it
//! and the device tree are RAM (normal, cacheable, never executable). Nothing else is mapped
//! at boot, so address 0 faults. RAM for the heap ([`map_ram`]) and device registers
//! ([`map_device`]) are added in 2 MiB blocks when first needed; [`set_guard_page`] later
//! unmaps single heap pages (thread stacks' guards), splitting their block into pages.

use core::arch::asm;
use core::ptr::{addr_of, addr_of_mut};
use unik_platform_api::memory::Region;

const PAGE: u64 = 4096;
const BLOCK: u64 = 2 << 20;
const GIB: u64 = 1 << 30;
const ENTRIES: usize = 512;

const VALID: u64 = 1;
/// In a level 0-2 entry: points to a table (else a block). In a level 3 entry: a page.
const TABLE_OR_PAGE: u64 = 1 << 1;
const ATTR_INDEX_SHIFT: u64 = 2;
const ATTR_NORMAL: u64 = 0;
const ATTR_DEVICE: u64 = 1;
const READ_ONLY: u64 = 1 << 7;
const INNER_SHAREABLE: u64 = 3 << 8;
const ACCESSED: u64 = 1 << 10;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;

/// MAIR_EL1: attribute 0 = normal write-back cacheable memory, 1 = Device-nGnRE.
const MAIR: u64 = 0xff | (0x04 << 8);

/// What a mapping holds, which decides its attributes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Text,
    ReadOnly,
    ReadWrite,
    Device,
}

fn attributes(kind: Kind) -> u64 {
    let never_user = ACCESSED | UNPRIVILEGED_EXECUTE_NEVER;
    let normal = never_user | (ATTR_NORMAL << ATTR_INDEX_SHIFT) | INNER_SHAREABLE;
    match kind {
        Kind::Text => normal | READ_ONLY,
        Kind::ReadOnly => normal | READ_ONLY | PRIVILEGED_EXECUTE_NEVER,
        Kind::ReadWrite => normal | PRIVILEGED_EXECUTE_NEVER,
        Kind::Device => never_user | (ATTR_DEVICE << ATTR_INDEX_SHIFT) | PRIVILEGED_EXECUTE_NEVER,
    }
}

#[repr(C, align(4096))]
struct Table([u64; ENTRIES]);

/// Level-2 tables (1 GiB each): devices below RAM, and up to three GiB of RAM.
const L2_TABLES: usize = 4;
/// Level-3 tables (2 MiB each) for the image; the linker script keeps the image small
/// enough that its blocks never need more.
const L3_TABLES: usize = 4;

struct Tables {
    l0: Table,
    l1: Table,
    l2: [Table; L2_TABLES],
    l3: [Table; L3_TABLES],
    l2_used: usize,
    l3_used: usize,
}

/// Zero-initialised, so in bss: costs no file bytes. Single CPU, interrupts never taken:
/// only the functions of this module touch it, one at a time.
static mut TABLES: Tables = Tables {
    l0: Table([0; ENTRIES]),
    l1: Table([0; ENTRIES]),
    l2: [const { Table([0; ENTRIES]) }; L2_TABLES],
    l3: [const { Table([0; ENTRIES]) }; L3_TABLES],
    l2_used: 0,
    l3_used: 0,
};

unsafe extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __stack_guard: u8;
    static __image_end: u8;
}

/// The memory the image occupies: code, data, bss, stack guard and stack.
pub fn image() -> Region {
    symbol_address!(__image_start)..symbol_address!(__image_end)
}

/// The permissions of the image's page at `address`; `None` for the stack guard.
fn image_page(address: u64) -> Option<Kind> {
    let (text_end, rodata_end, guard) = (
        symbol_address!(__text_end),
        symbol_address!(__rodata_end),
        symbol_address!(__stack_guard),
    );
    let image = image();
    Some(if !image.contains(&address) {
        Kind::ReadWrite
    } else if address < text_end {
        Kind::Text
    } else if address < rodata_end {
        Kind::ReadOnly
    } else if (guard..guard + PAGE).contains(&address) {
        return None;
    } else {
        Kind::ReadWrite
    })
}

/// The next-level table `entry` points to, taking a fresh one from `pool` if the entry
/// is empty. `None` if the entry is a block or the pool is used up.
///
/// # Safety
/// `entry` must be an entry of a live table of [`TABLES`]; no reference into it is alive.
unsafe fn descend(entry: *mut u64, pool: *mut Table, pool_len: usize, used: &mut usize) -> Option<*mut Table> {
    // SAFETY: the caller's contract.
    let value = unsafe { entry.read_volatile() };
    if value & VALID != 0 {
        return (value & TABLE_OR_PAGE != 0).then_some((value & ADDRESS_MASK) as *mut Table);
    }
    if *used == pool_len {
        return None;
    }
    // SAFETY: `*used < pool_len`, and pool tables handed out are zeroed (bss).
    let table = unsafe { pool.add(*used) };
    *used += 1;
    // SAFETY: as above; an invalid entry becomes valid, which needs no break-before-make.
    unsafe { entry.write_volatile(table as u64 | VALID | TABLE_OR_PAGE) };
    Some(table)
}

/// The level-2 entry for the 2 MiB block at `address`, creating its level-2 table as
/// needed; `None` beyond the first 512 GiB or when no level-2 table is left.
fn level2_entry(address: u64) -> Option<*mut u64> {
    if address >= ENTRIES as u64 * GIB {
        return None;
    }
    let tables = addr_of_mut!(TABLES);
    // SAFETY: single CPU; only raw pointers into the static, see `TABLES`. L0[0] points
    // to L1 from `enable` on.
    unsafe {
        let l1_entry = addr_of_mut!((*tables).l1.0[(address / GIB) as usize]);
        let l2 = descend(
            l1_entry,
            addr_of_mut!((*tables).l2).cast(),
            L2_TABLES,
            &mut *addr_of_mut!((*tables).l2_used),
        )?;
        Some(addr_of_mut!((*l2).0[((address / BLOCK) % ENTRIES as u64) as usize]))
    }
}

/// Gives the 2 MiB block at `block` 4 KiB pages with the image's permissions.
fn map_image_block(block: u64) -> Option<()> {
    let entry = level2_entry(block)?;
    let tables = addr_of_mut!(TABLES);
    // SAFETY: single CPU, raw pointers only; `entry` is a live level-2 entry.
    unsafe {
        let l3 = descend(
            entry,
            addr_of_mut!((*tables).l3).cast(),
            L3_TABLES,
            &mut *addr_of_mut!((*tables).l3_used),
        )?;
        for index in 0..ENTRIES {
            let address = block + index as u64 * PAGE;
            let value = match image_page(address) {
                Some(kind) => address | attributes(kind) | VALID | TABLE_OR_PAGE,
                None => 0,
            };
            addr_of_mut!((*l3).0[index]).write_volatile(value);
        }
    }
    Some(())
}

/// Maps the 2 MiB block at `block` as `kind`; `true` if it is now mapped as that kind of
/// memory (normal or device), including when it already was.
fn map_block(block: u64, kind: Kind) -> bool {
    let Some(entry) = level2_entry(block) else {
        return false;
    };
    // SAFETY: a live level-2 entry; single CPU.
    let existing = unsafe { entry.read_volatile() };
    let device = |value: u64| value & TABLE_OR_PAGE == 0 && (value >> ATTR_INDEX_SHIFT) & 7 == ATTR_DEVICE;
    if existing & VALID != 0 {
        return device(existing) == (kind == Kind::Device);
    }
    // SAFETY: as above. Invalid to valid needs no break-before-make or TLB maintenance.
    unsafe {
        entry.write_volatile(block | attributes(kind) | VALID);
        asm!("dsb ishst", "isb", options(nostack, preserves_flags));
    }
    true
}

/// How many 2 MiB heap blocks may hold guard pages (each costs one 4 KiB level-3 table,
/// in bss, linked only into images that make guarded stacks).
const GUARD_BLOCKS: usize = 32;
static mut GUARD_TABLES: [Table; GUARD_BLOCKS] = [const { Table([0; ENTRIES]) }; GUARD_BLOCKS];
static mut GUARD_TABLES_USED: usize = 0;

/// Makes the 4 KiB page at `address` invalid (`guarded`) or valid again. The page must be
/// page-aligned mapped RAM; a 2 MiB block holding it is split into pages first. Returns
/// `false` (changing nothing) for another address, or when no table is left to split with.
pub fn set_guard_page(address: u64, guarded: bool) -> bool {
    if !address.is_multiple_of(PAGE) || address == 0 || address >= ENTRIES as u64 * GIB {
        return false;
    }
    let Some(entry) = level2_entry(address) else {
        return false;
    };
    // SAFETY: single CPU, raw pointers into the statics only; `entry` is a live level-2
    // entry. The split maps every page of the block to the same address with the block's
    // attributes; it is made in one assembly sequence (break, invalidate, make) that
    // touches no memory in between, so code whose stack lies in the block keeps running.
    unsafe {
        let value = entry.read_volatile();
        if value & VALID == 0 {
            return false;
        }
        let table = if value & TABLE_OR_PAGE != 0 {
            (value & ADDRESS_MASK) as *mut Table
        } else {
            let used = &mut *addr_of_mut!(GUARD_TABLES_USED);
            if *used == GUARD_BLOCKS {
                return false;
            }
            let table = addr_of_mut!(GUARD_TABLES).cast::<Table>().add(*used);
            *used += 1;
            let block = value & ADDRESS_MASK & !(BLOCK - 1);
            let attributes = value & !ADDRESS_MASK;
            for index in 0..ENTRIES {
                let page = block + index as u64 * PAGE;
                addr_of_mut!((*table).0[index]).write_volatile(page | attributes | TABLE_OR_PAGE);
            }
            asm!(
                "dsb ishst",
                "str xzr, [{entry}]",
                "dsb ishst",
                "tlbi vaae1is, {page}",
                "dsb ish",
                "str {new}, [{entry}]",
                "dsb ishst",
                "isb",
                entry = in(reg) entry,
                page = in(reg) block >> 12,
                new = in(reg) table as u64 | VALID | TABLE_OR_PAGE,
                options(nostack, preserves_flags),
            );
            table
        };
        let page = addr_of_mut!((*table).0[((address % BLOCK) / PAGE) as usize]);
        let value = page.read_volatile();
        match guarded {
            true => {
                page.write_volatile(value & !VALID);
                asm!("dsb ishst", "tlbi vaae1is, {0}", "dsb ish", "isb", in(reg) address >> 12, options(nostack, preserves_flags));
            }
            false => {
                page.write_volatile(value | VALID);
                asm!("dsb ishst", "isb", options(nostack, preserves_flags));
            }
        }
    }
    true
}

/// The main stack's guard page (`__stack_guard` in the linker script).
pub fn main_stack_guard() -> u64 {
    symbol_address!(__stack_guard)
}

fn blocks(region: &Region) -> impl Iterator<Item = u64> {
    let first = region.start & !(BLOCK - 1);
    (first..region.end).step_by(BLOCK as usize)
}

/// Builds the boot mapping (the image with W^X pages, the device tree) and turns the MMU
/// and caches on. Called once, by the entry, with the MMU off.
pub(crate) fn enable() {
    let tables = addr_of_mut!(TABLES);
    // SAFETY: single CPU, MMU off, nothing else uses the tables yet.
    unsafe {
        let l1 = addr_of_mut!((*tables).l1);
        addr_of_mut!((*tables).l0.0[0]).write_volatile(l1 as u64 | VALID | TABLE_OR_PAGE);
    }
    for block in blocks(&image()) {
        if map_image_block(block).is_none() {
            // The linker script bounds the image so that this cannot happen; running
            // without W^X would hide it, so stop.
            crate::cpu::halt_forever();
        }
    }
    for block in blocks(&crate::devicetree::blob()) {
        map_block(block, Kind::ReadWrite);
    }

    let mmfr0: u64;
    // SAFETY: a read-only ID register.
    unsafe { asm!("mrs {}, id_aa64mmfr0_el1", out(reg) mmfr0, options(nomem, nostack, preserves_flags)) };
    let physical_range = (mmfr0 & 0xf).min(5);
    let tcr = 16              // T0SZ: 48-bit addresses
        | (1 << 8)            // IRGN0: write-back, write-allocate walks
        | (1 << 10)           // ORGN0: the same
        | (3 << 12)           // SH0: inner shareable
        | (1 << 23)           // EPD1: no TTBR1 walks
        | (physical_range << 32); // IPS: the CPU's physical address size
    const SCTLR_M: u64 = 1 << 0;
    const SCTLR_A: u64 = 1 << 1;
    const SCTLR_C: u64 = 1 << 2;
    const SCTLR_I: u64 = 1 << 12;
    const SCTLR_WXN: u64 = 1 << 19;
    // SAFETY: the tables identity-map the running code and its stack, so execution goes
    // on at the same addresses once translation is on.
    unsafe {
        asm!(
            "dsb ish",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {sctlr}, sctlr_el1",
            "orr {sctlr}, {sctlr}, {set}",
            "bic {sctlr}, {sctlr}, {clear}",
            "msr sctlr_el1, {sctlr}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) tcr,
            ttbr = in(reg) addr_of!((*tables).l0) as u64,
            sctlr = out(reg) _,
            set = in(reg) SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_WXN,
            clear = in(reg) SCTLR_A,
            options(nostack),
        );
    }
}

/// Maps the whole 2 MiB blocks inside `region` as RAM (normal, writable, never
/// executable); returns the part of `region` that is mapped from its first whole block
/// on (empty if none could be: no whole block, or no page table left).
pub fn map_ram(region: Region) -> Region {
    let start = region.start.next_multiple_of(BLOCK);
    let end = region.end & !(BLOCK - 1);
    let mut mapped = start..start;
    while mapped.end < end && map_block(mapped.end, Kind::ReadWrite) {
        mapped.end += BLOCK;
    }
    mapped
}

/// Maps memory shared with a hypervisor (such as a console ring page) in `region` as
/// RAM, in whole 2 MiB blocks around it; `false` if it could not be.
pub fn map_memory(region: Region) -> bool {
    blocks(&region).all(|block| map_block(block, Kind::ReadWrite))
}

/// Maps the device registers in `region` as device memory, in whole 2 MiB blocks around
/// it; `false` if it could not be (a block already holds RAM, or no page table is left).
pub fn map_device(region: Region) -> bool {
    blocks(&region).all(|block| map_block(block, Kind::Device))
}
