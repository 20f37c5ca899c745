//! The Linux arm64 `Image` header (`Documentation/arch/arm64/booting.rst`): 64 bytes at the
//! start of the image, which QEMU and Xen read to place and enter it. The guest's
//! `entry.S` writes it; the host's verifier reads it back against these definitions.

/// Size of the header.
pub const HEADER_SIZE: usize = 64;
/// Offset of `code0`, the first instruction (a branch to the entry).
pub const CODE0_OFFSET: usize = 0;
/// Offset of `text_offset` (u64, little endian): where in a 2 MiB-aligned region to load.
pub const TEXT_OFFSET_OFFSET: usize = 8;
/// Offset of `image_size` (u64): bytes of memory the image occupies from its start,
/// bss and stack included (non-zero: loaders then trust `text_offset`).
pub const IMAGE_SIZE_OFFSET: usize = 16;
/// Offset of `flags` (u64).
pub const FLAGS_OFFSET: usize = 24;
/// Offset of the magic.
pub const MAGIC_OFFSET: usize = 0x38;
/// The magic, `ARM\x64`.
pub const MAGIC: [u8; 4] = *b"ARM\x64";

/// `flags` bit 0: big-endian kernel.
pub const FLAG_BIG_ENDIAN: u64 = 1 << 0;
/// `flags` bits 1-2: page size (1 = 4 KiB).
pub const FLAG_PAGE_SIZE_4K: u64 = 1 << 1;
/// `flags` bit 3: the image may be placed anywhere in RAM (else near its base).
pub const FLAG_PLACE_ANYWHERE: u64 = 1 << 3;
/// The flags unik images carry: little endian, 4 KiB pages, anywhere.
pub const UNIK_FLAGS: u64 = FLAG_PAGE_SIZE_4K | FLAG_PLACE_ANYWHERE;

/// `R_AARCH64_RELATIVE`: the only dynamic relocation the entry code applies.
pub const R_AARCH64_RELATIVE: u32 = 1027;

/// Whether `instruction` is an unconditional `b` (how `code0` reaches the entry), and
/// the byte offset it branches to.
pub fn branch_target(instruction: u32) -> Option<i64> {
    if instruction & 0xfc00_0000 != 0x1400_0000 {
        return None;
    }
    // imm26, sign-extended, in units of 4 bytes.
    let imm26 = (instruction & 0x03ff_ffff) as i64;
    Some(((imm26 << 38) >> 38) * 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_decode_forwards_and_backwards() {
        assert_eq!(branch_target(0x1400_0010), Some(64));
        assert_eq!(branch_target(0x17ff_ffff), Some(-4));
        assert_eq!(branch_target(0xd503_201f), None, "nop is not a branch");
    }
}
