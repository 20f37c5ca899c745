//! Checks a finished image against what its loader and boot code rely on.

use crate::image::{Image, flags};
use thiserror::Error;
use unik_boot_abi::pvh;

pub use unik_targets::{Arch, ImageFormat};

/// The ELF `e_machine` of images for `arch`.
pub fn elf_machine(arch: Arch) -> u16 {
    match arch {
        Arch::X86_64 => object::elf::EM_X86_64.0,
        Arch::Aarch64 => object::elf::EM_AARCH64.0,
    }
}

/// What a target expects of its images.
#[derive(Clone, Debug)]
pub struct Expectations {
    /// Image format.
    pub format: ImageFormat,
    /// `e_machine` the image must have (see [`elf_machine`]).
    pub machine: u16,
    /// Lowest physical address a segment may be loaded at.
    pub load_address: u64,
}

impl Expectations {
    /// What `target` expects of its images.
    pub fn of(target: &unik_targets::Target) -> Expectations {
        Expectations {
            format: target.image_format,
            machine: elf_machine(target.arch),
            load_address: target.layout.load_address,
        }
    }
}

/// A rule the image breaks.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// Wrong CPU architecture.
    #[error("the image is for ELF machine {found}, but the target needs machine {expected}")]
    Machine {
        /// `e_machine` found.
        found: u16,
        /// `e_machine` required.
        expected: u16,
    },
    /// Not the kind of ELF file the format needs.
    #[error(
        "the image is ELF type {found}, but the target needs type {expected} (2 = a static executable at a fixed address, 3 = position-independent); are the target's relocation-model and link flags in effect?"
    )]
    FileType {
        /// `e_type` found.
        found: u16,
        /// `e_type` required.
        expected: u16,
    },
    /// Nothing to load.
    #[error("the image has no loadable (PT_LOAD) segment")]
    NoLoadSegment,
    /// A writable and executable segment.
    #[error("the segment at {0:#x} is both writable and executable (W^X)")]
    WritableAndExecutable(u64),
    /// Two segments occupy the same memory.
    #[error("the segments at {0:#x} and {1:#x} overlap in memory")]
    Overlap(u64, u64),
    /// A segment below the target's load address.
    #[error("the segment at {segment:#x} lies below the target's load address {load_address:#x}")]
    BelowLoadAddress {
        /// Segment address.
        segment: u64,
        /// Lowest allowed address.
        load_address: u64,
    },
    /// Entry point outside executable memory.
    #[error("the {which} entry point {address:#x} is not inside an executable segment")]
    EntryNotExecutable {
        /// Which entry (ELF or PVH).
        which: &'static str,
        /// The address.
        address: u64,
    },
    /// Missing PVH note.
    #[error("the image has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); neither Xen nor QEMU can boot it")]
    NoPvhNote,
    /// PVH note in a badly aligned segment.
    #[error("the PVH note's segment has p_align {0}, but QEMU needs 4 to read it correctly")]
    NoteAlignment(u64),
    /// PVH note with a malformed descriptor.
    #[error("the PVH note's descriptor is {0} bytes, not 4 or 8")]
    NoteDescriptor(usize),
}

/// Checks `image` against `expected`; the first broken rule is the error.
pub fn verify(image: &Image, expected: &Expectations) -> Result<(), VerifyError> {
    if image.machine != expected.machine {
        return Err(VerifyError::Machine {
            found: image.machine,
            expected: expected.machine,
        });
    }
    let file_type = match expected.format {
        ImageFormat::PvhElf => object::elf::ET_EXEC.0,
        ImageFormat::Arm64Image => object::elf::ET_DYN.0,
    };
    if image.file_type != file_type {
        return Err(VerifyError::FileType {
            found: image.file_type,
            expected: file_type,
        });
    }
    let loads: Vec<_> = image.loads().collect();
    if loads.is_empty() {
        return Err(VerifyError::NoLoadSegment);
    }
    for (i, segment) in loads.iter().enumerate() {
        if segment.flags & flags::W != 0 && segment.flags & flags::X != 0 {
            return Err(VerifyError::WritableAndExecutable(segment.vaddr));
        }
        if segment.paddr < expected.load_address {
            return Err(VerifyError::BelowLoadAddress {
                segment: segment.paddr,
                load_address: expected.load_address,
            });
        }
        for other in &loads[i + 1..] {
            let disjoint =
                segment.vaddr + segment.mem_size <= other.vaddr || other.vaddr + other.mem_size <= segment.vaddr;
            if !disjoint && segment.mem_size > 0 && other.mem_size > 0 {
                return Err(VerifyError::Overlap(segment.vaddr, other.vaddr));
            }
        }
    }
    let executable = |address| image.load_containing(address).is_some_and(|s| s.flags & flags::X != 0);
    if !executable(image.entry) {
        return Err(VerifyError::EntryNotExecutable {
            which: "ELF",
            address: image.entry,
        });
    }
    match expected.format {
        ImageFormat::PvhElf => {
            let note = image
                .notes
                .iter()
                .find(|n| n.name == pvh::XEN_ELFNOTE_NAME && n.kind == pvh::XEN_ELFNOTE_PHYS32_ENTRY)
                .ok_or(VerifyError::NoPvhNote)?;
            if note.segment_align != pvh::NOTE_SEGMENT_ALIGN {
                return Err(VerifyError::NoteAlignment(note.segment_align));
            }
            let address = match note.desc.len() {
                4 => u64::from(u32::from_le_bytes(note.desc[..4].try_into().unwrap_or_default())),
                8 => u64::from_le_bytes(note.desc[..8].try_into().unwrap_or_default()),
                other => return Err(VerifyError::NoteDescriptor(other)),
            };
            if !executable(address) {
                return Err(VerifyError::EntryNotExecutable { which: "PVH", address });
            }
        }
        // The Image header and relocations are checked on the Image file, by `arm64::check`.
        ImageFormat::Arm64Image => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{compact, tests::sample_elf};

    fn expectations() -> Expectations {
        Expectations {
            format: ImageFormat::PvhElf,
            machine: object::elf::EM_X86_64.0,
            load_address: 0x100000,
        }
    }

    fn check(elf: Vec<u8>) -> Result<(), VerifyError> {
        verify(&Image::parse(&compact(&elf).unwrap()).unwrap(), &expectations())
    }

    #[test]
    fn a_good_image_passes() {
        assert_eq!(check(sample_elf(0x100000, 5)), Ok(()));
    }

    #[test]
    fn writable_text_breaks_w_xor_x() {
        assert_eq!(
            check(sample_elf(0x100000, 7)),
            Err(VerifyError::WritableAndExecutable(0x100000))
        );
    }

    #[test]
    fn pvh_entry_must_be_executable() {
        assert_eq!(
            check(sample_elf(0x101000, 5)),
            Err(VerifyError::EntryNotExecutable {
                which: "PVH",
                address: 0x101000
            })
        );
    }

    #[test]
    fn wrong_machine_and_low_load_address_are_named() {
        let image = Image::parse(&compact(&sample_elf(0x100000, 5)).unwrap()).unwrap();
        let arm = Expectations {
            machine: object::elf::EM_AARCH64.0,
            ..expectations()
        };
        assert_eq!(
            verify(&image, &arm),
            Err(VerifyError::Machine {
                found: 62,
                expected: 183
            })
        );
        let high = Expectations {
            load_address: 0x200000,
            ..expectations()
        };
        assert!(matches!(
            verify(&image, &high),
            Err(VerifyError::BelowLoadAddress { .. })
        ));
    }

    #[test]
    fn a_corrupted_note_is_rejected() {
        let mut image = compact(&sample_elf(0x100000, 5)).unwrap();
        let at = image.windows(4).position(|w| w == b"Xen\0").unwrap();
        image[at - 4] = 99; // n_type: no longer XEN_ELFNOTE_PHYS32_ENTRY
        assert_eq!(
            verify(&Image::parse(&image).unwrap(), &expectations()),
            Err(VerifyError::NoPvhNote)
        );
    }
}
