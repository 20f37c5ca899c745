//! System-call instructions in an image: code that enters a kernel itself (`syscall` on
//! x86_64, `svc #0` on arm64; rustix's default backend, inline assembly) instead of calling
//! the C library. No kernel answers them in a unikernel, so the builder refuses an image
//! that holds one, naming the function it is in.

use crate::ImageError;
use object::read::elf::{ElfFile64, FileHeader};
use object::{Endianness, Object, ObjectSection, SectionKind};

/// A system-call instruction and the function it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemCall {
    /// Its address.
    pub address: u64,
    /// The (demangled) symbol whose code holds it.
    pub function: String,
}

/// `svc #0`, the arm64 system call, as a little-endian instruction word.
const ARM64_SVC_0: u32 = 0xd400_0001;

/// Every system-call instruction in the executable sections of the linked ELF `linked`.
pub fn find(linked: &[u8]) -> Result<Vec<SystemCall>, ImageError> {
    let corrupt = |e: object::Error| ImageError::Corrupt(format!("cannot read the code: {e}"));
    let file = ElfFile64::<Endianness>::parse(linked).map_err(corrupt)?;
    let machine = file.elf_header().e_machine(file.endian());
    let spans = crate::size::symbol_spans(&file);
    let function_at = |address: u64| {
        spans
            .iter()
            .rev()
            .find(|(start, size, _)| *start <= address && address < start + size.max(&1))
            .map_or_else(|| format!("{address:#x}"), |(_, _, name)| name.clone())
    };
    let mut found = Vec::new();
    for section in file.sections() {
        let executable = section.kind() == SectionKind::Text;
        let Ok(code) = section.data() else { continue };
        if !executable || code.is_empty() {
            continue;
        }
        let base = section.address();
        let addresses: Vec<u64> = if machine == object::elf::EM_X86_64 {
            x86_64_system_calls(code, base)
        } else if machine == object::elf::EM_AARCH64 {
            code.chunks_exact(4)
                .enumerate()
                .filter(|(_, word)| u32::from_le_bytes([word[0], word[1], word[2], word[3]]) == ARM64_SVC_0)
                .map(|(index, _)| base + 4 * index as u64)
                .collect()
        } else {
            Vec::new()
        };
        found.extend(addresses.into_iter().map(|address| SystemCall {
            address,
            function: function_at(address),
        }));
    }
    Ok(found)
}

/// Addresses of `syscall` (and the 32-bit `int 0x80` and `sysenter`) in x86_64 `code`
/// loaded at `base`, decoded instruction by instruction (a byte pattern would also match
/// the insides of other instructions).
fn x86_64_system_calls(code: &[u8], base: u64) -> Vec<u64> {
    use iced_x86::{Decoder, DecoderOptions, Mnemonic};
    let mut decoder = Decoder::with_ip(64, code, base, DecoderOptions::NONE);
    let mut found = Vec::new();
    while decoder.can_decode() {
        let instruction = decoder.decode();
        let is_system_call = match instruction.mnemonic() {
            Mnemonic::Syscall | Mnemonic::Sysenter => true,
            Mnemonic::Int => instruction.immediate8() == 0x80,
            _ => false,
        };
        if is_system_call {
            found.push(instruction.ip());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_64_system_calls_are_decoded_not_pattern_matched() {
        // mov eax, 0x050f (the bytes of `syscall` inside an immediate), then syscall, then
        // int 0x80, then ret.
        let code = [0xb8, 0x0f, 0x05, 0x00, 0x00, 0x0f, 0x05, 0xcd, 0x80, 0xc3];
        assert_eq!(x86_64_system_calls(&code, 0x1000), [0x1005, 0x1007]);
    }
}
