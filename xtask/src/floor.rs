//! The bench's floor images: for each target, the least a guest can do to end its run, so
//! that a boot time minus the floor's is what the image itself costs.
//!
//! - PVH ELF targets: 9 bytes, `mov $0, %eax; out %eax, $0xf4; ud2`: QEMU's isa-debug-exit
//!   ends a direct boot; under Xen the `ud2` crashes the domain at once, which ends the run
//!   at Xen's "Hardware Dom0 crashed" line.
//! - arm64 `Image` targets ending by semihosting: `SYS_EXIT` with status 0.
//! - arm64 `Image` targets under Xen: the status line `unik: exit status 0` written to the
//!   domain's virtual PL011, whose address Xen's public `arch-arm.h` fixes
//!   (`GUEST_PL011_BASE`); the run ends at that line.

use std::path::Path;
use unik_boot_abi::arm64_image as abi;
use unik_targets::{ExitProtocol, ImageFormat, Target};

/// Writes the floor image for `target` to `path`.
pub fn write(path: &Path, target: &Target) -> Result<(), String> {
    let bytes = match (target.image_format, target.machine.exit, &target.machine.hypervisor) {
        (ImageFormat::PvhElf, _, _) => pvh_elf()?,
        (ImageFormat::Arm64Image, ExitProtocol::Semihosting, None) => arm64_image(&SEMIHOSTING_EXIT),
        (ImageFormat::Arm64Image, ExitProtocol::StatusLine, Some(_)) => arm64_image(&XEN_VPL011_STATUS_LINE),
        (format, exit, _) => {
            return Err(format!(
                "{}: no floor image for {format:?} images ending by {exit:?}",
                target.name
            ));
        }
    };
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The PVH floor: a 64-bit ELF with the code at 1 MiB and Xen's PVH entry note.
fn pvh_elf() -> Result<Vec<u8>, String> {
    use object::elf;
    use object::write::elf::{FileHeader, ProgramHeader, Writer};
    let mut note = Vec::new();
    for word in [4u32, 8, 18] {
        note.extend_from_slice(&word.to_le_bytes());
    }
    note.extend_from_slice(b"Xen\0");
    note.extend_from_slice(&0x100000u64.to_le_bytes());
    let code = [0xb8, 0, 0, 0, 0, 0xe7, 0xf4, 0x0f, 0x0b];
    let mut out = Vec::new();
    let mut w = Writer::new(object::Endianness::Little, true, &mut out);
    w.reserve_file_header();
    w.reserve_program_headers(2);
    let code_offset = w.reserve(code.len() as u64, 16);
    let note_offset = w.reserve(note.len() as u64, 4);
    let header = FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_EXEC,
        e_machine: elf::EM_X86_64,
        e_entry: 0x100000,
        e_flags: elf::FileFlags(0),
    };
    w.write_file_header(&header).map_err(|e| e.to_string())?;
    w.write_align_program_headers();
    let load = |p_type, p_flags, p_offset, p_vaddr, size: usize, p_align| ProgramHeader {
        p_type,
        p_flags: elf::ProgramFlags(p_flags),
        p_offset,
        p_vaddr,
        p_paddr: p_vaddr,
        p_filesz: size as u64,
        p_memsz: size as u64,
        p_align,
    };
    w.write_program_header(&load(elf::PT_LOAD, 5, code_offset, 0x100000, code.len(), 16));
    w.write_program_header(&load(elf::PT_NOTE, 4, note_offset, 0, note.len(), 4));
    w.pad_until(code_offset);
    w.write(&code);
    w.pad_until(note_offset);
    w.write(&note);
    Ok(out)
}

/// `adr x1, block; mov w0, #0x18 (SYS_EXIT); hlt #0xf000; b .; block: .quad
/// 0x20026 (ADP_Stopped_ApplicationExit), 0 (status)`.
const SEMIHOSTING_EXIT: [u32; 8] = [0x1000_0081, 0x5280_0300, 0xd45e_0000, 0x1400_0000, 0x0002_0026, 0, 0, 0];

/// `adr x1, line; mov x2, #20; mov x3, #0x22000000; 1: ldrb w4, [x1], #1; strb w4, [x3];
/// subs x2, x2, #1; b.ne 1b; 2: wfi; b 2b; line: .ascii "unik: exit status 0\n"`.
const XEN_VPL011_STATUS_LINE: [u32; 14] = [
    0x1000_0121,
    0xd280_0282,
    0xd2a4_4003,
    0x3840_1424,
    0x3900_0064,
    0xf100_0442,
    0x54ff_ffa1,
    0xd503_207f,
    0x17ff_ffff,
    u32::from_le_bytes(*b"unik"),
    u32::from_le_bytes(*b": ex"),
    u32::from_le_bytes(*b"it s"),
    u32::from_le_bytes(*b"tatu"),
    u32::from_le_bytes(*b"s 0\n"),
];

/// An arm64 `Image`: the header, whose first instruction branches over it, then `code`.
fn arm64_image(code: &[u32]) -> Vec<u8> {
    let mut image = vec![0u8; abi::HEADER_SIZE];
    let branch_over_header = 0x1400_0000 | (abi::HEADER_SIZE as u32 / 4);
    image[abi::CODE0_OFFSET..abi::CODE0_OFFSET + 4].copy_from_slice(&branch_over_header.to_le_bytes());
    image[abi::FLAGS_OFFSET..abi::FLAGS_OFFSET + 8].copy_from_slice(&abi::UNIK_FLAGS.to_le_bytes());
    image[abi::MAGIC_OFFSET..abi::MAGIC_OFFSET + 4].copy_from_slice(&abi::MAGIC);
    for word in code {
        image.extend_from_slice(&word.to_le_bytes());
    }
    let size = image.len() as u64;
    image[abi::IMAGE_SIZE_OFFSET..abi::IMAGE_SIZE_OFFSET + 8].copy_from_slice(&size.to_le_bytes());
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_floor_image() {
        let folder = tempfile::tempdir().unwrap();
        for target in unik_targets::all() {
            write(&folder.path().join(&target.name), &target).unwrap();
        }
    }

    #[test]
    fn the_arm64_floor_is_an_image_whose_entry_follows_the_header() {
        let image = arm64_image(&SEMIHOSTING_EXIT);
        assert_eq!(&image[abi::MAGIC_OFFSET..abi::MAGIC_OFFSET + 4], &abi::MAGIC);
        let code0 = u32::from_le_bytes(image[..4].try_into().unwrap());
        assert_eq!(abi::branch_target(code0), Some(abi::HEADER_SIZE as i64));
        assert_eq!(image.len(), abi::HEADER_SIZE + 32);
    }
}
