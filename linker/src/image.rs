//! Reading an image's ELF structure, and writing the compact image file.
//!
//! The linker's output keeps sections, symbols and page-aligned file offsets that no
//! loader reads. [`compact`] keeps only the file header, the program headers and the bytes
//! of the loadable segments, packed tightly. [`Image::parse`] reads either form back.

use object::Endianness;
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::write::elf::{FileHeader as WriteFileHeader, ProgramHeader as WriteProgramHeader, Writer};
use thiserror::Error;

/// A file that cannot be read as an image.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageError {
    /// The file does not start with the ELF magic bytes.
    #[error("not an ELF image (it starts with {0:02x?} instead of 7f 45 4c 46)")]
    NotElf(Vec<u8>),
    /// An ELF file of a class or byte order images never have.
    #[error("unsupported ELF file: {0}; unik images are 64-bit little-endian")]
    Unsupported(&'static str),
    /// Headers or contents run past the end of the file, or are inconsistent.
    #[error("corrupt or truncated ELF image: {0}")]
    Corrupt(String),
}

/// `p_flags` bits.
pub mod flags {
    /// Executable.
    pub const X: u32 = 1;
    /// Writable.
    pub const W: u32 = 2;
    /// Readable.
    pub const R: u32 = 4;
}

/// One program header of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_type` (`PT_LOAD` = 1, `PT_NOTE` = 4, ...).
    pub kind: u32,
    /// `p_flags`, see [`flags`].
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_paddr`.
    pub paddr: u64,
    /// `p_filesz`.
    pub file_size: u64,
    /// `p_memsz`.
    pub mem_size: u64,
    /// `p_align`.
    pub align: u64,
}

impl Segment {
    /// Whether this is a `PT_LOAD` segment.
    pub fn is_load(&self) -> bool {
        self.kind == elf::PT_LOAD.0
    }

    /// Whether this is a `PT_NOTE` segment.
    pub fn is_note(&self) -> bool {
        self.kind == elf::PT_NOTE.0
    }

    /// `rwx`-style flags, e.g. `r-x`.
    pub fn flags_text(&self) -> String {
        let bit = |mask, c| if self.flags & mask != 0 { c } else { '-' };
        [bit(flags::R, 'r'), bit(flags::W, 'w'), bit(flags::X, 'x')]
            .iter()
            .collect()
    }

    fn memory(&self) -> std::ops::Range<u64> {
        self.vaddr..self.vaddr.saturating_add(self.mem_size)
    }
}

/// One ELF note found through a `PT_NOTE` segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Owner name, without its terminating NUL and padding.
    pub name: Vec<u8>,
    /// `n_type`.
    pub kind: u32,
    /// Descriptor bytes.
    pub desc: Vec<u8>,
    /// `p_align` of the segment the note was found in.
    pub segment_align: u64,
}

/// The structure of an image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// `e_machine` (`object::elf::EM_X86_64`, `EM_AARCH64`).
    pub machine: u16,
    /// `e_type` (`ET_EXEC` = 2).
    pub file_type: u16,
    /// `e_entry`.
    pub entry: u64,
    /// Program headers, in file order.
    pub segments: Vec<Segment>,
    /// Notes of all `PT_NOTE` segments.
    pub notes: Vec<Note>,
    /// Whether the file has section headers (a compact image has none).
    pub has_sections: bool,
    /// Size of the whole file.
    pub file_size: u64,
}

type Header = elf::FileHeader64<Endianness>;

fn corrupt(context: &str) -> impl Fn(object::Error) -> ImageError + '_ {
    move |e| ImageError::Corrupt(format!("{context}: {e}"))
}

fn parse_header(data: &[u8]) -> Result<(&Header, Endianness), ImageError> {
    if data.len() < 4 || data[..4] != elf::ELFMAG[..] {
        return Err(ImageError::NotElf(data.iter().take(4).copied().collect()));
    }
    if data.get(4) != Some(&elf::ELFCLASS64.0) {
        return Err(ImageError::Unsupported("32-bit ELF"));
    }
    if data.get(5) != Some(&elf::ELFDATA2LSB.0) {
        return Err(ImageError::Unsupported("big-endian ELF"));
    }
    let header = Header::parse(data).map_err(corrupt("the ELF file header"))?;
    let endian = header.endian().map_err(corrupt("the ELF file header"))?;
    Ok((header, endian))
}

impl Image {
    /// Reads the structure of the ELF image `data`.
    pub fn parse(data: &[u8]) -> Result<Image, ImageError> {
        let (header, endian) = parse_header(data)?;
        let headers = header
            .program_headers(endian, data)
            .map_err(corrupt("the program headers"))?;
        let mut segments = Vec::with_capacity(headers.len());
        let mut notes = Vec::new();
        let mut loaded_total = Some(0u64);
        for ph in headers {
            let segment = Segment {
                kind: ph.p_type(endian).0,
                flags: ph.p_flags(endian).0,
                offset: ph.p_offset(endian),
                vaddr: ph.p_vaddr(endian),
                paddr: ph.p_paddr(endian),
                file_size: ph.p_filesz(endian),
                mem_size: ph.p_memsz(endian),
                align: ph.p_align(endian),
            };
            let end = segment.offset.checked_add(segment.file_size);
            if segment.file_size > 0 && end.is_none_or(|end| end > data.len() as u64) {
                return Err(ImageError::Corrupt(format!(
                    "a segment's bytes (offset {:#x}, {} bytes) run past the end of the {}-byte file",
                    segment.offset,
                    segment.file_size,
                    data.len()
                )));
            }
            let reaches_past_memory = segment.vaddr.checked_add(segment.mem_size).is_none()
                || segment.paddr.checked_add(segment.mem_size).is_none();
            loaded_total = match segment.is_load() {
                true => loaded_total.and_then(|total| total.checked_add(segment.mem_size)),
                false => loaded_total,
            };
            if reaches_past_memory || loaded_total.is_none() {
                return Err(ImageError::Corrupt(format!(
                    "the segment at {:#x} ({} bytes of memory) reaches past the end of the address space",
                    segment.vaddr, segment.mem_size
                )));
            }
            if segment.file_size > segment.mem_size {
                return Err(ImageError::Corrupt(format!(
                    "the segment at {:#x} holds more file bytes ({}) than memory ({})",
                    segment.vaddr, segment.file_size, segment.mem_size
                )));
            }
            if let Some(mut iter) = ph.notes(endian, data).map_err(corrupt("a note segment"))? {
                while let Some(note) = iter.next().map_err(corrupt("a note"))? {
                    notes.push(Note {
                        name: note.name().to_vec(),
                        kind: note.n_type(endian).0,
                        desc: note.desc().to_vec(),
                        segment_align: segment.align,
                    });
                }
            }
            segments.push(segment);
        }
        Ok(Image {
            machine: header.e_machine(endian).0,
            file_type: header.e_type(endian).0,
            entry: header.e_entry(endian),
            segments,
            notes,
            has_sections: header.e_shnum(endian) != 0,
            file_size: data.len() as u64,
        })
    }

    /// The `PT_LOAD` segments.
    pub fn loads(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| s.is_load())
    }

    /// Bytes of memory the loaded segments occupy.
    pub fn loaded_bytes(&self) -> u64 {
        self.loads().map(|s| s.mem_size).sum()
    }

    /// The lowest physical address a loaded segment occupies (0 if there is none).
    pub fn loaded_start(&self) -> u64 {
        self.loads().map(|s| s.paddr).min().unwrap_or(0)
    }

    /// The highest address a loaded segment occupies (exclusive): where the loader puts
    /// it (its physical address) or where it runs (its virtual address), whichever is
    /// higher. They differ in arm64 images, whose entry code moves rodata and data up from
    /// where the file packs them.
    pub fn loaded_end(&self) -> u64 {
        self.loads()
            .map(|s| s.paddr.max(s.vaddr).saturating_add(s.mem_size))
            .max()
            .unwrap_or(0)
    }

    /// The loaded segment whose memory holds `address`.
    pub fn load_containing(&self, address: u64) -> Option<&Segment> {
        self.loads().find(|s| s.memory().contains(&address))
    }
}

/// Loadable segments are placed at file offsets congruent to their address modulo this.
const FILE_ALIGN: u64 = 16;

fn congruent_offset(at_least: u64, vaddr: u64, align: u64) -> u64 {
    at_least + (vaddr % align + align - at_least % align) % align
}

/// Writes the compact image for the linked ELF `linked`: file header, `PT_LOAD` and
/// `PT_NOTE` program headers, and the loadable bytes; no sections, no symbols.
pub fn compact(linked: &[u8]) -> Result<Vec<u8>, ImageError> {
    let (header, endian) = parse_header(linked)?;
    let image = Image::parse(linked)?;
    let kept: Vec<&Segment> = image.segments.iter().filter(|s| s.is_load() || s.is_note()).collect();

    let mut out = Vec::new();
    let mut writer = Writer::new(Endianness::Little, true, &mut out);
    writer.reserve_file_header();
    writer.reserve_program_headers(kept.len() as u32);

    // Loads first, in address order as linked; notes then point into them.
    let mut placed: Vec<(&Segment, u64, u64)> = Vec::new(); // (segment, new offset, align)
    for segment in kept.iter().filter(|s| s.is_load()) {
        let align = segment.align.clamp(1, FILE_ALIGN);
        let end = writer.reserved_len();
        let offset = if segment.file_size > 0 {
            let offset = congruent_offset(end, segment.vaddr, align);
            writer.reserve_until(offset);
            writer.reserve(segment.file_size, 1);
            offset
        } else {
            // No bytes: any congruent offset inside the file will do.
            segment.vaddr % align
        };
        placed.push((segment, offset, align));
    }
    let mut separate_notes = Vec::new();
    for segment in kept.iter().filter(|s| s.is_note()) {
        let inside = placed.iter().find(|(load, _, _)| {
            load.file_size > 0
                && segment.offset >= load.offset
                && segment.offset + segment.file_size <= load.offset + load.file_size
        });
        let offset = match inside {
            Some((load, load_offset, _)) => load_offset + (segment.offset - load.offset),
            None => {
                let offset = writer.reserve(segment.file_size, segment.align.max(1));
                separate_notes.push((*segment, offset));
                offset
            }
        };
        placed.push((segment, offset, segment.align));
    }

    writer
        .write_file_header(&WriteFileHeader {
            os_abi: header.e_ident().os_abi,
            abi_version: 0,
            e_type: header.e_type(endian),
            e_machine: header.e_machine(endian),
            e_entry: image.entry,
            e_flags: header.e_flags(endian),
        })
        .map_err(|e| ImageError::Corrupt(format!("cannot write the image header: {e}")))?;
    writer.write_align_program_headers();
    for (segment, offset, align) in &placed {
        writer.write_program_header(&WriteProgramHeader {
            p_type: elf::ProgramType(segment.kind),
            p_flags: elf::ProgramFlags(segment.flags),
            p_offset: *offset,
            p_vaddr: segment.vaddr,
            p_paddr: segment.paddr,
            p_filesz: segment.file_size,
            p_memsz: segment.mem_size,
            p_align: *align,
        });
    }
    for (segment, offset, _) in placed.iter().filter(|(s, _, _)| s.is_load() && s.file_size > 0) {
        writer.pad_until(*offset);
        writer.write(bytes_of(linked, segment));
    }
    for (segment, offset) in separate_notes {
        writer.pad_until(offset);
        writer.write(bytes_of(linked, segment));
    }
    Ok(out)
}

fn bytes_of<'a>(data: &'a [u8], segment: &Segment) -> &'a [u8] {
    // `Image::parse` checked that every segment with bytes lies inside the file; one
    // without bytes may name any offset.
    let start = segment.offset as usize;
    data.get(start..start + segment.file_size as usize).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a small linked-style ELF: text (r-x) holding a PVH note, data (rw-) and bss.
    pub(crate) fn sample_elf(pvh_entry: u64, text_flags: u32) -> Vec<u8> {
        let mut note = Vec::new();
        note.extend_from_slice(&4u32.to_le_bytes());
        note.extend_from_slice(&8u32.to_le_bytes());
        note.extend_from_slice(&18u32.to_le_bytes());
        note.extend_from_slice(b"Xen\0");
        note.extend_from_slice(&pvh_entry.to_le_bytes());
        let mut text = vec![0xf4u8; 64]; // hlt
        text.extend_from_slice(&note);
        let data = vec![0x11u8; 24];

        let mut out = Vec::new();
        let mut w = Writer::new(Endianness::Little, true, &mut out);
        w.reserve_file_header();
        w.reserve_program_headers(4);
        let text_offset = w.reserve(text.len() as u64, 0x1000);
        let data_offset = w.reserve(data.len() as u64, 0x1000);
        w.write_file_header(&WriteFileHeader {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_type: elf::ET_EXEC,
            e_machine: elf::EM_X86_64,
            e_entry: 0x100000,
            e_flags: elf::FileFlags(0),
        })
        .unwrap();
        w.write_align_program_headers();
        let ph = |p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz, p_align| WriteProgramHeader {
            p_type,
            p_flags: elf::ProgramFlags(p_flags),
            p_offset,
            p_vaddr,
            p_paddr: p_vaddr,
            p_filesz,
            p_memsz,
            p_align,
        };
        let text_len = text.len() as u64;
        w.write_program_header(&ph(
            elf::PT_LOAD,
            text_flags,
            text_offset,
            0x100000,
            text_len,
            text_len,
            0x1000,
        ));
        w.write_program_header(&ph(elf::PT_LOAD, 6, data_offset, 0x101000, 24, 24, 0x1000));
        w.write_program_header(&ph(elf::PT_LOAD, 6, data_offset + 24, 0x102000, 0, 0x3000, 0x1000));
        w.write_program_header(&ph(elf::PT_NOTE, 4, text_offset + 64, 0x100040, 24, 24, 4));
        w.pad_until(text_offset);
        w.write(&text);
        w.pad_until(data_offset);
        w.write(&data);
        out
    }

    #[test]
    fn compact_round_trip_keeps_every_loaded_byte_and_note() {
        let linked = sample_elf(0x100000, 5);
        let compacted = compact(&linked).unwrap();
        assert!(
            compacted.len() < linked.len(),
            "{} >= {}",
            compacted.len(),
            linked.len()
        );
        let before = Image::parse(&linked).unwrap();
        let after = Image::parse(&compacted).unwrap();
        assert_eq!(after.entry, before.entry);
        assert_eq!(after.notes, before.notes);
        assert!(!after.has_sections);
        for (a, b) in after.loads().zip(before.loads()) {
            assert_eq!(
                (a.vaddr, a.paddr, a.file_size, a.mem_size, a.flags),
                (b.vaddr, b.paddr, b.file_size, b.mem_size, b.flags)
            );
            assert_eq!(bytes_of(&compacted, a), bytes_of(&linked, b));
            assert_eq!(a.offset % a.align, a.vaddr % a.align);
        }
        // Compacting is idempotent.
        assert_eq!(compact(&compacted).unwrap(), compacted);
    }

    #[test]
    fn file_sizes_sum_to_the_file() {
        let compacted = compact(&sample_elf(0x100000, 5)).unwrap();
        let image = Image::parse(&compacted).unwrap();
        let sizes = image.file_sizes();
        assert_eq!(
            sizes.headers + sizes.text + sizes.rodata + sizes.data + sizes.other,
            compacted.len() as u64
        );
        assert_eq!(sizes.headers, 64 + 4 * 56);
        assert_eq!((sizes.text, sizes.data), (88, 24));
    }

    #[test]
    fn truncation_at_every_length_is_an_error_never_a_panic() {
        let image = compact(&sample_elf(0x100000, 5)).unwrap();
        for len in 0..image.len() {
            assert!(
                Image::parse(&image[..len]).is_err(),
                "accepted {len} of {} bytes",
                image.len()
            );
        }
    }

    #[test]
    fn foreign_files_are_named_for_what_they_are() {
        assert_eq!(Image::parse(b"#!/bin/sh\n"), Err(ImageError::NotElf(b"#!/b".to_vec())));
        let mut big_endian = sample_elf(0, 5);
        big_endian[5] = elf::ELFDATA2MSB.0;
        assert_eq!(
            Image::parse(&big_endian),
            Err(ImageError::Unsupported("big-endian ELF"))
        );
    }
}

/// Loaded bytes by kind, from segment permissions: what the image costs in memory. The one
/// type the build record, the JSON message and the size report share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadedSizes {
    /// Executable segments.
    pub text: u64,
    /// Read-only, non-executable segments.
    pub rodata: u64,
    /// File-backed bytes of writable segments.
    pub data: u64,
    /// Zero-filled bytes (bss, stacks, boot page tables, pages a hypervisor fills).
    pub bss: u64,
}

impl Image {
    /// The loaded bytes split into text, rodata, data and bss.
    pub fn loaded_sizes(&self) -> LoadedSizes {
        let mut sizes = LoadedSizes::default();
        for segment in self.loads() {
            if segment.flags & flags::X != 0 {
                // Zero-filled executable memory (Xen's hypercall page) is not code.
                sizes.text += segment.file_size;
                sizes.bss += segment.mem_size - segment.file_size;
            } else if segment.flags & flags::W != 0 {
                sizes.data += segment.file_size;
                sizes.bss += segment.mem_size - segment.file_size;
            } else {
                sizes.rodata += segment.mem_size;
            }
        }
        sizes
    }
}

/// The image file's bytes by what they hold; the fields sum to the file's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSizes {
    /// ELF file header and program headers.
    pub headers: u64,
    /// Bytes of executable segments.
    pub text: u64,
    /// Bytes of read-only segments.
    pub rodata: u64,
    /// Bytes of writable segments.
    pub data: u64,
    /// Everything else: alignment padding, section headers, symbols (a linked ELF).
    pub other: u64,
}

/// Size of an ELF64 file header.
const FILE_HEADER_SIZE: u64 = 64;
/// Size of an ELF64 program header.
const PROGRAM_HEADER_SIZE: u64 = 56;

impl Image {
    /// The file's bytes by what they hold.
    pub fn file_sizes(&self) -> FileSizes {
        let mut sizes = FileSizes {
            headers: FILE_HEADER_SIZE + PROGRAM_HEADER_SIZE * self.segments.len() as u64,
            ..FileSizes::default()
        };
        for segment in self.loads() {
            if segment.flags & flags::X != 0 {
                sizes.text += segment.file_size;
            } else if segment.flags & flags::W != 0 {
                sizes.data += segment.file_size;
            } else {
                sizes.rodata += segment.file_size;
            }
        }
        let counted = sizes.headers + sizes.text + sizes.rodata + sizes.data;
        sizes.other = self.file_size.saturating_sub(counted);
        sizes
    }
}
