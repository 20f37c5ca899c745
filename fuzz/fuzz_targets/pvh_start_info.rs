//! The PVH start info a loader leaves an x86_64 image (Xen, QEMU), read from arbitrary guest
//! memory: the structure, its memory map and command line, and the heap carved from the RAM
//! it describes around the structures themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_boot_abi::pvh::{PhysicalMemory, StartInfo};

/// Guest memory: the input, at physical address `BASE`.
struct Window<'a>(&'a [u8]);

const BASE: u64 = 0x1000;

impl<'a> PhysicalMemory<'a> for Window<'a> {
    fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]> {
        let start = usize::try_from(address.checked_sub(BASE)?).ok()?;
        self.0.get(start..start.checked_add(len)?)
    }

    fn c_string(&self, address: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(address.checked_sub(BASE)?).ok()?;
        let rest = self.0.get(start..)?;
        rest.iter().position(|&b| b == 0).map(|end| &rest[..end])
    }
}

fuzz_target!(|memory: &[u8]| {
    // The first two bytes say where the loader put the structure.
    let Some((&[high, low], rest)) = memory.split_first_chunk::<2>() else {
        return;
    };
    let at = BASE + 2 + u64::from(u16::from_be_bytes([high, low])) % (rest.len() as u64 + 1);
    let Some(info) = StartInfo::read(&Window(memory), at) else {
        return;
    };
    let _ = core::str::from_utf8(info.command_line);
    let ram: Vec<_> = info.ram().collect();
    assert!(ram.iter().all(|region| region.start <= region.end));
    let reserved = info.footprint();
    let low_memory = 0..0x10_0000;
    let free: Vec<_> = unik_platform_api::memory::carve(
        ram.iter().cloned(),
        [
            low_memory.clone(),
            reserved[0].clone(),
            reserved[1].clone(),
            reserved[2].clone(),
        ],
    )
    .collect();
    // What the heap gets is RAM, none of it reserved, and no byte of it twice (a memory
    // map may list a range twice, or overlapping ranges).
    for (index, region) in free.iter().enumerate() {
        assert!(
            free[..index]
                .iter()
                .all(|other| region.end <= other.start || other.end <= region.start)
        );
        assert!(region.start < region.end);
        assert!(ram.iter().any(|r| r.start <= region.start && region.end <= r.end));
        for taken in reserved.iter().chain([&low_memory]) {
            assert!(region.end <= taken.start || taken.end <= region.start || taken.is_empty());
        }
    }
});
