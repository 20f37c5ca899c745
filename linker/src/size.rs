//! Where every loaded byte of an image comes from: by section, by symbol, by crate.
//!
//! Attribution works on the linked ELF (`<image>.elf`, symbols kept). Each allocated
//! section inside a loadable segment is split among the symbols that cover it; bytes no
//! symbol covers become an `[unattributed <section>]` row, gaps between sections inside a
//! segment a `[padding]` row. The rows of every level therefore sum exactly to the loaded
//! total. Crates come from demangled symbol names (the first path segment; for
//! `<T as Trait>::f`, the crate of `T`); symbols that are not Rust paths (assembly labels
//! and `#[no_mangle]` functions such as `__unik_app_main`) are grouped under `[unmangled]`.
//! A section without symbols (the stack) is its own row, `[.stack]`. With LTO, inlined
//! code counts for the function it was inlined into.

use crate::image::{Image, ImageError, LoadedSizes, flags};
use object::read::elf::{ElfFile64, SectionHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Attribution level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Output sections.
    Section,
    /// Symbols.
    Symbol,
    /// Crates.
    Crate,
}

/// What kind of memory a row's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Executable.
    Text,
    /// Read-only data.
    Rodata,
    /// Initialised writable data.
    Data,
    /// Zero-filled memory.
    Bss,
}

/// One row of a breakdown (also the rows of `unik size-report`'s JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Section, symbol or crate name; bracketed names are not code (`[padding]`).
    pub name: String,
    /// Loaded bytes.
    pub bytes: u64,
    /// Bytes by kind, for rows that span several.
    pub text: u64,
    /// Read-only bytes.
    pub rodata: u64,
    /// Initialised data bytes.
    pub data: u64,
    /// Zero-filled bytes.
    pub bss: u64,
}

/// A piece of attributed memory before grouping.
#[derive(Clone, Debug)]
struct Piece {
    section: String,
    symbol: String,
    krate: String,
    kind: Kind,
    bytes: u64,
}

/// The attribution of one image.
#[derive(Clone, Debug)]
pub struct Attribution {
    pieces: Vec<Piece>,
    /// Loaded totals by kind (equal to the segments').
    pub loaded: LoadedSizes,
}

fn kind_of(segment_flags: u32, in_file: bool) -> Kind {
    if !in_file {
        Kind::Bss
    } else if segment_flags & flags::X != 0 {
        Kind::Text
    } else if segment_flags & flags::W != 0 {
        Kind::Data
    } else {
        Kind::Rodata
    }
}

/// The symbol `#[unik::main]` exports: the application's `main`, inlined into it (a
/// no_std application's code is mostly here, under `[unmangled]` by crate).
pub const APPLICATION_ENTRY: &str = "__unik_app_main";

/// The crate a demangled symbol belongs to.
pub fn crate_of(demangled: &str) -> String {
    let path = demangled
        .trim_start_matches('<')
        .trim_start_matches('&')
        .trim_start_matches("mut ");
    let first = path.split("::").next().unwrap_or("");
    if path.contains("::") && !first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        first.to_string()
    } else {
        "[unmangled]".to_string()
    }
}

impl Attribution {
    /// Attributes the loaded bytes of the linked ELF `linked`.
    pub fn of(linked: &[u8]) -> Result<Attribution, ImageError> {
        let image = Image::parse(linked)?;
        let corrupt = |e: object::Error| ImageError::Corrupt(format!("cannot read sections and symbols: {e}"));
        let file = ElfFile64::<Endianness>::parse(linked).map_err(corrupt)?;
        let loads: Vec<_> = image.loads().cloned().collect();
        let mut pieces = Vec::new();
        // Every allocated section with memory, in address order.
        let mut sections: Vec<(String, u64, u64, bool)> = file
            .sections()
            .filter(|s| {
                let flags = s.elf_section_header().sh_flags(file.endian()).0;
                flags & object::elf::SHF_ALLOC.0 != 0 && s.size() > 0
            })
            .map(|s| {
                let nobits = s.elf_section_header().sh_type(file.endian()) == object::elf::SHT_NOBITS;
                (s.name().unwrap_or("?").to_string(), s.address(), s.size(), !nobits)
            })
            .collect();
        sections.sort_by_key(|s| s.1);
        let symbols = symbol_spans(&file);

        for segment in &loads {
            let segment_end = segment.vaddr + segment.mem_size;
            let file_end = segment.vaddr + segment.file_size;
            let mut cursor = segment.vaddr;
            for (name, address, size, in_file) in sections.iter().filter(|s| s.1 >= segment.vaddr && s.1 < segment_end)
            {
                let (start, end) = (*address, address.saturating_add(*size).min(segment_end));
                // Bytes at or past `kind_end` are zero-filled (all of a NOBITS section).
                let kind_end = if *in_file { file_end } else { 0 };
                if start > cursor {
                    push_span(
                        &mut pieces,
                        "[padding]",
                        "[padding]",
                        "[padding]",
                        segment.flags,
                        cursor,
                        start,
                        file_end,
                    );
                }
                // Symbols inside the section; the rest of it is unattributed. A section
                // without any symbol (the stack, notes) is named after itself.
                if !symbols.iter().any(|s| s.0 >= start && s.0 < end) {
                    let own = format!("[{name}]");
                    push_span(&mut pieces, name, &own, &own, segment.flags, start, end, kind_end);
                    cursor = cursor.max(end);
                    continue;
                }
                let mut at = start;
                for (symbol_address, symbol_size, symbol) in symbols.iter().filter(|s| s.0 >= start && s.0 < end) {
                    let symbol_start = (*symbol_address).max(at);
                    let symbol_end = symbol_address.saturating_add(*symbol_size).min(end);
                    if symbol_end <= symbol_start {
                        continue;
                    }
                    if symbol_start > at {
                        let unattributed = format!("[unattributed {name}]");
                        push_span(
                            &mut pieces,
                            name,
                            &unattributed,
                            "[unattributed]",
                            segment.flags,
                            at,
                            symbol_start,
                            kind_end,
                        );
                    }
                    let krate = crate_of(symbol);
                    push_span(
                        &mut pieces,
                        name,
                        symbol,
                        &krate,
                        segment.flags,
                        symbol_start,
                        symbol_end,
                        kind_end,
                    );
                    at = symbol_end;
                }
                if end > at {
                    let unattributed = format!("[unattributed {name}]");
                    push_span(
                        &mut pieces,
                        name,
                        &unattributed,
                        "[unattributed]",
                        segment.flags,
                        at,
                        end,
                        kind_end,
                    );
                }
                cursor = cursor.max(end);
            }
            if segment_end > cursor {
                push_span(
                    &mut pieces,
                    "[padding]",
                    "[padding]",
                    "[padding]",
                    segment.flags,
                    cursor,
                    segment_end,
                    file_end,
                );
            }
        }
        Ok(Attribution {
            pieces,
            loaded: image.loaded_sizes(),
        })
    }

    /// The rows at `level`, largest first (ties by name), summing to the loaded total.
    pub fn rows(&self, level: Level) -> Vec<Row> {
        let mut grouped: BTreeMap<&str, Row> = BTreeMap::new();
        for piece in &self.pieces {
            let name = match level {
                Level::Section => piece.section.as_str(),
                Level::Symbol => piece.symbol.as_str(),
                Level::Crate => piece.krate.as_str(),
            };
            let row = grouped.entry(name).or_insert_with(|| Row {
                name: name.to_string(),
                bytes: 0,
                text: 0,
                rodata: 0,
                data: 0,
                bss: 0,
            });
            // Saturating: a malformed ELF's sections may overlap and count bytes twice.
            row.bytes = row.bytes.saturating_add(piece.bytes);
            let kind = match piece.kind {
                Kind::Text => &mut row.text,
                Kind::Rodata => &mut row.rodata,
                Kind::Data => &mut row.data,
                Kind::Bss => &mut row.bss,
            };
            *kind = kind.saturating_add(piece.bytes);
        }
        let mut rows: Vec<Row> = grouped.into_values().collect();
        rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        rows
    }

    /// Total loaded bytes.
    pub fn total(&self) -> u64 {
        [self.loaded.rodata, self.loaded.data, self.loaded.bss]
            .into_iter()
            .fold(self.loaded.text, u64::saturating_add)
    }
}

/// Every symbol's span of memory: sized symbols, and assembly labels (size 0), which own
/// the bytes up to the next symbol. Linker-script symbols (`__text_start`, ...) mark places,
/// not contents. Sorted by address, one per address, names demangled without hashes.
/// Whether `name` is an Arm ELF mapping symbol (`$x`, `$d`, `$x.12`, ...).
fn is_mapping_symbol(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or(name);
    matches!(base, "$x" | "$d" | "$a" | "$t")
}

pub(crate) fn symbol_spans(file: &ElfFile64<'_, Endianness>) -> Vec<(u64, u64, String)> {
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbols()
        .filter(|s| matches!(s.kind(), SymbolKind::Text | SymbolKind::Data | SymbolKind::Unknown))
        .filter_map(|s| s.name().ok().map(|n| (s.address(), s.size(), n)))
        .filter(|(_, size, name)| *size > 0 || (!name.starts_with("__") && !name.is_empty() && !name.starts_with('.')))
        // Arm's mapping symbols ($x: code follows, $d: data follows) name no object.
        .filter(|(_, _, name)| !is_mapping_symbol(name))
        .map(|(address, size, name)| (address, size, format!("{:#}", rustc_demangle::demangle(name))))
        .collect();
    symbols.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    symbols.dedup_by_key(|s| s.0);
    let starts: Vec<u64> = symbols.iter().map(|s| s.0).collect();
    for (index, symbol) in symbols.iter_mut().enumerate() {
        if symbol.1 == 0 {
            symbol.1 = starts.get(index + 1).map_or(0, |next| next - symbol.0);
        }
    }
    symbols
}

/// Adds the span `start..end` of a segment with `segment_flags`; bytes at or past
/// `file_end` are zero-filled.
#[allow(clippy::too_many_arguments)]
fn push_span(
    pieces: &mut Vec<Piece>,
    section: &str,
    symbol: &str,
    krate: &str,
    segment_flags: u32,
    start: u64,
    end: u64,
    file_end: u64,
) {
    let in_file_end = end.min(file_end).max(start);
    for (from, to, in_file) in [(start, in_file_end, true), (in_file_end, end, false)] {
        if to > from {
            pieces.push(Piece {
                section: section.to_string(),
                symbol: symbol.to_string(),
                krate: krate.to_string(),
                kind: kind_of(segment_flags, in_file),
                bytes: to - from,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzed_images_are_errors_not_panics() {
        // The inputs the `elf-image` fuzz target found panicking a reader.
        let found = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/elf-image");
        for entry in std::fs::read_dir(found).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            if let Ok(attribution) = Attribution::of(&bytes) {
                let _ = (attribution.rows(Level::Symbol), attribution.total());
            }
            if let Ok(image) = crate::Image::parse(&bytes) {
                let _ = (image.loaded_sizes(), image.file_sizes(), image.loaded_end());
            }
            let _ = crate::image::compact(&bytes);
            let _ = crate::arm64::write(&bytes);
        }
    }

    #[test]
    fn crates_come_from_the_first_path_segment() {
        assert_eq!(crate_of("core::fmt::write"), "core");
        assert_eq!(
            crate_of("<unik_platform_kvm_x86_64::KvmX86_64 as unik_platform_api::Console>::write"),
            "unik_platform_kvm_x86_64"
        );
        assert_eq!(crate_of("<&T as core::fmt::Display>::fmt"), "[unmangled]");
        assert_eq!(crate_of("pvh_start32"), "[unmangled]");
        assert_eq!(crate_of("__rustc::rust_begin_unwind"), "__rustc");
    }
}
