//! Linux arm64 `Image` files: the loadable bytes of a position-independent ELF laid out
//! from address 0, the 64-byte header first ([`write`]); and the checks that the header,
//! the ELF and the self-relocation the entry code performs agree ([`check`]).

use crate::image::{Image, ImageError};
use object::Endianness;
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use thiserror::Error;
use unik_boot_abi::arm64_image as abi;

/// A rule an arm64 Image breaks.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Arm64Error {
    /// The file is too short for the header, or lacks the magic.
    #[error("no arm64 Image header (magic `ARM\\x64` at byte 0x38)")]
    NoHeader,
    /// `code0` is not a branch to the ELF entry.
    #[error("the header's first instruction {0:#010x} is not a branch to the entry")]
    NoBranch(u32),
    /// A header field has a value loaders would misread.
    #[error("header field `{field}` is {found:#x}, expected {expected}")]
    Field {
        /// The field.
        field: &'static str,
        /// Its value.
        found: u64,
        /// What it must be.
        expected: String,
    },
    /// A dynamic relocation the entry code does not apply.
    #[error(
        "the image has a dynamic relocation of type {0}; the entry code applies only R_AARCH64_RELATIVE (1027). Is everything built with -Crelocation-model=pie?"
    )]
    Relocation(u32),
    /// A dynamic section the entry code does not handle.
    #[error("the image has a {0} table; the entry code applies only the RELA table")]
    UnhandledTable(&'static str),
}

type Header = elf::FileHeader64<Endianness>;

/// The most bytes an Image file written by [`write`] spans: 64 MiB.
pub const MAX_IMAGE_SPAN: u64 = 64 << 20;

/// The Image bytes of the linked, position-independent ELF `elf`: every loadable
/// segment's file bytes at its offset from the first, gaps zero-filled, up to the last file
/// byte (the bss and stack beyond are in the header's `image_size`, not in the file).
///
/// The file spans at most [`MAX_IMAGE_SPAN`] bytes (every target's images are far smaller;
/// an ELF whose segments lie further apart is refused, not written as gigabytes of zeros).
pub fn write(elf: &[u8]) -> Result<Vec<u8>, ImageError> {
    let image = Image::parse(elf)?;
    let base = image.loaded_start();
    let mut out = Vec::new();
    for segment in image.loads().filter(|s| s.file_size > 0) {
        let start = segment.paddr - base;
        let end = start + segment.file_size;
        if end > MAX_IMAGE_SPAN {
            return Err(ImageError::Corrupt(format!(
                "the loadable segments span {end:#x} bytes from {base:#x}: more than an Image holds ({MAX_IMAGE_SPAN:#x})"
            )));
        }
        let (start, end) = (start as usize, end as usize);
        if out.len() < end {
            out.resize(end, 0);
        }
        let bytes = &elf[segment.offset as usize..(segment.offset + segment.file_size) as usize];
        out[start..end].copy_from_slice(bytes);
    }
    Ok(out)
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    bytes
        .get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The header fields of an Image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    /// The first instruction.
    pub code0: u32,
    /// `text_offset`.
    pub text_offset: u64,
    /// `image_size`.
    pub image_size: u64,
    /// `flags`.
    pub flags: u64,
}

impl ImageHeader {
    /// Reads the header at the start of `image`.
    pub fn parse(image: &[u8]) -> Result<ImageHeader, Arm64Error> {
        if image.len() < abi::HEADER_SIZE || image[abi::MAGIC_OFFSET..abi::MAGIC_OFFSET + 4] != abi::MAGIC {
            return Err(Arm64Error::NoHeader);
        }
        let code0 = u32::from_le_bytes(
            image[abi::CODE0_OFFSET..abi::CODE0_OFFSET + 4]
                .try_into()
                .unwrap_or_default(),
        );
        Ok(ImageHeader {
            code0,
            text_offset: u64_at(image, abi::TEXT_OFFSET_OFFSET),
            image_size: u64_at(image, abi::IMAGE_SIZE_OFFSET),
            flags: u64_at(image, abi::FLAGS_OFFSET),
        })
    }
}

/// Checks the Image `image` written from `elf`: a header loaders read right (an entry
/// branch, `image_size` covering bss and stack, little endian, 4 KiB pages, placeable
/// anywhere) and only relocations the entry code applies. Returns their count.
pub fn check(elf: &[u8], image: &[u8]) -> Result<usize, Arm64Error> {
    let header = ImageHeader::parse(image)?;
    let parsed = Image::parse(elf).map_err(|_| Arm64Error::NoHeader)?;
    let field = |field, found: u64, expected: String| Err(Arm64Error::Field { field, found, expected });
    let base = parsed.loaded_start();
    if parsed.entry != base {
        return field(
            "the ELF entry",
            parsed.entry,
            format!("{base:#x}, the image's start: loaders enter at the header"),
        );
    }
    let executable = |address: i64| {
        u64::try_from(address)
            .ok()
            .and_then(|a| parsed.load_containing(a))
            .is_some_and(|s| s.flags & crate::image::flags::X != 0)
    };
    if !abi::branch_target(header.code0).is_some_and(|offset| executable(base as i64 + offset)) {
        return Err(Arm64Error::NoBranch(header.code0));
    }
    if header.text_offset != 0 {
        return field("text_offset", header.text_offset, "0".into());
    }
    let span = parsed.loaded_end() - base;
    if header.image_size < span {
        return field(
            "image_size",
            header.image_size,
            format!("at least {span:#x} (file, bss and stack)"),
        );
    }
    if header.flags != abi::UNIK_FLAGS {
        return field(
            "flags",
            header.flags,
            format!("{:#x} (little endian, 4 KiB pages, anywhere)", abi::UNIK_FLAGS),
        );
    }
    relocations(elf)
}

/// Counts the ELF's dynamic relocations, all of which must be `R_AARCH64_RELATIVE`.
fn relocations(data: &[u8]) -> Result<usize, Arm64Error> {
    let Ok(header) = Header::parse(data) else {
        return Ok(0);
    };
    let Ok(endian) = header.endian() else { return Ok(0) };
    let Ok(segments) = header.program_headers(endian, data) else {
        return Ok(0);
    };
    let Some(Ok(Some(dynamic))) = segments
        .iter()
        .find(|s| s.p_type(endian) == elf::PT_DYNAMIC)
        .map(|s| s.dynamic(endian, data))
    else {
        return Ok(0);
    };
    let (mut rela, mut rela_size) = (0, 0);
    for entry in dynamic {
        match entry.d_tag(endian) {
            elf::DT_RELA => rela = entry.d_val(endian),
            elf::DT_RELASZ => rela_size = entry.d_val(endian),
            elf::DT_REL => return Err(Arm64Error::UnhandledTable("REL")),
            elf::DT_RELR => return Err(Arm64Error::UnhandledTable("RELR")),
            elf::DT_JMPREL => return Err(Arm64Error::UnhandledTable("PLT relocation")),
            _ => {}
        }
    }
    let Some(at) = segments.iter().find_map(|s| {
        let (vaddr, size) = (s.p_vaddr(endian), s.p_filesz(endian));
        (s.p_type(endian) == elf::PT_LOAD && (vaddr..vaddr + size).contains(&rela))
            .then(|| (s.p_offset(endian) + rela - vaddr) as usize)
    }) else {
        return Ok(0);
    };
    let bytes = data.get(at..at + rela_size as usize).unwrap_or_default();
    let entries: &[elf::Rela64<Endianness>] = object::pod::slice_from_all_bytes(bytes).unwrap_or_default();
    for entry in entries {
        let kind = entry.r_type(endian, false).0;
        if kind != abi::R_AARCH64_RELATIVE {
            return Err(Arm64Error::Relocation(kind));
        }
    }
    Ok(entries.len())
}

/// The Image file's bytes by what they hold, from the ELF `linked` it was written from:
/// the 64-byte header (counted as headers, not text), each segment's bytes, and the zero
/// padding that keeps segments at their page-aligned addresses (as `other`).
pub fn file_sizes(image: &[u8], linked: &[u8]) -> Result<crate::FileSizes, ImageError> {
    let parsed = Image::parse(linked)?;
    let mut sizes = parsed.file_sizes();
    sizes.headers = abi::HEADER_SIZE as u64;
    sizes.text = sizes.text.saturating_sub(abi::HEADER_SIZE as u64);
    let counted = sizes.headers + sizes.text + sizes.rodata + sizes.data;
    sizes.other = (image.len() as u64).saturating_sub(counted);
    Ok(sizes)
}

/// Whether `file` starts like an arm64 Image (rather than an ELF file).
pub fn is_image(file: &[u8]) -> bool {
    ImageHeader::parse(file).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::write::elf::{FileHeader as WriteFileHeader, ProgramHeader as WriteProgramHeader, Writer};

    const BASE: u64 = 0x4020_0000;
    const BSS: u64 = 0x2_0000;

    /// A header as `entry.S` writes it: `b +0x40`, image_size, flags.
    fn header(image_size: u64, flags: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; abi::HEADER_SIZE];
        bytes[..4].copy_from_slice(&0x1400_0010u32.to_le_bytes());
        bytes[abi::IMAGE_SIZE_OFFSET..abi::IMAGE_SIZE_OFFSET + 8].copy_from_slice(&image_size.to_le_bytes());
        bytes[abi::FLAGS_OFFSET..abi::FLAGS_OFFSET + 8].copy_from_slice(&flags.to_le_bytes());
        bytes[abi::MAGIC_OFFSET..abi::MAGIC_OFFSET + 4].copy_from_slice(&abi::MAGIC);
        bytes
    }

    /// A position-independent ELF like a linked arm64 image: text (header and code) at
    /// BASE, read-only data a page later, and bss after it.
    fn elf(text: &[u8]) -> Vec<u8> {
        let rodata = [0x5au8; 24];
        let mut out = Vec::new();
        let mut w = Writer::new(Endianness::Little, true, &mut out);
        w.reserve_file_header();
        w.reserve_program_headers(3);
        let text_offset = w.reserve(text.len() as u64, 0x1000);
        let rodata_offset = w.reserve(rodata.len() as u64, 0x1000);
        w.write_file_header(&WriteFileHeader {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_type: elf::ET_DYN,
            e_machine: elf::EM_AARCH64,
            e_entry: BASE,
            e_flags: elf::FileFlags(0),
        })
        .unwrap();
        w.write_align_program_headers();
        let load = |offset, vaddr, size, memsz, flags| WriteProgramHeader {
            p_type: elf::PT_LOAD,
            p_flags: elf::ProgramFlags(flags),
            p_offset: offset,
            p_vaddr: vaddr,
            p_paddr: vaddr,
            p_filesz: size,
            p_memsz: memsz,
            p_align: 0x1000,
        };
        let n = text.len() as u64;
        w.write_program_header(&load(text_offset, BASE, n, n, 5));
        w.write_program_header(&load(rodata_offset, BASE + 0x1000, 24, 24, 4));
        w.write_program_header(&load(0, BASE + 0x2000, 0, BSS, 6));
        w.pad_until(text_offset);
        w.write(text);
        w.pad_until(rodata_offset);
        w.write(&rodata);
        out
    }

    fn text(image_size: u64, flags: u64) -> Vec<u8> {
        let mut text = header(image_size, flags);
        text.extend_from_slice(&0xd503_207fu32.to_le_bytes()); // wfi
        text
    }

    #[test]
    fn the_image_is_the_loadable_bytes_from_the_header_on() {
        let linked = elf(&text(0x2000 + BSS, abi::UNIK_FLAGS));
        let image = write(&linked).unwrap();
        assert_eq!(image.len(), 0x1000 + 24, "text, padding to rodata's page, rodata");
        assert_eq!(&image[..68], &text(0x2000 + BSS, abi::UNIK_FLAGS)[..]);
        assert!(image[68..0x1000].iter().all(|&b| b == 0));
        assert_eq!(&image[0x1000..], &[0x5a; 24]);
        assert_eq!(check(&linked, &image), Ok(0));
        let header = ImageHeader::parse(&image).unwrap();
        assert_eq!((header.text_offset, header.image_size), (0, 0x2000 + BSS));
        assert!(is_image(&image) && !is_image(&linked));
        let sizes = file_sizes(&image, &linked).unwrap();
        assert_eq!((sizes.headers, sizes.text, sizes.rodata), (64, 4, 24));
        assert_eq!(sizes.other, image.len() as u64 - 64 - 4 - 24);
    }

    #[test]
    fn header_fields_loaders_would_misread_are_named() {
        let small = elf(&text(0x1000, abi::UNIK_FLAGS));
        assert!(matches!(
            check(&small, &write(&small).unwrap()),
            Err(Arm64Error::Field {
                field: "image_size",
                ..
            })
        ));
        let big_endian = elf(&text(0x2000 + BSS, abi::UNIK_FLAGS | abi::FLAG_BIG_ENDIAN));
        assert!(matches!(
            check(&big_endian, &write(&big_endian).unwrap()),
            Err(Arm64Error::Field { field: "flags", .. })
        ));
        let mut no_branch = text(0x2000 + BSS, abi::UNIK_FLAGS);
        no_branch[..4].copy_from_slice(&0xd503_201fu32.to_le_bytes());
        let no_branch = elf(&no_branch);
        assert_eq!(
            check(&no_branch, &write(&no_branch).unwrap()),
            Err(Arm64Error::NoBranch(0xd503_201f))
        );
        assert_eq!(check(&no_branch, b"not an image"), Err(Arm64Error::NoHeader));
    }
}
