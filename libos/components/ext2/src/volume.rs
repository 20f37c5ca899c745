//! An open ext2 volume: its superblock and group descriptors in memory, everything else
//! read from and written to the device as operations need it.

use alloc::vec;
use alloc::vec::Vec;

use crate::layout::{self, group, inode, superblock as sb, u16_at, u32_at};
use crate::{BlockDevice, Error, SECTOR_SIZE};

/// The most bytes of consecutive blocks a file read or write sends in one request.
const RUN_BYTES: usize = 64 * 1024;
/// Indirect tables kept after reading (a file's single, double and triple indirect path).
const CACHED_TABLES: usize = 4;

/// What kind of file an inode is (the kinds this code makes and reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// Anything else (a symbolic link, a device): listed, not opened.
    Other,
}

/// What `stat` reports of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Its number.
    pub inode: u32,
    /// Its kind.
    pub kind: FileKind,
    /// Permission bits.
    pub permissions: u16,
    /// Bytes.
    pub size: u64,
    /// Directory entries naming it (a directory: 2 plus its subdirectories).
    pub links: u16,
    /// 512-byte sectors allocated to it, indirect blocks included.
    pub sectors: u32,
    /// Last modification, Unix seconds.
    pub modified: u32,
}

/// An inode's bytes and where they live.
struct Inode {
    number: u32,
    bytes: Vec<u8>,
}

impl Inode {
    fn mode(&self) -> u16 {
        u16_at(&self.bytes, inode::MODE)
    }

    fn kind(&self) -> FileKind {
        match self.mode() & layout::MODE_TYPE {
            layout::MODE_FILE => FileKind::File,
            layout::MODE_DIRECTORY => FileKind::Directory,
            _ => FileKind::Other,
        }
    }

    fn size(&self) -> u64 {
        let low = u64::from(u32_at(&self.bytes, inode::SIZE_LOW));
        match self.kind() {
            FileKind::File => low | u64::from(u32_at(&self.bytes, inode::SIZE_HIGH)) << 32,
            _ => low,
        }
    }

    fn set_size(&mut self, size: u64) {
        layout::set_u32(&mut self.bytes, inode::SIZE_LOW, size as u32);
        if self.kind() == FileKind::File {
            layout::set_u32(&mut self.bytes, inode::SIZE_HIGH, (size >> 32) as u32);
        }
    }

    fn links(&self) -> u16 {
        u16_at(&self.bytes, inode::LINKS)
    }

    fn set_links(&mut self, links: u16) {
        layout::set_u16(&mut self.bytes, inode::LINKS, links);
    }

    fn sectors(&self) -> u32 {
        u32_at(&self.bytes, inode::SECTORS)
    }

    fn add_sectors(&mut self, delta: i64) {
        let sectors = (i64::from(self.sectors()) + delta).max(0) as u32;
        layout::set_u32(&mut self.bytes, inode::SECTORS, sectors);
    }

    fn pointer(&self, slot: usize) -> u32 {
        u32_at(&self.bytes, inode::BLOCK + 4 * slot)
    }

    fn set_pointer(&mut self, slot: usize, block: u32) {
        layout::set_u32(&mut self.bytes, inode::BLOCK + 4 * slot, block);
    }

    fn touch(&mut self, now: u32) {
        layout::set_u32(&mut self.bytes, inode::MODIFY_TIME, now);
        layout::set_u32(&mut self.bytes, inode::CHANGE_TIME, now);
    }
}

/// Where a file block's pointer is: the inode's slot, then the index in each indirect
/// block on the way (none for a direct block).
struct BlockPath {
    slot: usize,
    indices: [usize; 3],
    depth: usize,
}

/// The block bitmap last read, kept until the operation ends or another is needed.
struct CachedBitmap {
    block: u32,
    bytes: Vec<u8>,
    dirty: bool,
}

/// An ext2 file system on `D`.
pub struct Ext2<D: BlockDevice> {
    device: D,
    superblock: Vec<u8>,
    groups: Vec<u8>,
    dirty_groups: Vec<bool>,
    superblock_dirty: bool,
    bitmap: Option<CachedBitmap>,
    /// Indirect blocks changed by allocations in this operation, written by
    /// [`Ext2::commit`] after the bitmap that allocates what they point to.
    tables: Vec<(u32, Vec<u8>)>,
    /// Indirect tables lately read from the disk, as they are there (newest last), so
    /// that mapping the blocks of a file one after another reads each table once.
    cached_tables: Vec<(u32, Vec<u8>)>,
    block_size: usize,
    blocks_count: u32,
    first_data_block: u32,
    blocks_per_group: u32,
    inodes_per_group: u32,
    inodes_count: u32,
    inode_size: usize,
    first_inode: u32,
    filetype: bool,
    writable: bool,
    clock: fn() -> u32,
}

impl<D: BlockDevice> Ext2<D> {
    /// Opens the ext2 file system on `device`; `clock` gives Unix seconds for timestamps.
    pub fn open(mut device: D, clock: fn() -> u32) -> Result<Ext2<D>, Error> {
        let mut superblock = vec![0; layout::SUPERBLOCK_SIZE];
        if device.sectors() < 4 {
            return Err(Error::NotExt2);
        }
        device.read(layout::SUPERBLOCK_OFFSET / SECTOR_SIZE as u64, &mut superblock)?;
        if u16_at(&superblock, sb::MAGIC) != layout::MAGIC {
            return Err(Error::NotExt2);
        }
        let log_block_size = u32_at(&superblock, sb::LOG_BLOCK_SIZE);
        if log_block_size > 2 {
            return Err(Error::Unsupported("blocks larger than 4 KiB"));
        }
        let block_size = 1024usize << log_block_size;
        let incompat = u32_at(&superblock, sb::FEATURE_INCOMPAT);
        if let Some((_, name)) = layout::INCOMPAT_NAMES.iter().find(|(bit, _)| incompat & bit != 0) {
            return Err(Error::Unsupported(name));
        }
        if incompat & !layout::INCOMPAT_FILETYPE != 0 {
            return Err(Error::Unsupported("an unknown incompatible feature"));
        }
        let revision = u32_at(&superblock, sb::REV_LEVEL);
        let (inode_size, first_inode) = match revision {
            0 => (128, 11),
            _ => (
                usize::from(u16_at(&superblock, sb::INODE_SIZE)),
                u32_at(&superblock, sb::FIRST_INO),
            ),
        };
        let blocks_count = u32_at(&superblock, sb::BLOCKS_COUNT);
        let first_data_block = u32_at(&superblock, sb::FIRST_DATA_BLOCK);
        let blocks_per_group = u32_at(&superblock, sb::BLOCKS_PER_GROUP);
        let inodes_per_group = u32_at(&superblock, sb::INODES_PER_GROUP);
        let inodes_count = u32_at(&superblock, sb::INODES_COUNT);
        let bits_per_block = 8 * block_size as u32;
        let sound = inode_size >= 128
            && inode_size.is_power_of_two()
            && inode_size <= block_size
            && (1..=bits_per_block).contains(&blocks_per_group)
            && (1..=bits_per_block).contains(&inodes_per_group)
            && first_data_block < blocks_count
            && first_inode > layout::ROOT_INODE
            && first_inode <= inodes_count;
        if !sound {
            return Err(Error::Corrupt("the superblock's geometry"));
        }
        if u64::from(blocks_count) * block_size as u64 > device.sectors() * SECTOR_SIZE as u64 {
            return Err(Error::Corrupt("the file system is larger than its device"));
        }
        let group_count = (blocks_count - first_data_block).div_ceil(blocks_per_group) as usize;
        if u64::from(inodes_per_group) * group_count as u64 != u64::from(inodes_count) {
            return Err(Error::Corrupt("the inode count is not the groups' inodes"));
        }
        let table_blocks = (group_count * group::SIZE).div_ceil(block_size);
        let mut groups = vec![0; table_blocks * block_size];
        let first_table_block = u64::from(first_data_block) + 1;
        device.read(first_table_block * (block_size / SECTOR_SIZE) as u64, &mut groups)?;
        groups.truncate(group_count * group::SIZE);
        for descriptor in groups.chunks(group::SIZE) {
            let inode_table_blocks = (inodes_per_group as usize * inode_size).div_ceil(block_size) as u32;
            let inside = |block: u32, len: u32| block >= first_data_block && block.saturating_add(len) <= blocks_count;
            if !inside(u32_at(descriptor, group::BLOCK_BITMAP), 1)
                || !inside(u32_at(descriptor, group::INODE_BITMAP), 1)
                || !inside(u32_at(descriptor, group::INODE_TABLE), inode_table_blocks)
            {
                return Err(Error::Corrupt("a group descriptor points outside the file system"));
            }
        }
        let ro_compat = u32_at(&superblock, sb::FEATURE_RO_COMPAT);
        let writable = !device.read_only() && ro_compat & !layout::RO_COMPAT_WRITABLE == 0;
        Ok(Ext2 {
            device,
            superblock,
            dirty_groups: vec![false; group_count],
            groups,
            superblock_dirty: false,
            bitmap: None,
            tables: Vec::new(),
            cached_tables: Vec::new(),
            block_size,
            blocks_count,
            first_data_block,
            blocks_per_group,
            inodes_per_group,
            inodes_count,
            inode_size,
            first_inode,
            filetype: incompat & layout::INCOMPAT_FILETYPE != 0,
            writable,
            clock,
        })
    }

    /// The root directory's inode number.
    pub fn root(&self) -> u32 {
        layout::ROOT_INODE
    }

    /// Whether the volume takes writes (a writable device, no unknown feature).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Free blocks and all blocks.
    pub fn block_usage(&self) -> (u32, u32) {
        (u32_at(&self.superblock, sb::FREE_BLOCKS), self.blocks_count)
    }

    /// Gives the device back.
    pub fn into_device(self) -> D {
        self.device
    }

    fn sectors_per_block(&self) -> u64 {
        (self.block_size / SECTOR_SIZE) as u64
    }

    fn check_block(&self, block: u32) -> Result<u32, Error> {
        if block < self.first_data_block || block >= self.blocks_count {
            return Err(Error::Corrupt("a block pointer outside the file system"));
        }
        Ok(block)
    }

    fn read_block(&mut self, block: u32) -> Result<Vec<u8>, Error> {
        self.check_block(block)?;
        let mut bytes = vec![0; self.block_size];
        self.device
            .read(u64::from(block) * self.sectors_per_block(), &mut bytes)?;
        Ok(bytes)
    }

    fn write_block(&mut self, block: u32, bytes: &[u8]) -> Result<(), Error> {
        self.write_blocks(block, bytes)
    }

    /// Writes whole blocks from `block` on (`bytes` a multiple of the block size), in one
    /// request.
    fn write_blocks(&mut self, block: u32, bytes: &[u8]) -> Result<(), Error> {
        let count = (bytes.len() / self.block_size) as u32;
        self.check_block(block)?;
        self.check_block(block + count.saturating_sub(1))?;
        self.cached_tables
            .retain(|(cached, _)| !(block..block + count).contains(cached));
        self.device.write(u64::from(block) * self.sectors_per_block(), bytes)?;
        Ok(())
    }

    /// Reads `count` whole blocks from `block` on, in one request.
    fn read_blocks(&mut self, block: u32, count: usize) -> Result<Vec<u8>, Error> {
        self.check_block(block)?;
        self.check_block(block + (count as u32).saturating_sub(1))?;
        let mut bytes = vec![0; self.block_size * count];
        self.device
            .read(u64::from(block) * self.sectors_per_block(), &mut bytes)?;
        Ok(bytes)
    }

    fn descriptor(&self, group: usize) -> &[u8] {
        &self.groups[group * group::SIZE..(group + 1) * group::SIZE]
    }

    fn descriptor_field(&self, group: usize, field: usize) -> u32 {
        u32_at(self.descriptor(group), field)
    }

    /// Adds `delta` to a group's 16-bit counter and the superblock's matching one.
    fn count(&mut self, group: usize, field: usize, superblock_field: Option<usize>, delta: i32) {
        let at = group * group::SIZE + field;
        let value = (i32::from(u16_at(&self.groups, at)) + delta).max(0) as u16;
        layout::set_u16(&mut self.groups, at, value);
        self.dirty_groups[group] = true;
        if let Some(field) = superblock_field {
            let value = (i64::from(u32_at(&self.superblock, field)) + i64::from(delta)).max(0) as u32;
            layout::set_u32(&mut self.superblock, field, value);
            self.superblock_dirty = true;
        }
    }

    /// Writes the cached bitmap, the changed group descriptors, the superblock and the
    /// indirect blocks allocations changed, in that order: an allocation is on the device
    /// before anything points to it (the inode comes after a commit), so a crash between
    /// two writes leaks a block at worst. Called at the end of every operation that
    /// allocates, before its inode is written.
    fn commit(&mut self) -> Result<(), Error> {
        if let Some(bitmap) = self.bitmap.as_mut()
            && bitmap.dirty
        {
            bitmap.dirty = false;
            let (block, bytes) = (bitmap.block, core::mem::take(&mut bitmap.bytes));
            let result = self.write_block(block, &bytes);
            if let Some(bitmap) = self.bitmap.as_mut() {
                bitmap.bytes = bytes;
            }
            result?;
        }
        let per_block = self.block_size / group::SIZE;
        let first_table_block = self.first_data_block + 1;
        let mut table_block = 0;
        while table_block * per_block < self.dirty_groups.len() {
            let range = table_block * per_block..((table_block + 1) * per_block).min(self.dirty_groups.len());
            if self.dirty_groups[range.clone()].iter().any(|dirty| *dirty) {
                let mut bytes = vec![0; self.block_size];
                let slice = self.groups[range.start * group::SIZE..range.end * group::SIZE].to_vec();
                bytes[..slice.len()].copy_from_slice(&slice);
                if range.end < self.dirty_groups.len() || slice.len() == self.block_size {
                    self.write_block(first_table_block + table_block as u32, &bytes)?;
                } else {
                    // The last table block: keep what follows the descriptors.
                    let mut current = self.read_block(first_table_block + table_block as u32)?;
                    current[..slice.len()].copy_from_slice(&slice);
                    self.write_block(first_table_block + table_block as u32, &current)?;
                }
                self.dirty_groups[range].iter_mut().for_each(|dirty| *dirty = false);
            }
            table_block += 1;
        }
        if self.superblock_dirty {
            self.superblock_dirty = false;
            let now = (self.clock)();
            layout::set_u32(&mut self.superblock, sb::WRITE_TIME, now);
            let superblock = core::mem::take(&mut self.superblock);
            let result = self
                .device
                .write(layout::SUPERBLOCK_OFFSET / SECTOR_SIZE as u64, &superblock);
            self.superblock = superblock;
            result?;
        }
        for (block, bytes) in core::mem::take(&mut self.tables) {
            self.write_block(block, &bytes)?;
        }
        Ok(())
    }

    /// Indirect block `block`, as this operation left it.
    fn table(&mut self, block: u32) -> Result<Vec<u8>, Error> {
        if let Some((_, bytes)) = self.tables.iter().find(|(pending, _)| *pending == block) {
            return Ok(bytes.clone());
        }
        if let Some((_, bytes)) = self.cached_tables.iter().find(|(cached, _)| *cached == block) {
            return Ok(bytes.clone());
        }
        let bytes = self.read_block(block)?;
        if self.cached_tables.len() == CACHED_TABLES {
            self.cached_tables.remove(0);
        }
        self.cached_tables.push((block, bytes.clone()));
        Ok(bytes)
    }

    /// Keeps indirect block `block`'s new contents for the commit.
    fn set_table(&mut self, block: u32, bytes: Vec<u8>) {
        self.cached_tables.retain(|(cached, _)| *cached != block);
        match self.tables.iter_mut().find(|(pending, _)| *pending == block) {
            Some((_, pending)) => *pending = bytes,
            None => self.tables.push((block, bytes)),
        }
    }

    /// Makes everything written so far durable: metadata out, then a flush request.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.commit()?;
        self.device.flush()?;
        Ok(())
    }

    /// The block bitmap at `block`, cached.
    fn bitmap(&mut self, block: u32) -> Result<&mut CachedBitmap, Error> {
        if self.bitmap.as_ref().is_none_or(|cached| cached.block != block) {
            self.commit()?;
            let bytes = self.read_block(block)?;
            self.bitmap = Some(CachedBitmap {
                block,
                bytes,
                dirty: false,
            });
        }
        Ok(self.bitmap.as_mut().expect("just cached"))
    }

    fn group_count(&self) -> usize {
        self.dirty_groups.len()
    }

    /// Allocates a block, looking in `goal`'s group first.
    fn allocate_block(&mut self, goal: usize) -> Result<u32, Error> {
        let count = self.group_count();
        for group in (goal..count).chain(0..goal) {
            if u16_at(self.descriptor(group), group::FREE_BLOCKS) == 0 {
                continue;
            }
            let first = self.first_data_block + group as u32 * self.blocks_per_group;
            let bits = self.blocks_per_group.min(self.blocks_count - first) as usize;
            let bitmap_block = self.descriptor_field(group, group::BLOCK_BITMAP);
            let bitmap = self.bitmap(bitmap_block)?;
            let Some(bit) = first_clear_bit(&bitmap.bytes, 0, bits) else {
                continue;
            };
            bitmap.bytes[bit / 8] |= 1 << (bit % 8);
            bitmap.dirty = true;
            self.count(group, group::FREE_BLOCKS, Some(sb::FREE_BLOCKS), -1);
            return Ok(first + bit as u32);
        }
        Err(Error::NoSpace)
    }

    fn free_block(&mut self, block: u32) -> Result<(), Error> {
        self.check_block(block)?;
        let offset = block - self.first_data_block;
        let group = (offset / self.blocks_per_group) as usize;
        let bit = (offset % self.blocks_per_group) as usize;
        let bitmap_block = self.descriptor_field(group, group::BLOCK_BITMAP);
        let bitmap = self.bitmap(bitmap_block)?;
        if bitmap.bytes[bit / 8] & (1 << (bit % 8)) == 0 {
            return Err(Error::Corrupt("a block freed twice"));
        }
        bitmap.bytes[bit / 8] &= !(1 << (bit % 8));
        bitmap.dirty = true;
        self.count(group, group::FREE_BLOCKS, Some(sb::FREE_BLOCKS), 1);
        Ok(())
    }

    /// Allocates an inode, looking in `goal`'s group first.
    fn allocate_inode(&mut self, goal: usize, directory: bool) -> Result<u32, Error> {
        let count = self.group_count();
        for group in (goal..count).chain(0..goal) {
            if u16_at(self.descriptor(group), group::FREE_INODES) == 0 {
                continue;
            }
            let bitmap_block = self.descriptor_field(group, group::INODE_BITMAP);
            let mut bitmap = self.read_block(bitmap_block)?;
            let skip = if group == 0 { self.first_inode as usize - 1 } else { 0 };
            let Some(bit) = first_clear_bit(&bitmap, skip, self.inodes_per_group as usize) else {
                continue;
            };
            bitmap[bit / 8] |= 1 << (bit % 8);
            self.write_block(bitmap_block, &bitmap)?;
            self.count(group, group::FREE_INODES, Some(sb::FREE_INODES), -1);
            if directory {
                self.count(group, group::USED_DIRS, None, 1);
            }
            // The counts go out with the bitmap, so a crash leaves them agreeing.
            self.commit()?;
            return Ok(group as u32 * self.inodes_per_group + bit as u32 + 1);
        }
        Err(Error::NoSpace)
    }

    fn free_inode(&mut self, number: u32, directory: bool) -> Result<(), Error> {
        let group = ((number - 1) / self.inodes_per_group) as usize;
        let bit = ((number - 1) % self.inodes_per_group) as usize;
        let bitmap_block = self.descriptor_field(group, group::INODE_BITMAP);
        let mut bitmap = self.read_block(bitmap_block)?;
        bitmap[bit / 8] &= !(1 << (bit % 8));
        self.write_block(bitmap_block, &bitmap)?;
        self.count(group, group::FREE_INODES, Some(sb::FREE_INODES), 1);
        if directory {
            self.count(group, group::USED_DIRS, None, -1);
        }
        Ok(())
    }

    /// The byte address of inode `number`'s bytes on the device.
    fn inode_address(&self, number: u32) -> Result<u64, Error> {
        if number == 0 || number > self.inodes_count {
            return Err(Error::Corrupt("an inode number outside the file system"));
        }
        let group = ((number - 1) / self.inodes_per_group) as usize;
        let index = u64::from((number - 1) % self.inodes_per_group);
        let table = u64::from(self.descriptor_field(group, group::INODE_TABLE));
        Ok(table * self.block_size as u64 + index * self.inode_size as u64)
    }

    /// The sectors holding the inode at `address`, and where in them it starts.
    fn inode_sectors(&self, address: u64) -> (u64, usize, usize) {
        let first = address / SECTOR_SIZE as u64;
        let offset = (address % SECTOR_SIZE as u64) as usize;
        (
            first,
            offset,
            (offset + self.inode_size).div_ceil(SECTOR_SIZE) * SECTOR_SIZE,
        )
    }

    fn inode(&mut self, number: u32) -> Result<Inode, Error> {
        let (sector, offset, len) = self.inode_sectors(self.inode_address(number)?);
        let mut bytes = vec![0; len];
        self.device.read(sector, &mut bytes)?;
        Ok(Inode {
            number,
            bytes: bytes[offset..offset + self.inode_size].to_vec(),
        })
    }

    fn write_inode(&mut self, node: &Inode) -> Result<(), Error> {
        let (sector, offset, len) = self.inode_sectors(self.inode_address(node.number)?);
        let mut bytes = vec![0; len];
        self.device.read(sector, &mut bytes)?;
        bytes[offset..offset + self.inode_size].copy_from_slice(&node.bytes);
        self.device.write(sector, &bytes)?;
        Ok(())
    }

    fn pointers_per_block(&self) -> u64 {
        (self.block_size / 4) as u64
    }

    /// Where file block `index`'s pointer is.
    fn path(&self, index: u64) -> Result<BlockPath, Error> {
        let per = self.pointers_per_block();
        if index < inode::DIRECT as u64 {
            return Ok(BlockPath {
                slot: index as usize,
                indices: [0; 3],
                depth: 0,
            });
        }
        let mut rest = index - inode::DIRECT as u64;
        let mut span = per;
        for depth in 1..=3 {
            if rest < span {
                let mut indices = [0; 3];
                for (level, slot) in indices.iter_mut().take(depth).enumerate() {
                    let below = per.pow((depth - 1 - level) as u32);
                    *slot = ((rest / below) % per) as usize;
                }
                return Ok(BlockPath {
                    slot: inode::DIRECT + depth - 1,
                    indices,
                    depth,
                });
            }
            rest -= span;
            span *= per;
        }
        Err(Error::TooLarge)
    }

    fn group_of(&self, number: u32) -> usize {
        ((number - 1) / self.inodes_per_group) as usize
    }

    /// A new block for `node`, counted in its sectors; zeroed on the device when `zero`.
    fn new_block(&mut self, node: &mut Inode, zero: bool) -> Result<u32, Error> {
        let block = self.allocate_block(self.group_of(node.number))?;
        if zero {
            let zeroes = vec![0; self.block_size];
            self.write_block(block, &zeroes)?;
        }
        node.add_sectors(self.sectors_per_block() as i64);
        Ok(block)
    }

    /// The block holding file block `index` of `node` (0: a hole), allocating it and the
    /// indirect blocks on the way with `allocate` (the data block is not zeroed: the
    /// caller writes all of it).
    fn map(&mut self, node: &mut Inode, index: u64, allocate: bool) -> Result<u32, Error> {
        let path = self.path(index)?;
        let mut block = node.pointer(path.slot);
        if block == 0 {
            if !allocate {
                return Ok(0);
            }
            block = self.new_block(node, path.depth > 0)?;
            node.set_pointer(path.slot, block);
        }
        for (level, &at) in path.indices[..path.depth].iter().enumerate() {
            let mut table = self.table(block)?;
            let mut next = u32_at(&table, 4 * at);
            if next == 0 {
                if !allocate {
                    return Ok(0);
                }
                next = self.new_block(node, level + 1 < path.depth)?;
                layout::set_u32(&mut table, 4 * at, next);
                self.set_table(block, table);
            }
            block = next;
        }
        self.check_block(block)
    }

    /// Frees the blocks of the tree at `block` (`level` levels of indirection above the
    /// data; file blocks from `base` on) that hold file blocks at or past `keep`. True when
    /// nothing is left of it (the caller clears its pointer).
    fn free_tree(&mut self, node: &mut Inode, block: u32, level: u32, base: u64, keep: u64) -> Result<bool, Error> {
        if level == 0 {
            if base >= keep {
                self.free_block(block)?;
                node.add_sectors(-(self.sectors_per_block() as i64));
                return Ok(true);
            }
            return Ok(false);
        }
        let per = self.pointers_per_block();
        let child_span = per.pow(level - 1);
        let mut table = self.read_block(block)?;
        let mut changed = false;
        let mut left = false;
        for at in 0..per as usize {
            let child = u32_at(&table, 4 * at);
            if child == 0 {
                continue;
            }
            let child_base = base + at as u64 * child_span;
            if child_base + child_span <= keep {
                left = true;
                continue;
            }
            if self.free_tree(node, child, level - 1, child_base, keep)? {
                layout::set_u32(&mut table, 4 * at, 0);
                changed = true;
            } else {
                left = true;
            }
        }
        if !left {
            self.free_block(block)?;
            node.add_sectors(-(self.sectors_per_block() as i64));
            return Ok(true);
        }
        if changed {
            self.write_block(block, &table)?;
        }
        Ok(false)
    }

    /// Frees every block of `node` holding file blocks at or past `keep`.
    fn truncate_blocks(&mut self, node: &mut Inode, keep: u64) -> Result<(), Error> {
        let per = self.pointers_per_block();
        let mut base = 0;
        for slot in 0..inode::DIRECT + 3 {
            let level = slot.saturating_sub(inode::DIRECT - 1) as u32;
            let span = per.pow(level);
            let block = node.pointer(slot);
            if block != 0 && base + span > keep && self.free_tree(node, block, level, base, keep)? {
                node.set_pointer(slot, 0);
            }
            base += span;
        }
        Ok(())
    }

    /// What `stat` says of inode `number`.
    pub fn stat(&mut self, number: u32) -> Result<Stat, Error> {
        let node = self.inode(number)?;
        Ok(Stat {
            inode: number,
            kind: node.kind(),
            permissions: node.mode() & 0o7777,
            size: node.size(),
            links: node.links(),
            sectors: node.sectors(),
            modified: u32_at(&node.bytes, inode::MODIFY_TIME),
        })
    }

    fn file(&mut self, number: u32) -> Result<Inode, Error> {
        let node = self.inode(number)?;
        match node.kind() {
            FileKind::File => Ok(node),
            FileKind::Directory => Err(Error::IsDirectory),
            FileKind::Other => Err(Error::Invalid),
        }
    }

    fn check_writable(&self) -> Result<(), Error> {
        if self.writable { Ok(()) } else { Err(Error::ReadOnly) }
    }

    /// Reads file `number` from `offset` into `buffer`; 0 at or past the end.
    pub fn read_at(&mut self, number: u32, offset: u64, buffer: &mut [u8]) -> Result<usize, Error> {
        let mut node = self.file(number)?;
        let size = node.size();
        if offset >= size {
            return Ok(0);
        }
        let count = buffer.len().min((size - offset) as usize);
        let mut done = 0;
        while done < count {
            let at = offset + done as u64;
            let index = at / self.block_size as u64;
            let within = (at % self.block_size as u64) as usize;
            let block = self.map(&mut node, index, false)?;
            if block == 0 {
                let len = (self.block_size - within).min(count - done);
                buffer[done..done + len].fill(0);
                done += len;
                continue;
            }
            // The following file blocks that lie right after it on the disk come in the
            // same request.
            let wanted = (within + count - done).div_ceil(self.block_size);
            let mut blocks = 1;
            while blocks < wanted.min(RUN_BYTES / self.block_size)
                && self.map(&mut node, index + blocks as u64, false)? == block + blocks as u32
            {
                blocks += 1;
            }
            let bytes = self.read_blocks(block, blocks)?;
            let len = (bytes.len() - within).min(count - done);
            buffer[done..done + len].copy_from_slice(&bytes[within..within + len]);
            done += len;
        }
        Ok(count)
    }

    /// Writes `bytes` to file `number` at `offset`, growing it; as much as fits is
    /// written ([`Error::NoSpace`] when nothing did).
    pub fn write_at(&mut self, number: u32, offset: u64, bytes: &[u8]) -> Result<usize, Error> {
        self.check_writable()?;
        let mut node = self.file(number)?;
        let mut done = 0;
        let mut failure = None;
        // Data blocks written but not yet sent: the first block and their contents.
        let mut run: Option<(u32, Vec<u8>)> = None;
        while done < bytes.len() {
            let at = offset + done as u64;
            let index = at / self.block_size as u64;
            let within = (at % self.block_size as u64) as usize;
            let len = (self.block_size - within).min(bytes.len() - done);
            let existing = match self.map(&mut node, index, false) {
                Ok(block) => block,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            let (block, mut contents) = if existing != 0 {
                let contents = if len == self.block_size {
                    vec![0; self.block_size]
                } else {
                    self.read_block(existing)?
                };
                (existing, contents)
            } else {
                match self.map(&mut node, index, true) {
                    Ok(block) => (block, vec![0; self.block_size]),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            };
            contents[within..within + len].copy_from_slice(&bytes[done..done + len]);
            // Blocks that follow each other on the disk go out in one request.
            let joins = run.as_ref().is_some_and(|(first, data)| {
                *first + (data.len() / self.block_size) as u32 == block && data.len() < RUN_BYTES
            });
            if !joins && let Some((first, data)) = run.take() {
                self.write_blocks(first, &data)?;
            }
            match &mut run {
                Some((_, data)) => data.extend_from_slice(&contents),
                None => run = Some((block, contents)),
            }
            done += len;
        }
        // The data before the metadata that points to it.
        if let Some((first, data)) = run.take() {
            self.write_blocks(first, &data)?;
        }
        let end = offset + done as u64;
        if end > node.size() {
            node.set_size(end);
        }
        node.touch((self.clock)());
        self.commit()?;
        self.write_inode(&node)?;
        match (done, failure) {
            (0, Some(error)) if !bytes.is_empty() => Err(error),
            _ => Ok(done),
        }
    }

    /// Makes file `number` `length` bytes long: cut (its blocks past the end freed) or
    /// grown with a hole.
    pub fn set_len(&mut self, number: u32, length: u64) -> Result<(), Error> {
        self.check_writable()?;
        let mut node = self.file(number)?;
        self.path(length.saturating_sub(1) / self.block_size as u64)?;
        if length < node.size() {
            let keep = length.div_ceil(self.block_size as u64);
            self.truncate_blocks(&mut node, keep)?;
            // The rest of the last block reads as zeroes if the file grows again.
            let within = (length % self.block_size as u64) as usize;
            if within != 0 {
                let block = self.map(&mut node, length / self.block_size as u64, false)?;
                if block != 0 {
                    let mut contents = self.read_block(block)?;
                    contents[within..].fill(0);
                    self.write_block(block, &contents)?;
                }
            }
        }
        node.set_size(length);
        node.touch((self.clock)());
        self.write_inode(&node)?;
        self.commit()
    }

    fn directory(&mut self, number: u32) -> Result<Inode, Error> {
        let node = self.inode(number)?;
        match node.kind() {
            FileKind::Directory => Ok(node),
            _ => Err(Error::NotDirectory),
        }
    }

    /// Calls `visit` with each entry of directory `node` (block index, offset in the
    /// block, inode, record length, name, entry type) until it returns `Some`.
    fn scan<R>(
        &mut self,
        node: &mut Inode,
        mut visit: impl FnMut(u64, usize, u32, usize, &[u8], u8) -> Option<R>,
    ) -> Result<Option<R>, Error> {
        let blocks = node.size() / self.block_size as u64;
        for index in 0..blocks {
            let block = self.map(node, index, false)?;
            if block == 0 {
                continue;
            }
            let bytes = self.read_block(block)?;
            let mut at = 0;
            while at + layout::ENTRY_HEADER <= self.block_size {
                let number = u32_at(&bytes, at);
                let record = usize::from(u16_at(&bytes, at + 4));
                let name_len = usize::from(bytes[at + 6]);
                if record < layout::ENTRY_HEADER
                    || at + record > self.block_size
                    || layout::ENTRY_HEADER + name_len > record
                {
                    return Err(Error::Corrupt("a directory entry's length"));
                }
                let kind = if self.filetype { bytes[at + 7] } else { 0 };
                let name = &bytes[at + layout::ENTRY_HEADER..at + layout::ENTRY_HEADER + name_len];
                if let Some(result) = visit(index, at, number, record, name, kind) {
                    return Ok(Some(result));
                }
                at += record;
            }
        }
        Ok(None)
    }

    /// The inode `name` names in directory `directory`.
    pub fn lookup(&mut self, directory: u32, name: &[u8]) -> Result<u32, Error> {
        let mut node = self.directory(directory)?;
        let found = self.scan(&mut node, |_, _, number, _, found, _| {
            (number != 0 && found == name).then_some(number)
        })?;
        found.ok_or(Error::NotFound)
    }

    /// Entry `index` of directory `directory` (counting live entries, `.` and `..` among
    /// them, in the order they are stored): its name, inode and kind; `None` past the last.
    pub fn entry(&mut self, directory: u32, index: usize) -> Result<Option<(Vec<u8>, u32, FileKind)>, Error> {
        let mut node = self.directory(directory)?;
        let mut seen = 0;
        let found = self.scan(&mut node, |_, _, number, _, name, kind| {
            if number == 0 {
                return None;
            }
            seen += 1;
            (seen == index + 1).then(|| (name.to_vec(), number, kind))
        })?;
        let Some((name, number, kind)) = found else {
            return Ok(None);
        };
        let kind = match kind {
            layout::ENTRY_FILE => FileKind::File,
            layout::ENTRY_DIRECTORY => FileKind::Directory,
            0 => self.stat(number)?.kind,
            _ => FileKind::Other,
        };
        Ok(Some((name, number, kind)))
    }

    /// Every live entry of directory `directory` in one pass: name, inode and kind (from the
    /// entry's type, or the inode's when the file system keeps no types in entries).
    pub fn entries(&mut self, directory: u32) -> Result<Vec<(Vec<u8>, u32, FileKind)>, Error> {
        let mut node = self.directory(directory)?;
        let mut found = Vec::new();
        self.scan(&mut node, |_, _, number, _, name, kind| {
            if number != 0 {
                found.push((name.to_vec(), number, kind));
            }
            None::<()>
        })?;
        found
            .into_iter()
            .map(|(name, number, kind)| {
                let kind = match kind {
                    layout::ENTRY_FILE => FileKind::File,
                    layout::ENTRY_DIRECTORY => FileKind::Directory,
                    0 => self.stat(number)?.kind,
                    _ => FileKind::Other,
                };
                Ok((name, number, kind))
            })
            .collect()
    }

    fn entry_type(&self, kind: FileKind) -> u8 {
        match (self.filetype, kind) {
            (false, _) => 0,
            (true, FileKind::File) => layout::ENTRY_FILE,
            (true, FileKind::Directory) => layout::ENTRY_DIRECTORY,
            (true, FileKind::Other) => 0,
        }
    }

    /// Writes an entry at `at` of `bytes`.
    fn put_entry(&self, bytes: &mut [u8], at: usize, number: u32, record: usize, name: &[u8], kind: FileKind) {
        layout::set_u32(bytes, at, number);
        layout::set_u16(bytes, at + 4, record as u16);
        bytes[at + 6] = name.len() as u8;
        bytes[at + 7] = self.entry_type(kind);
        bytes[at + layout::ENTRY_HEADER..at + layout::ENTRY_HEADER + name.len()].copy_from_slice(name);
    }

    /// Adds `name` → `number` to directory `node` (written back), in the first gap that
    /// fits, else in a new block.
    fn add_entry(&mut self, node: &mut Inode, name: &[u8], number: u32, kind: FileKind) -> Result<(), Error> {
        let need = layout::entry_size(name.len());
        let gap = self.scan(node, |index, at, existing, record, found, _| {
            let used = if existing == 0 {
                0
            } else {
                layout::entry_size(found.len())
            };
            (record >= used + need).then_some((index, at, used, record))
        })?;
        match gap {
            Some((index, at, used, record)) => {
                let block = self.map(node, index, false)?;
                let mut bytes = self.read_block(block)?;
                if used != 0 {
                    layout::set_u16(&mut bytes, at + 4, used as u16);
                }
                self.put_entry(&mut bytes, at + used, number, record - used, name, kind);
                self.write_block(block, &bytes)?;
            }
            None => {
                let index = node.size() / self.block_size as u64;
                let block = self.map(node, index, true)?;
                let mut bytes = vec![0; self.block_size];
                self.put_entry(&mut bytes, 0, number, self.block_size, name, kind);
                self.write_block(block, &bytes)?;
                node.set_size(node.size() + self.block_size as u64);
            }
        }
        // A directory this code changed is no longer in htree order.
        let flags = u32_at(&node.bytes, inode::FLAGS) & !inode::INDEX_FLAG;
        layout::set_u32(&mut node.bytes, inode::FLAGS, flags);
        node.touch((self.clock)());
        self.commit()?;
        self.write_inode(node)
    }

    /// Takes `name` out of directory `node` (written back); the inode it named.
    fn remove_entry(&mut self, node: &mut Inode, name: &[u8]) -> Result<u32, Error> {
        let mut previous: Option<(u64, usize)> = None;
        let found = self.scan(node, |index, at, number, record, found, _| {
            if number != 0 && found == name {
                let before = previous.filter(|(block, _)| *block == index).map(|(_, at)| at);
                return Some((index, at, number, record, before));
            }
            previous = Some((index, at));
            None
        })?;
        let (index, at, number, record, before) = found.ok_or(Error::NotFound)?;
        let block = self.map(node, index, false)?;
        let mut bytes = self.read_block(block)?;
        match before {
            Some(before) => {
                let merged = usize::from(u16_at(&bytes, before + 4)) + record;
                layout::set_u16(&mut bytes, before + 4, merged as u16);
            }
            None => layout::set_u32(&mut bytes, at, 0),
        }
        self.write_block(block, &bytes)?;
        let flags = u32_at(&node.bytes, inode::FLAGS) & !inode::INDEX_FLAG;
        layout::set_u32(&mut node.bytes, inode::FLAGS, flags);
        node.touch((self.clock)());
        self.write_inode(node)?;
        Ok(number)
    }

    /// Checks a name for a new entry.
    fn check_name(name: &[u8]) -> Result<(), Error> {
        match name {
            [] | b"." | b".." => Err(Error::Exists),
            _ if name.len() > 255 => Err(Error::NameTooLong),
            _ if name.contains(&b'/') || name.contains(&0) => Err(Error::Invalid),
            _ => Ok(()),
        }
    }

    /// Makes `name` in directory `directory`: an empty file or directory with
    /// `permissions`; its inode number.
    pub fn create(&mut self, directory: u32, name: &[u8], kind: FileKind, permissions: u16) -> Result<u32, Error> {
        self.check_writable()?;
        Self::check_name(name)?;
        let mut parent = self.directory(directory)?;
        if self.lookup(directory, name).is_ok() {
            return Err(Error::Exists);
        }
        let is_directory = kind == FileKind::Directory;
        let number = self.allocate_inode(self.group_of(directory), is_directory)?;
        let now = (self.clock)();
        let mut node = Inode {
            number,
            bytes: vec![0; self.inode_size],
        };
        let type_bits = if is_directory {
            layout::MODE_DIRECTORY
        } else {
            layout::MODE_FILE
        };
        layout::set_u16(&mut node.bytes, inode::MODE, type_bits | (permissions & 0o7777));
        layout::set_u32(&mut node.bytes, inode::ACCESS_TIME, now);
        node.touch(now);
        if self.inode_size > inode::EXTRA_SIZE + 32 {
            // Room for the extra timestamp fields, as mke2fs and Linux set it.
            layout::set_u16(&mut node.bytes, inode::EXTRA_SIZE, 32);
        }
        node.set_links(if is_directory { 2 } else { 1 });
        if is_directory {
            let block = self.map(&mut node, 0, true)?;
            let mut bytes = vec![0; self.block_size];
            self.put_entry(&mut bytes, 0, number, 12, b".", FileKind::Directory);
            self.put_entry(
                &mut bytes,
                12,
                directory,
                self.block_size - 12,
                b"..",
                FileKind::Directory,
            );
            self.write_block(block, &bytes)?;
            node.set_size(self.block_size as u64);
        }
        self.commit()?;
        self.write_inode(&node)?;
        self.add_entry(&mut parent, name, number, kind)?;
        if is_directory {
            parent.set_links(parent.links() + 1);
            self.write_inode(&parent)?;
        }
        self.commit()?;
        Ok(number)
    }

    /// Takes the file `name` out of directory `directory`; the inode when that was its last
    /// name: the caller calls [`Ext2::release`] once no descriptor has it open.
    pub fn unlink(&mut self, directory: u32, name: &[u8]) -> Result<Option<u32>, Error> {
        self.check_writable()?;
        let number = self.lookup(directory, name)?;
        let mut node = self.inode(number)?;
        if node.kind() == FileKind::Directory {
            return Err(Error::IsDirectory);
        }
        let mut parent = self.directory(directory)?;
        self.remove_entry(&mut parent, name)?;
        let links = node.links().saturating_sub(1);
        node.set_links(links);
        node.touch((self.clock)());
        self.write_inode(&node)?;
        self.commit()?;
        Ok((links == 0).then_some(number))
    }

    /// Frees inode `number`, which no directory names any more, and its blocks.
    pub fn release(&mut self, number: u32) -> Result<(), Error> {
        self.check_writable()?;
        let mut node = self.inode(number)?;
        if node.links() != 0 {
            return Ok(());
        }
        let directory = node.kind() == FileKind::Directory;
        self.truncate_blocks(&mut node, 0)?;
        node.set_size(0);
        layout::set_u32(&mut node.bytes, inode::DELETE_TIME, (self.clock)());
        self.write_inode(&node)?;
        self.free_inode(number, directory)?;
        self.commit()
    }

    /// Whether directory `number` has only `.` and `..`.
    fn is_empty(&mut self, number: u32) -> Result<bool, Error> {
        let mut node = self.directory(number)?;
        let other = self.scan(&mut node, |_, _, entry, _, name, _| {
            (entry != 0 && name != b"." && name != b"..").then_some(())
        })?;
        Ok(other.is_none())
    }

    /// Removes the empty directory `name` from directory `directory`.
    pub fn remove_directory(&mut self, directory: u32, name: &[u8]) -> Result<(), Error> {
        self.check_writable()?;
        match name {
            b"." => return Err(Error::Invalid),
            b".." => return Err(Error::NotEmpty),
            _ => {}
        }
        let number = self.lookup(directory, name)?;
        self.directory(number)?;
        if !self.is_empty(number)? {
            return Err(Error::NotEmpty);
        }
        let mut parent = self.directory(directory)?;
        self.remove_entry(&mut parent, name)?;
        parent.set_links(parent.links().saturating_sub(1));
        self.write_inode(&parent)?;
        let mut node = self.inode(number)?;
        node.set_links(0);
        self.write_inode(&node)?;
        self.release(number)
    }

    /// Whether directory `inner` is `outer` or inside it (following `..`).
    fn is_within(&mut self, mut inner: u32, outer: u32) -> Result<bool, Error> {
        for _ in 0..4096 {
            if inner == outer {
                return Ok(true);
            }
            if inner == layout::ROOT_INODE {
                return Ok(false);
            }
            inner = self.lookup(inner, b"..")?;
        }
        Err(Error::Corrupt("a directory loop"))
    }

    /// Renames `from` in `from_directory` to `to` in `to_directory`, replacing a file there
    /// (or an empty directory, when moving one). The replaced file's inode when that was its
    /// last name (see [`Ext2::unlink`]).
    pub fn rename(
        &mut self,
        from_directory: u32,
        from: &[u8],
        to_directory: u32,
        to: &[u8],
    ) -> Result<Option<u32>, Error> {
        self.check_writable()?;
        if matches!(from, b"." | b"..") {
            return Err(Error::Invalid);
        }
        Self::check_name(to).map_err(|error| if error == Error::Exists { Error::Invalid } else { error })?;
        let number = self.lookup(from_directory, from)?;
        let moving = self.inode(number)?;
        let is_directory = moving.kind() == FileKind::Directory;
        if is_directory && self.is_within(to_directory, number)? {
            return Err(Error::Invalid);
        }
        if !is_directory {
            return self.rename_file(number, from_directory, from, to_directory, to);
        }
        let mut released = None;
        match self.lookup(to_directory, to) {
            Ok(existing) if existing == number => return Ok(None),
            Ok(existing) => {
                let target = self.stat(existing)?;
                match (is_directory, target.kind == FileKind::Directory) {
                    (false, true) => return Err(Error::IsDirectory),
                    (true, false) => return Err(Error::NotDirectory),
                    (true, true) => self.remove_directory(to_directory, to)?,
                    (false, false) => released = self.unlink(to_directory, to)?,
                }
            }
            Err(Error::NotFound) => {}
            Err(error) => return Err(error),
        }
        let kind = moving.kind();
        let mut target_parent = self.directory(to_directory)?;
        self.add_entry(&mut target_parent, to, number, kind)?;
        let mut source_parent = self.directory(from_directory)?;
        self.remove_entry(&mut source_parent, from)?;
        if is_directory && from_directory != to_directory {
            // Its `..` now names the new parent, which gains the link the old one loses.
            let mut moved = self.inode(number)?;
            let block = self.map(&mut moved, 0, false)?;
            let mut bytes = self.read_block(block)?;
            let dot_record = usize::from(u16_at(&bytes, 4));
            if dot_record + layout::ENTRY_HEADER > self.block_size || &bytes[dot_record + 8..dot_record + 10] != b".." {
                return Err(Error::Corrupt("a directory without `..` after `.`"));
            }
            layout::set_u32(&mut bytes, dot_record, to_directory);
            self.write_block(block, &bytes)?;
            let mut source_parent = self.inode(from_directory)?;
            source_parent.set_links(source_parent.links().saturating_sub(1));
            self.write_inode(&source_parent)?;
            let mut target_parent = self.inode(to_directory)?;
            target_parent.set_links(target_parent.links() + 1);
            self.write_inode(&target_parent)?;
        }
        self.commit()?;
        Ok(released)
    }

    /// [`Ext2::rename`] of the file `number`, ordered for crashes: the file gains a link
    /// before its new name is written and loses it after the old name is gone, so a crash
    /// in between leaves it under both names with a count that says so; a file it replaces
    /// loses its name in the same sector write that gives it to the new one.
    fn rename_file(
        &mut self,
        number: u32,
        from_directory: u32,
        from: &[u8],
        to_directory: u32,
        to: &[u8],
    ) -> Result<Option<u32>, Error> {
        let existing = match self.lookup(to_directory, to) {
            Ok(existing) if existing == number => return Ok(None),
            Ok(existing) => Some(existing),
            Err(Error::NotFound) => None,
            Err(error) => return Err(error),
        };
        if let Some(existing) = existing
            && self.stat(existing)?.kind == FileKind::Directory
        {
            return Err(Error::IsDirectory);
        }
        let mut moving = self.inode(number)?;
        let kind = moving.kind();
        moving.set_links(moving.links() + 1);
        self.write_inode(&moving)?;
        let mut target_parent = self.directory(to_directory)?;
        let mut released = None;
        match existing {
            Some(existing) => {
                self.retarget_entry(&mut target_parent, to, number, kind)?;
                let mut old = self.inode(existing)?;
                let links = old.links().saturating_sub(1);
                old.set_links(links);
                layout::set_u32(&mut old.bytes, inode::CHANGE_TIME, (self.clock)());
                self.write_inode(&old)?;
                released = (links == 0).then_some(existing);
            }
            None => self.add_entry(&mut target_parent, to, number, kind)?,
        }
        let mut source_parent = self.directory(from_directory)?;
        self.remove_entry(&mut source_parent, from)?;
        let mut moving = self.inode(number)?;
        moving.set_links(moving.links().saturating_sub(1));
        layout::set_u32(&mut moving.bytes, inode::CHANGE_TIME, (self.clock)());
        self.write_inode(&moving)?;
        self.commit()?;
        Ok(released)
    }

    /// Points the entry `name` of directory `node` at inode `number` (one sector write).
    fn retarget_entry(&mut self, node: &mut Inode, name: &[u8], number: u32, kind: FileKind) -> Result<(), Error> {
        let found = self.scan(node, |index, at, existing, _, found, _| {
            (existing != 0 && found == name).then_some((index, at))
        })?;
        let (index, at) = found.ok_or(Error::NotFound)?;
        let block = self.map(node, index, false)?;
        let mut bytes = self.read_block(block)?;
        layout::set_u32(&mut bytes, at, number);
        bytes[at + 7] = self.entry_type(kind);
        self.write_block(block, &bytes)?;
        node.touch((self.clock)());
        self.write_inode(node)
    }

    /// How big the file system is and how much of it is free: (block size, blocks, free
    /// blocks, inodes, free inodes), the free counts summed over the block groups.
    pub fn statistics(&self) -> (usize, u64, u64, u64, u64) {
        let free = |field| {
            (0..self.group_count())
                .map(|group| u64::from(u16_at(self.descriptor(group), field)))
                .sum()
        };
        (
            self.block_size,
            u64::from(self.blocks_count),
            free(group::FREE_BLOCKS),
            u64::from(self.inodes_count),
            free(group::FREE_INODES),
        )
    }

    /// Sets inode `number`'s modification time (Unix seconds), as `utimes` does: its
    /// change time becomes now.
    pub fn set_modified(&mut self, number: u32, modified: u32) -> Result<(), Error> {
        self.check_writable()?;
        let mut node = self.inode(number)?;
        layout::set_u32(&mut node.bytes, inode::MODIFY_TIME, modified);
        layout::set_u32(&mut node.bytes, inode::CHANGE_TIME, (self.clock)());
        self.write_inode(&node)
    }

    /// Sets inode `number`'s permission bits.
    pub fn set_permissions(&mut self, number: u32, permissions: u16) -> Result<(), Error> {
        self.check_writable()?;
        let mut node = self.inode(number)?;
        let mode = (node.mode() & layout::MODE_TYPE) | (permissions & 0o7777);
        layout::set_u16(&mut node.bytes, inode::MODE, mode);
        layout::set_u32(&mut node.bytes, inode::CHANGE_TIME, (self.clock)());
        self.write_inode(&node)
    }
}

/// The first clear bit of `bitmap` in `from..bits`.
fn first_clear_bit(bitmap: &[u8], from: usize, bits: usize) -> Option<usize> {
    (from..bits.min(bitmap.len() * 8)).find(|&bit| bitmap[bit / 8] & (1 << (bit % 8)) == 0)
}
