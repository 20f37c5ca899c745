//! The on-disk structures (all little-endian), as the ext2 documentation and e2fsprogs'
//! `ext2_fs.h` define them: the superblock at byte 1024, 32-byte group descriptors in the
//! block after it, inodes in each group's table, directory entries.

/// The little-endian `u16` at `at`.
pub(crate) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The little-endian `u32` at `at`.
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Writes `value` at `at`, little-endian.
pub(crate) fn set_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

/// Writes `value` at `at`, little-endian.
pub(crate) fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Where the superblock is, and its size.
pub(crate) const SUPERBLOCK_OFFSET: u64 = 1024;
pub(crate) const SUPERBLOCK_SIZE: usize = 1024;
pub(crate) const MAGIC: u16 = 0xEF53;

/// Superblock field offsets.
pub(crate) mod superblock {
    pub(crate) const INODES_COUNT: usize = 0;
    pub(crate) const BLOCKS_COUNT: usize = 4;
    pub(crate) const FREE_BLOCKS: usize = 12;
    pub(crate) const FREE_INODES: usize = 16;
    pub(crate) const FIRST_DATA_BLOCK: usize = 20;
    pub(crate) const LOG_BLOCK_SIZE: usize = 24;
    pub(crate) const BLOCKS_PER_GROUP: usize = 32;
    pub(crate) const INODES_PER_GROUP: usize = 40;
    pub(crate) const WRITE_TIME: usize = 48;
    pub(crate) const MAGIC: usize = 56;
    pub(crate) const REV_LEVEL: usize = 76;
    pub(crate) const FIRST_INO: usize = 84;
    pub(crate) const INODE_SIZE: usize = 88;
    pub(crate) const FEATURE_INCOMPAT: usize = 96;
    pub(crate) const FEATURE_RO_COMPAT: usize = 100;
}

/// `s_feature_incompat` bits this code reads and writes correctly.
pub(crate) const INCOMPAT_FILETYPE: u32 = 0x2;
/// The incompatible features by bit, for the refusal.
pub(crate) const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "compression"),
    (0x4, "needs_recovery (a journal to replay: run e2fsck first)"),
    (0x8, "journal_dev"),
    (0x10, "meta_bg"),
    (0x40, "extent"),
    (0x80, "64bit"),
    (0x100, "mmp"),
    (0x200, "flex_bg"),
    (0x400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];
/// `s_feature_ro_compat` bits this code keeps right when it writes: sparse superblock
/// backups, large files.
pub(crate) const RO_COMPAT_WRITABLE: u32 = 0x1 | 0x2;

/// Group descriptor layout (the 32-byte one of file systems without `64bit`).
pub(crate) mod group {
    pub(crate) const SIZE: usize = 32;
    pub(crate) const BLOCK_BITMAP: usize = 0;
    pub(crate) const INODE_BITMAP: usize = 4;
    pub(crate) const INODE_TABLE: usize = 8;
    pub(crate) const FREE_BLOCKS: usize = 12;
    pub(crate) const FREE_INODES: usize = 14;
    pub(crate) const USED_DIRS: usize = 16;
}

/// Inode field offsets.
pub(crate) mod inode {
    pub(crate) const MODE: usize = 0;
    pub(crate) const SIZE_LOW: usize = 4;
    pub(crate) const ACCESS_TIME: usize = 8;
    pub(crate) const CHANGE_TIME: usize = 12;
    pub(crate) const MODIFY_TIME: usize = 16;
    pub(crate) const DELETE_TIME: usize = 20;
    pub(crate) const LINKS: usize = 26;
    pub(crate) const SECTORS: usize = 28;
    pub(crate) const FLAGS: usize = 32;
    pub(crate) const BLOCK: usize = 40;
    pub(crate) const SIZE_HIGH: usize = 108;
    pub(crate) const EXTRA_SIZE: usize = 128;
    /// Direct block pointers; then single, double and triple indirect.
    pub(crate) const DIRECT: usize = 12;
    /// `EXT2_INDEX_FL`: an htree-indexed directory.
    pub(crate) const INDEX_FLAG: u32 = 0x1000;
}

/// File type bits of `i_mode`.
pub(crate) const MODE_TYPE: u16 = 0o170_000;
pub(crate) const MODE_DIRECTORY: u16 = 0o040_000;
pub(crate) const MODE_FILE: u16 = 0o100_000;

/// The root directory's inode.
pub(crate) const ROOT_INODE: u32 = 2;

/// Directory entry: inode (4), record length (2), name length (1), file type (1), name.
pub(crate) const ENTRY_HEADER: usize = 8;
/// `file_type` values of directory entries.
pub(crate) const ENTRY_FILE: u8 = 1;
pub(crate) const ENTRY_DIRECTORY: u8 = 2;

/// The bytes a directory entry with a name of `name_len` bytes needs.
pub(crate) fn entry_size(name_len: usize) -> usize {
    (ENTRY_HEADER + name_len).next_multiple_of(4)
}
