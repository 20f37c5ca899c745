//! The heap component: a [talc](https://crates.io/crates/talc) allocator that takes its
//! memory from the platform's memory map the first time an allocation needs it.
//!
//! Nothing happens at boot: the first allocation that finds the heap empty claims the
//! first free RAM region the platform reports, and so on while allocations need more. The
//! heap therefore grows to all the RAM the VM was given, and an image that never allocates
//! carries none of this code.
#![no_std]

use core::alloc::Layout;
use core::marker::PhantomData;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;
use unik_platform::{BootInfo, Current};

/// A talc [`Source`] that hands the platform's free memory regions to the heap, one at a
/// time, when an allocation fails.
pub struct PlatformMemory<M = Current> {
    claimed: usize,
    memory: PhantomData<fn() -> M>,
}

impl<M> PlatformMemory<M> {
    /// A source that has claimed nothing yet.
    pub const fn new() -> Self {
        Self {
            claimed: 0,
            memory: PhantomData,
        }
    }
}

impl<M> Default for PlatformMemory<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> core::fmt::Debug for PlatformMemory<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PlatformMemory")
            .field("claimed", &self.claimed)
            .finish()
    }
}

// SAFETY: `acquire` only claims regions the platform promises are unused RAM (see
// `BootInfo::free_memory`), each exactly once, and calls no other allocator.
unsafe impl<M: BootInfo> Source for PlatformMemory<M> {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, _layout: Layout) -> Result<(), ()> {
        loop {
            let region = M::free_memory().nth(talc.source.claimed).ok_or(())?;
            talc.source.claimed += 1;
            let size = usize::try_from(region.end - region.start).map_err(|_| ())?;
            // SAFETY: see the impl's safety comment; the region is identity-mapped.
            if unsafe { talc.claim(region.start as usize as *mut u8, size) }.is_some() {
                return Ok(());
            }
        }
    }
}

/// The global heap type the `unik` crate installs with `#[global_allocator]`.
pub type Heap = talc::TalcLock<spinning_top::RawSpinlock, PlatformMemory>;

/// What the heap holds, for programs that watch their memory (feature `stats`).
#[cfg(feature = "stats")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes in live allocations (as requested, without the allocator's overhead).
    pub in_use: usize,
    /// Live allocations.
    pub allocations: usize,
    /// Bytes of RAM the heap has claimed from the platform so far.
    pub claimed: usize,
}

/// The current [`Stats`] of `heap`.
#[cfg(feature = "stats")]
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn stats(heap: &Heap) -> Stats {
    let talc = heap.lock();
    let counters = talc.counters();
    Stats {
        in_use: counters.allocated_bytes,
        allocations: counters.allocation_count,
        claimed: counters.claimed_bytes,
    }
}

/// An empty heap that fills itself from the platform on demand.
pub const fn heap() -> Heap {
    talc::TalcLock::new(PlatformMemory::new())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::alloc::GlobalAlloc;
    use std::vec::Vec;
    use unik_platform::memory::Region;

    /// Two arenas of 64 KiB and one too small to hold anything.
    struct Arenas;

    fn arenas() -> &'static [Region; 3] {
        static ARENAS: std::sync::OnceLock<[Region; 3]> = std::sync::OnceLock::new();
        ARENAS.get_or_init(|| {
            let region = |size: usize| {
                let memory: &'static mut [u64] = Vec::leak(std::vec![0u64; size / 8]);
                let start = memory.as_mut_ptr() as u64;
                start..start + size as u64
            };
            [region(8), region(64 << 10), region(64 << 10)]
        })
    }

    impl BootInfo for Arenas {
        fn command_line() -> &'static str {
            ""
        }
        fn free_memory() -> impl Iterator<Item = Region> {
            arenas().iter().cloned()
        }
        fn initial_ramdisk() -> &'static [u8] {
            &[]
        }
    }

    type TestHeap = talc::TalcLock<spinning_top::RawSpinlock, PlatformMemory<Arenas>>;

    #[test]
    fn claims_regions_on_demand_until_memory_runs_out() {
        let heap = TestHeap::new(PlatformMemory::new());
        let layout = Layout::from_size_align(40 << 10, 8).unwrap();
        // SAFETY: non-zero size; pointers are checked before use and never freed twice.
        unsafe {
            let first = heap.alloc(layout);
            assert!(!first.is_null());
            first.write_bytes(0xa5, layout.size());
            // The first usable arena cannot hold a second 40 KiB block: the next is claimed.
            let second = heap.alloc(layout);
            assert!(!second.is_null());
            let claimed = heap.lock().source.claimed;
            assert_eq!(claimed, 3);
            // Everything is claimed: a third block cannot be had.
            assert!(heap.alloc(layout).is_null());
            heap.dealloc(first, layout);
            assert!(!heap.alloc(layout).is_null());
        }
    }
}
