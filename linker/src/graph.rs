//! The image's reference graph: which symbol's code or data refers to which, read from
//! the relocations the link keeps (`--emit-relocs`) in the linked ELF.
//!
//! Nodes are symbols (see `size::symbol_spans`), a node for each referenced address no
//! symbol covers (`[.rodata+0x1a8]`: a vtable, a constant), owning the bytes up to the next
//! symbol, and one node per section for the rest. An edge A → B means a relocation inside A
//! points into B. Because `--gc-sections` kept only what the entry
//! reaches, every node is reachable from the entry; the graph answers *how*.

use crate::image::ImageError;
use object::read::elf::{ElfFile64, FileHeader, Rela, SectionHeader, Sym};
use object::{Endianness, Object, ObjectSection};
use std::collections::VecDeque;

/// One node: a symbol, or a section's symbol-less bytes (`[.rodata]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Demangled name, or `[section]`.
    pub name: String,
    /// Start address.
    pub address: u64,
    /// Section holding it.
    pub section: String,
}

impl Node {
    /// Whether this node is data in a read-only or writable section (a table, a vtable).
    pub fn is_data(&self) -> bool {
        !self.section.starts_with(".text")
    }
}

/// The reference graph.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Nodes, symbols first (by address), then section nodes.
    pub nodes: Vec<Node>,
    /// Outgoing edges of each node.
    pub edges: Vec<Vec<usize>>,
    /// The node holding the ELF entry point.
    pub entry: Option<usize>,
    /// Address spans of the nodes.
    spans: Vec<(u64, u64)>,
    /// How many of the nodes are symbols (the rest are sections).
    symbol_nodes: usize,
    /// The symbol nodes' spans, indexed.
    symbols: SpanIndex,
}

impl Graph {
    /// Builds the graph of the linked ELF `linked`.
    pub fn of(linked: &[u8]) -> Result<Graph, ImageError> {
        let corrupt = |e: object::Error| ImageError::Corrupt(format!("cannot read relocations: {e}"));
        let file = ElfFile64::<Endianness>::parse(linked).map_err(corrupt)?;
        let sections: Vec<(String, u64, u64)> = file
            .sections()
            .filter(|s| s.address() != 0 && s.size() > 0)
            .map(|s| (s.name().unwrap_or("?").to_string(), s.address(), s.size()))
            .collect();
        let section_at = |address: u64| {
            sections
                .iter()
                .find(|(_, start, size)| (*start..start + size).contains(&address))
        };
        let references = references(&file, linked);

        // Symbols, plus a node for each referenced address no symbol covers (a vtable or a
        // constant of a private type), owning the bytes up to the next symbol.
        let mut spans: Vec<(u64, u64, String)> = crate::size::symbol_spans(&file);
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let symbols = SpanIndex::new(spans.iter().map(|(start, size, _)| (*start, *size)).collect());
        let mut anonymous: Vec<u64> = references
            .iter()
            .map(|r| r.1)
            .filter(|&a| symbols.last_containing(a).is_none() && section_at(a).is_some())
            .collect();
        anonymous.sort_unstable();
        anonymous.dedup();
        for address in anonymous {
            // Sized below: up to the next symbol or the section's end.
            let (name, start, _) = section_at(address).expect("filtered above");
            spans.push((address, 0, format!("[{name}+{:#x}]", address - start)));
        }
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let starts: Vec<u64> = spans.iter().map(|s| s.0).collect();
        for (index, span) in spans.iter_mut().enumerate() {
            if span.1 == 0 {
                let section_end = section_at(span.0).map_or(span.0 + 1, |(_, start, size)| start + size);
                let next = starts.get(index + 1).copied().unwrap_or(section_end).min(section_end);
                span.1 = next.saturating_sub(span.0).max(1);
            }
        }

        let mut nodes: Vec<Node> = spans
            .iter()
            .map(|(address, _, name)| Node {
                name: name.clone(),
                address: *address,
                section: section_at(*address).map(|s| s.0.clone()).unwrap_or_default(),
            })
            .collect();
        let mut node_spans: Vec<(u64, u64)> = spans.iter().map(|(a, size, _)| (*a, *size)).collect();
        let symbol_nodes = nodes.len();
        for (name, address, size) in &sections {
            nodes.push(Node {
                name: format!("[{name}]"),
                address: *address,
                section: name.clone(),
            });
            node_spans.push((*address, *size));
        }
        let symbols = SpanIndex::new(node_spans[..symbol_nodes].to_vec());
        let mut graph = Graph {
            edges: vec![Vec::new(); nodes.len()],
            nodes,
            entry: None,
            spans: node_spans,
            symbol_nodes,
            symbols,
        };
        graph.entry = graph.node_at(file.entry());
        for (source, target) in references {
            if let (Some(from), Some(to)) = (graph.node_at(source), graph.node_at(target))
                && from != to
            {
                graph.edges[from].push(to);
            }
        }
        for edges in &mut graph.edges {
            edges.sort_unstable();
            edges.dedup();
        }
        Ok(graph)
    }

    /// The symbol covering `address`, else the section node covering it.
    pub fn node_at(&self, address: u64) -> Option<usize> {
        let within = |(start, size): &(u64, u64)| (*start..start + (*size).max(1)).contains(&address);
        let sections = &self.spans[self.symbol_nodes..];
        self.symbols
            .last_containing(address)
            .or_else(|| sections.iter().position(within).map(|i| i + self.symbol_nodes))
    }

    /// The shortest chain of references from the entry to a node for which `wanted` holds.
    pub fn path_from_entry(&self, wanted: impl Fn(&Node) -> bool) -> Option<Vec<usize>> {
        let entry = self.entry?;
        let mut previous = vec![usize::MAX; self.nodes.len()];
        let mut queue = VecDeque::from([entry]);
        previous[entry] = entry;
        while let Some(node) = queue.pop_front() {
            if wanted(&self.nodes[node]) {
                let mut path = vec![node];
                while *path.last().unwrap_or(&entry) != entry {
                    path.push(previous[*path.last().unwrap_or(&entry)]);
                }
                path.reverse();
                return Some(path);
            }
            for &next in &self.edges[node] {
                if previous[next] == usize::MAX {
                    previous[next] = node;
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

/// Spans `(start, size)` sorted by start, searchable by address in logarithmic time
/// (a std image has tens of thousands of symbols and relocations).
#[derive(Clone, Debug)]
struct SpanIndex {
    spans: Vec<(u64, u64)>,
    /// The largest end among `spans[..=i]`: no earlier span reaches past it.
    reach: Vec<u64>,
}

impl SpanIndex {
    /// `spans` must be sorted by start.
    fn new(spans: Vec<(u64, u64)>) -> SpanIndex {
        let mut furthest = 0;
        let reach = spans
            .iter()
            .map(|(start, size)| {
                furthest = furthest.max(start + (*size).max(1));
                furthest
            })
            .collect();
        SpanIndex { spans, reach }
    }

    /// The index of the last span (in start order) that contains `address`.
    fn last_containing(&self, address: u64) -> Option<usize> {
        let candidates = self.spans.partition_point(|(start, _)| *start <= address);
        (0..candidates)
            .rev()
            .take_while(|&index| self.reach[index] > address)
            .find(|&index| {
                let (start, size) = self.spans[index];
                (start..start + size.max(1)).contains(&address)
            })
    }
}

/// Every relocation as (address of the field, address it refers to), from the relocation
/// sections `--emit-relocs` keeps; `sh_info` names the section each applies to. (object's
/// section-relocation map covers relocatable files only.)
fn references(file: &ElfFile64<'_, Endianness>, data: &[u8]) -> Vec<(u64, u64)> {
    let endian = file.endian();
    let headers = file.elf_section_table();
    let symbol_table = file.elf_symbol_table();
    let machine = file.elf_header().e_machine(endian).0;
    // In an executable `r_offset` is an address; in an object, an offset.
    let executable = file.elf_header().e_type(endian) != object::elf::ET_REL;
    let mut references = Vec::new();
    for header in headers.iter() {
        let Ok(Some((relocations, _))) = header.rela(endian, data) else {
            continue;
        };
        let Ok(applies_to) = headers.section(object::SectionIndex(header.sh_info(endian) as usize)) else {
            continue;
        };
        // Only the loaded sections' references: debug information refers to everything.
        if applies_to.sh_flags(endian).0 & object::elf::SHF_ALLOC.0 == 0 {
            continue;
        }
        let base = if executable { 0 } else { applies_to.sh_addr(endian) };
        for relocation in relocations {
            let index = relocation.r_sym(endian, false) as usize;
            let Ok(symbol) = symbol_table.symbol(object::SymbolIndex(index)) else {
                continue;
            };
            // PC-relative fields are relative to their own end: add the field size back.
            let adjust = pc_relative_field(machine, relocation.r_type(endian, false).0).unwrap_or(0);
            // lld's --emit-relocs rewrites relocations against section symbols to be
            // relative to the output section, whichever input section's symbol they name.
            let value = if symbol.st_type() == object::elf::STT_SECTION {
                headers
                    .section(object::SectionIndex(symbol.st_shndx(endian).0 as usize))
                    .map_or(symbol.st_value(endian), |section| section.sh_addr(endian))
            } else {
                symbol.st_value(endian)
            };
            let target = value.wrapping_add_signed(relocation.r_addend(endian) + adjust);
            references.push((base + relocation.r_offset(endian), target));
        }
    }
    references
}

/// For a PC-relative relocation type of machine `machine`, the size of its field (what to
/// add to the addend to find the address it refers to); `None` for absolute ones.
fn pc_relative_field(machine: u16, kind: u32) -> Option<i64> {
    use object::elf;
    const X86_64: u16 = elf::EM_X86_64.0;
    const PC32: u32 = elf::R_X86_64_PC32.0;
    const PLT32: u32 = elf::R_X86_64_PLT32.0;
    const GOTPCREL: u32 = elf::R_X86_64_GOTPCREL.0;
    const GOTPCRELX: u32 = elf::R_X86_64_GOTPCRELX.0;
    const REX_GOTPCRELX: u32 = elf::R_X86_64_REX_GOTPCRELX.0;
    const PC64: u32 = elf::R_X86_64_PC64.0;
    match (machine, kind) {
        (X86_64, PC32 | PLT32 | GOTPCREL | GOTPCRELX | REX_GOTPCRELX) => Some(4),
        (X86_64, PC64) => Some(8),
        _ => None,
    }
}
