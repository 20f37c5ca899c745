//! The device tree a loader passes an arm64 image (QEMU, Xen), on arbitrary bytes: every
//! question the platforms ask of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_devicetree::{DeviceTree, HEADER_SIZE, MAX_RAM_REGIONS, MAX_VIRTIO_MMIO};

fuzz_target!(|bytes: &[u8]| {
    if let Some(prefix) = bytes.first_chunk::<8>() {
        let _ = unik_devicetree::declared_size(*prefix);
    }
    if let Some(header) = bytes.first_chunk::<HEADER_SIZE>() {
        // The part the arch layer moves is never more than the blob declares.
        let total = u64::from(u32::from_be_bytes([header[4], header[5], header[6], header[7]]));
        assert!(unik_devicetree::used_size(header) <= total);
    }
    let Some(tree) = DeviceTree::parse(bytes) else {
        return;
    };
    let ram: Vec<_> = tree.ram().collect();
    assert!(ram.len() <= MAX_RAM_REGIONS);
    assert!(ram.iter().all(|region| region.start <= region.end));
    let _ = tree.command_line();
    if let Some(ramdisk) = tree.initial_ramdisk() {
        assert!(ramdisk.start < ramdisk.end);
    }
    for compatible in ["arm,pl011", "arm,gic-v3", "arm,sbsa-uart\0arm,pl011", "arm,pl031"] {
        for index in 0..3 {
            if let Some(region) = tree.nth_register_block(compatible, index) {
                assert!(region.start <= region.end);
            }
        }
    }
    let _ = tree.virtual_timer_interrupt();
    let transports: Vec<_> = tree.virtio_mmio().collect();
    assert!(transports.len() <= MAX_VIRTIO_MMIO);
    for (device, interrupt) in transports {
        assert!(device.registers.start <= device.registers.end);
        assert_eq!(device.interrupt, interrupt.id);
    }
});
