//! Grant tables (version 1): sharing pages of this domain with another one.
//!
//! A front-end driver grants the back end's domain access to a page (a ring, a packet
//! buffer) by filling an entry of this domain's grant table, and passes the entry's index
//! (the *grant reference*) through xenstore or a ring. The table's frames are Xen's; a
//! platform maps the first one into the guest's memory ([`crate::map_grant_frame`]) and
//! hands it to [`GrantTable::attach`]. One frame holds 512 entries, of which the first
//! [`GNTTAB_NR_RESERVED_ENTRIES`] belong to the toolstack.

use crate::abi::{GNTTAB_NR_RESERVED_ENTRIES, GTF_PERMIT_ACCESS, GTF_READING, GTF_READONLY, GTF_WRITING, GrantEntryV1};
use core::ptr::{addr_of_mut, null_mut};
use core::sync::atomic::{AtomicPtr, AtomicU16, AtomicU64, Ordering, fence};

/// A grant reference: an index into the grant table.
pub type GrantRef = u32;

/// Entries in one frame of version-1 entries.
pub const ENTRIES: usize = 4096 / core::mem::size_of::<GrantEntryV1>();
const WORDS: usize = ENTRIES / 64;

/// This domain's grant table: the mapped entries and which of them are in use.
pub struct GrantTable {
    entries: AtomicPtr<GrantEntryV1>,
    used: [AtomicU64; WORDS],
}

impl Default for GrantTable {
    fn default() -> Self {
        Self::new()
    }
}

impl GrantTable {
    /// A table with no frame attached yet: every grant fails until [`GrantTable::attach`].
    pub const fn new() -> Self {
        GrantTable {
            entries: AtomicPtr::new(null_mut()),
            used: [const { AtomicU64::new(0) }; WORDS],
        }
    }

    /// Attaches the table's first frame, mapped at `entries`; the reserved entries are
    /// never handed out.
    ///
    /// # Safety
    /// `entries` points to the grant table frame Xen mapped ([`ENTRIES`] entries), which
    /// only this table writes from now on.
    pub unsafe fn attach(&self, entries: *mut GrantEntryV1) {
        self.used[0].fetch_or((1 << GNTTAB_NR_RESERVED_ENTRIES) - 1, Ordering::Relaxed);
        self.entries.store(entries, Ordering::Release);
    }

    /// Whether a frame is attached.
    pub fn is_attached(&self) -> bool {
        !self.entries.load(Ordering::Acquire).is_null()
    }

    /// Grants domain `domid` access to guest frame `frame` (read-only if `readonly`);
    /// `None` when the table is full, not attached, or the frame number does not fit.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn grant(&self, domid: u16, frame: u64, readonly: bool) -> Option<GrantRef> {
        let entries = self.entries.load(Ordering::Acquire);
        let frame = u32::try_from(frame).ok()?;
        if entries.is_null() {
            return None;
        }
        let reference = self.claim()?;
        // SAFETY: `reference` indexes the attached frame and is ours alone (claimed).
        unsafe {
            let entry = entries.add(reference as usize);
            addr_of_mut!((*entry).domid).write_volatile(domid);
            addr_of_mut!((*entry).frame).write_volatile(frame);
            // Domain and frame before the flags that make them valid.
            fence(Ordering::SeqCst);
            let flags = GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 };
            AtomicU16::from_ptr(addr_of_mut!((*entry).flags)).store(flags, Ordering::SeqCst);
        }
        Some(reference)
    }

    /// Ends access through `reference` and frees it; `false` (the grant left in place)
    /// while the other domain is still reading or writing the page.
    pub fn revoke(&self, reference: GrantRef) -> bool {
        let entries = self.entries.load(Ordering::Acquire);
        let (word, bit) = (reference as usize / 64, reference % 64);
        if entries.is_null() || word >= WORDS || reference < GNTTAB_NR_RESERVED_ENTRIES {
            return false;
        }
        // SAFETY: an entry of the attached frame; Xen sets the busy bits concurrently,
        // so the flags are only accessed atomically.
        let flags = unsafe { AtomicU16::from_ptr(addr_of_mut!((*entries.add(reference as usize)).flags)) };
        let mut current = flags.load(Ordering::SeqCst);
        loop {
            if current & (GTF_READING | GTF_WRITING) != 0 {
                return false;
            }
            match flags.compare_exchange(current, 0, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        self.used[word].fetch_and(!(1 << bit), Ordering::Release);
        true
    }

    /// Grant references in use (the reserved ones included).
    pub fn in_use(&self) -> u32 {
        self.used
            .iter()
            .map(|word| word.load(Ordering::Relaxed).count_ones())
            .sum()
    }

    fn claim(&self) -> Option<GrantRef> {
        for (index, word) in self.used.iter().enumerate() {
            let mut current = word.load(Ordering::Relaxed);
            while current != u64::MAX {
                let bit = (!current).trailing_zeros();
                match word.compare_exchange(current, current | 1 << bit, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => return Some(index as u32 * 64 + bit),
                    Err(now) => current = now,
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    fn frame() -> Box<[GrantEntryV1; ENTRIES]> {
        // SAFETY: all-zero entries are valid (plain integers).
        Box::new(unsafe { core::mem::zeroed() })
    }

    #[test]
    fn grants_fill_entries_after_the_reserved_ones_and_revoke_frees_them() {
        let table = GrantTable::new();
        assert_eq!(table.grant(0, 5, false), None, "no frame attached yet");
        let mut entries = frame();
        // SAFETY: an exclusively owned frame-sized table.
        unsafe { table.attach(entries.as_mut_ptr()) };
        let first = table.grant(0, 0x1234, false).unwrap();
        let second = table.grant(7, 0x99, true).unwrap();
        assert_eq!((first, second), (8, 9));
        let entry = &entries[9];
        assert_eq!(
            (entry.flags, entry.domid, entry.frame),
            (GTF_PERMIT_ACCESS | GTF_READONLY, 7, 0x99)
        );
        assert_eq!(entries[8].flags, GTF_PERMIT_ACCESS);

        // Busy: the back end is writing into the page.
        entries[8].flags |= GTF_WRITING;
        assert!(!table.revoke(8));
        entries[8].flags &= !GTF_WRITING;
        assert!(table.revoke(8));
        assert_eq!(entries[8].flags, 0);
        assert!(!table.revoke(3), "reserved entries are not ours");
        assert_eq!(table.grant(1, 1, false), Some(8), "a revoked reference is reused");
        assert_eq!(
            table.grant(1, 1 << 40, false),
            None,
            "frames beyond 32 bits do not fit v1"
        );
    }

    #[test]
    fn a_full_table_refuses_more_grants() {
        let table = GrantTable::new();
        let mut entries = frame();
        // SAFETY: as above.
        unsafe { table.attach(entries.as_mut_ptr()) };
        let granted: Vec<_> = core::iter::from_fn(|| table.grant(0, 1, false)).collect();
        assert_eq!(granted.len(), ENTRIES - GNTTAB_NR_RESERVED_ENTRIES as usize);
        assert_eq!(table.in_use() as usize, ENTRIES);
    }
}
