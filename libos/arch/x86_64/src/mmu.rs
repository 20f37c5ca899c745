//! Page tables: the image's W^X protection, the stack guard, and device mappings.
//!
//! `pvh_entry.S` identity-maps the first GiB with 2 MiB pages, all non-executable except
//! the 2 MiB slot holding the image. [`protect_image`] then splits the slots the image
//! spans into 4 KiB pages: text read-only and executable, rodata read-only, everything
//! else writable and non-executable, page 0 and the page below the stack not present.
//!
//! At run time [`set_guard_page`] unmaps single heap pages (thread stacks' guards),
//! splitting the 2 MiB page that holds one into 4 KiB pages from a small pool of tables.
//!
//! Single CPU: these tables are only changed with interrupts off, by one thread of control.

use core::ptr::{addr_of, addr_of_mut};

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const WRITE_THROUGH: u64 = 1 << 3;
const CACHE_DISABLE: u64 = 1 << 4;
const HUGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;

const PAGE: u64 = 4096;
const SLOT: u64 = 2 << 20;
const GIB: u64 = 1 << 30;

/// RAM beyond this address is not mapped; platforms keep the heap below it.
pub const MAPPED_RAM_END: u64 = GIB;

/// How many 2 MiB slots the image may span (the linker script asserts the image fits).
const IMAGE_SLOTS: usize = 4;
/// How many GiB-sized device windows (above the first GiB) may be mapped.
const DEVICE_WINDOWS: usize = 2;

#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut IMAGE_TABLES: [Table; IMAGE_SLOTS] = [const { Table([0; 512]) }; IMAGE_SLOTS];
static mut DEVICE_TABLES: [Table; DEVICE_WINDOWS] = [const { Table([0; 512]) }; DEVICE_WINDOWS];
static mut DEVICE_TABLES_USED: usize = 0;

/// How many 2 MiB heap slots may hold guard pages (each costs one 4 KiB table, in bss,
/// linked only into images that make guarded stacks).
const GUARD_SLOTS: usize = 32;
static mut GUARD_TABLES: [Table; GUARD_SLOTS] = [const { Table([0; 512]) }; GUARD_SLOTS];
static mut GUARD_TABLES_USED: usize = 0;

unsafe extern "C" {
    static mut unik_x86_64_boot_pml4: [u64; 512];
    static mut unik_x86_64_boot_pdpt: [u64; 512];
    static mut unik_x86_64_boot_pd: [u64; 512];
    static __image_start: u8;
    static __image_end: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __stack_guard: u8;
}

fn symbol(s: *const u8) -> u64 {
    s as u64
}

/// The image's memory layout as the linker script placed it.
struct Layout {
    text: core::ops::Range<u64>,
    rodata: core::ops::Range<u64>,
    stack_guard: u64,
}

impl Layout {
    fn entry_for(&self, page: u64) -> u64 {
        if page == 0 || page == self.stack_guard {
            0
        } else if self.text.contains(&page) {
            page | PRESENT
        } else if self.rodata.contains(&page) {
            page | PRESENT | NO_EXECUTE
        } else {
            page | PRESENT | WRITABLE | NO_EXECUTE
        }
    }
}

/// Splits the 2 MiB slots the image spans into 4 KiB pages with W^X permissions.
pub(crate) fn protect_image() {
    let layout = Layout {
        text: symbol(addr_of!(__text_start))..symbol(addr_of!(__text_end)),
        rodata: symbol(addr_of!(__rodata_start))..symbol(addr_of!(__rodata_end)),
        stack_guard: symbol(addr_of!(__stack_guard)),
    };
    let first_slot = symbol(addr_of!(__image_start)) / SLOT;
    let last_slot = (symbol(addr_of!(__image_end)) - 1) / SLOT;
    // SAFETY: single CPU, interrupts off, at boot: nothing else uses the tables. The new
    // tables map every page the old 2 MiB entries mapped, to the same address.
    unsafe {
        let pd = &mut *addr_of_mut!(unik_x86_64_boot_pd);
        let tables = &mut *addr_of_mut!(IMAGE_TABLES);
        let slots = pd
            .iter_mut()
            .skip(first_slot as usize)
            .take((last_slot - first_slot + 1) as usize);
        for ((table, pd_entry), slot) in tables.iter_mut().zip(slots).zip(first_slot..) {
            for (index, entry) in table.0.iter_mut().enumerate() {
                *entry = layout.entry_for(slot * SLOT + index as u64 * PAGE);
            }
            *pd_entry = addr_of!(*table) as u64 | PRESENT | WRITABLE;
        }
        reload_page_tables();
    }
}

/// Makes the 4 KiB page at `address` not present (`guarded`) or present again. The page
/// must be page-aligned RAM in the identity-mapped first GiB. Returns `false` (changing
/// nothing) for another address, or when its 2 MiB page must be split and no table is left.
pub fn set_guard_page(address: u64, guarded: bool) -> bool {
    if !address.is_multiple_of(PAGE) || address == 0 || address >= MAPPED_RAM_END {
        return false;
    }
    // SAFETY: single CPU; callers change guards with the scheduler's lock held and nothing
    // else edits the tables after boot but `map_window`, which touches other windows. A
    // split maps every page of the slot to the same address with the same permissions.
    unsafe {
        let pd_entry = &mut (*addr_of_mut!(unik_x86_64_boot_pd))[(address / SLOT) as usize];
        if *pd_entry & PRESENT == 0 {
            return false;
        }
        if *pd_entry & HUGE != 0 {
            let used = &mut *addr_of_mut!(GUARD_TABLES_USED);
            let Some(table) = (*addr_of_mut!(GUARD_TABLES)).get_mut(*used) else {
                return false;
            };
            *used += 1;
            let base = *pd_entry & !(SLOT - 1) & !NO_EXECUTE;
            // The 2 MiB entry's low flags (not bit 7: PAT in a 4 KiB entry) and NX.
            let flags = (*pd_entry & (PAGE - 1) & !HUGE) | (*pd_entry & NO_EXECUTE);
            for (index, entry) in table.0.iter_mut().enumerate() {
                *entry = (base + index as u64 * PAGE) | flags;
            }
            *pd_entry = addr_of!(*table) as u64 | PRESENT | WRITABLE;
        }
        let table = (*pd_entry & !(PAGE - 1) & !NO_EXECUTE) as *mut u64;
        let entry = table.add(((address % SLOT) / PAGE) as usize);
        match guarded {
            true => *entry &= !PRESENT,
            false => *entry |= PRESENT,
        }
        reload_page_tables();
    }
    true
}

/// Maps the 2 MiB device window holding `phys` as uncached, non-executable memory.
///
/// Returns `false` when the address lies beyond 4 GiB or no table is left.
pub fn map_device(phys: u64) -> bool {
    map_window(phys, WRITE_THROUGH | CACHE_DISABLE)
}

/// Maps the 2 MiB window holding `phys` as ordinary (write-back) memory, non-executable:
/// for RAM outside the identity-mapped first GiB, such as pages a hypervisor shares.
pub fn map_memory(phys: u64) -> bool {
    map_window(phys, 0)
}

fn map_window(phys: u64, cache_flags: u64) -> bool {
    let window = (phys / GIB) as usize;
    if !(1..4).contains(&window) {
        return window == 0;
    }
    // SAFETY: single CPU, called with interrupts off by platform code; the entry written
    // maps memory outside the image, which no Rust object occupies.
    unsafe {
        let Some(pdpt_entry) = (*addr_of_mut!(unik_x86_64_boot_pdpt)).get_mut(window) else {
            return false;
        };
        if *pdpt_entry & PRESENT == 0 {
            let used = &mut *addr_of_mut!(DEVICE_TABLES_USED);
            let Some(table) = (*addr_of!(DEVICE_TABLES)).get(*used) else {
                return false;
            };
            *used += 1;
            *pdpt_entry = addr_of!(*table) as u64 | PRESENT | WRITABLE;
        }
        let pd = (*pdpt_entry & !(PAGE - 1) & !NO_EXECUTE) as *mut u64;
        let base = phys & !(SLOT - 1);
        *pd.add(((phys / SLOT) % 512) as usize) = base | PRESENT | WRITABLE | HUGE | cache_flags | NO_EXECUTE;
        reload_page_tables();
    }
    true
}

/// Reloads CR3 with the boot PML4, flushing the TLB.
///
/// # Safety
/// The tables must map the code and stack currently in use.
unsafe fn reload_page_tables() {
    let pml4 = addr_of!(unik_x86_64_boot_pml4) as u64;
    // SAFETY: the caller guarantees the tables are consistent.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

/// The main stack's guard page (`__stack_guard` in the linker script).
pub fn main_stack_guard() -> u64 {
    symbol(addr_of!(__stack_guard))
}

/// Where the image (text, data, bss, stacks and boot page tables) lies in memory.
pub fn image() -> core::ops::Range<u64> {
    symbol(addr_of!(__image_start))..symbol(addr_of!(__image_end))
}
