//! Memory-mapped device registers, for drivers that take a register accessor.

/// 32-bit registers of a device at `base`, which the platform has mapped as device memory.
#[derive(Clone, Copy, Debug)]
pub struct Mmio32 {
    base: usize,
}

impl Mmio32 {
    /// Registers at physical (= virtual) address `base`.
    ///
    /// # Safety
    /// `base` must be a device's register block, mapped as device memory (see
    /// [`crate::mmu::map_device`]), that nothing else drives.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    /// Reads the register at byte offset `offset`.
    #[inline]
    pub fn read(&self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract: a mapped device register block.
        unsafe { ((self.base + offset) as *const u32).read_volatile() }
    }

    /// Writes the register at byte offset `offset`.
    #[inline]
    pub fn write(&self, offset: usize, value: u32) {
        // SAFETY: as for `read`.
        unsafe { ((self.base + offset) as *mut u32).write_volatile(value) }
    }
}
