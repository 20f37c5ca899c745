//! The image's reference graph: which symbol's code or data refers to which, read from
//! the relocations the link keeps (`--emit-relocs`) in the linked ELF.
//!
//! Nodes are symbols (see `size::symbol_spans`) plus one node per section for referenced
//! bytes no symbol covers (string literals, vtables of private types). An edge A → B means
//! a relocation inside A points into B. Because `--gc-sections` kept only what the entry
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
}

impl Graph {
    /// Builds the graph of the linked ELF `linked`.
    pub fn of(linked: &[u8]) -> Result<Graph, ImageError> {
        let corrupt = |e: object::Error| ImageError::Corrupt(format!("cannot read relocations: {e}"));
        let file = ElfFile64::<Endianness>::parse(linked).map_err(corrupt)?;
        let symbols = crate::size::symbol_spans(&file);
        let sections: Vec<(String, u64, u64)> = file
            .sections()
            .filter(|s| s.address() != 0 && s.size() > 0)
            .map(|s| (s.name().unwrap_or("?").to_string(), s.address(), s.size()))
            .collect();
        let section_of = |address: u64| {
            sections
                .iter()
                .find(|(_, start, size)| (*start..start + size).contains(&address))
                .map(|s| s.0.clone())
        };
        let mut nodes: Vec<Node> = symbols
            .iter()
            .map(|(address, _, name)| Node {
                name: name.clone(),
                address: *address,
                section: section_of(*address).unwrap_or_default(),
            })
            .collect();
        let mut spans: Vec<(u64, u64)> = symbols.iter().map(|(a, size, _)| (*a, *size)).collect();
        let symbol_nodes = nodes.len();
        for (name, address, size) in &sections {
            nodes.push(Node {
                name: format!("[{name}]"),
                address: *address,
                section: name.clone(),
            });
            spans.push((*address, *size));
        }
        let mut graph = Graph {
            edges: vec![Vec::new(); nodes.len()],
            nodes,
            entry: None,
            spans,
            symbol_nodes,
        };
        graph.entry = graph.node_at(file.entry());

        // The relocation sections `--emit-relocs` keeps; `sh_info` names the section each
        // applies to. (object's section-relocation map covers relocatable files only.)
        let endian = file.endian();
        let headers = file.elf_section_table();
        let symbol_table = file.elf_symbol_table();
        let executable = file.elf_header().e_type(endian) != object::elf::ET_REL;
        for header in headers.iter() {
            let Ok(Some((relocations, _))) = header.rela(endian, linked) else {
                continue;
            };
            let Ok(applies_to) = headers.section(object::SectionIndex(header.sh_info(endian) as usize)) else {
                continue;
            };
            let base = applies_to.sh_addr(endian);
            for relocation in relocations {
                let index = relocation.r_sym(endian, false);
                let Ok(symbol) = symbol_table.symbol(object::SymbolIndex(index as usize)) else {
                    continue;
                };
                let kind = relocation.r_type(endian, false).0;
                // PC-relative fields are relative to their own end: add the field size back.
                let adjust = pc_relative_field(file.elf_header().e_machine(endian).0, kind).unwrap_or(0);
                let target = symbol
                    .st_value(endian)
                    .wrapping_add_signed(relocation.r_addend(endian) + adjust);
                // In an executable `r_offset` is an address; in an object, an offset.
                let source = if executable {
                    relocation.r_offset(endian)
                } else {
                    base + relocation.r_offset(endian)
                };
                if let (Some(from), Some(to)) = (graph.node_at(source), graph.node_at(target))
                    && from != to
                    && !graph.edges[from].contains(&to)
                {
                    graph.edges[from].push(to);
                }
            }
        }
        Ok(graph)
    }

    /// The symbol covering `address`, else the section node covering it.
    pub fn node_at(&self, address: u64) -> Option<usize> {
        let within = |(start, size): &(u64, u64)| (*start..start + (*size).max(1)).contains(&address);
        let (symbols, sections) = self.spans.split_at(self.symbol_nodes);
        symbols
            .iter()
            .rposition(within)
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

/// For a PC-relative relocation type of machine `machine`, the size of its field (what to
/// add to the addend to find the address it refers to); `None` for absolute ones.
fn pc_relative_field(machine: u16, kind: u32) -> Option<i64> {
    const EM_X86_64: u16 = 62;
    match (machine, kind) {
        // R_X86_64_PC32, PLT32, GOTPCREL, GOTPCRELX, REX_GOTPCRELX.
        (EM_X86_64, 2 | 4 | 9 | 41 | 42) => Some(4),
        // R_X86_64_PC64.
        (EM_X86_64, 24) => Some(8),
        _ => None,
    }
}
