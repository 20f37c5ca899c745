//! Which components an image holds, and why: the catalog's identifying symbols matched
//! against the image's symbols, and the shortest reference chain from the entry.
//!
//! Component boundaries are never inlined (`#[inline(never)]` on each component's entry
//! points), so a component's symbols are in the image exactly when something reaches it.
//! Code inlined *inside* a component counts for the component function it was inlined into.

use crate::{Catalog, Component};
use thiserror::Error;
use unik_linker::graph::Graph;

/// What an image holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// Optional components in the image, by name.
    pub present: Vec<String>,
    /// Optional components the target provides that the image does not hold.
    pub stripped: Vec<String>,
}

/// An image that holds something its target cannot provide.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "the image for {target} holds component `{component}`, which {target} does not provide; it is reached through: {chain}"
)]
pub struct Unprovided {
    /// The component.
    pub component: String,
    /// The target.
    pub target: String,
    /// The reference chain from the entry, e.g. `pvh_start32 → ... → f`.
    pub chain: String,
}

/// Whether `symbol` (demangled) belongs to `component`. Generic arguments do not count:
/// `<RawVec<smoltcp::…>>::drop` is alloc's code, and LLVM merges identical instances under
/// any one of their names, so the types in a name say nothing of who calls it.
/// A pattern starting with `=` is a whole symbol name (a C function such as `=malloc`,
/// which `free` or `freeaddrinfo` must not match).
pub fn identifies(component: &Component, symbol: &str) -> bool {
    let path = without_generic_arguments(symbol);
    component.symbols.iter().any(|pattern| match pattern.strip_prefix('=') {
        Some(name) => symbol == name,
        None => path.contains(pattern.as_str()),
    })
}

/// `symbol` without the generic argument lists that follow a name (`Vec<T>`, `f::<T>`);
/// qualified paths (`<T as Trait>::f`) stay.
pub fn without_generic_arguments(symbol: &str) -> String {
    let mut path = String::with_capacity(symbol.len());
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in symbol.chars() {
        match c {
            '<' if depth > 0 || previous.is_alphanumeric() || previous == '_' || previous == ':' => depth += 1,
            // `->` of a function type inside the arguments closes nothing.
            '>' if depth > 0 && previous != '-' => depth -= 1,
            _ if depth > 0 => {}
            _ => path.push(c),
        }
        previous = c;
    }
    path.trim_end_matches("::").replace("::::", "::")
}

/// The component a symbol's code belongs to: the first whose patterns match it, else the
/// only component made of the symbol's crate; `None` when neither decides.
pub fn owner<'a>(catalog: &'a Catalog, symbol: &str) -> Option<&'a Component> {
    if let Some(component) = catalog.components.iter().find(|c| identifies(c, symbol)) {
        return Some(component);
    }
    // Package names use `-`, paths `_`: compare in path form.
    let krate = unik_linker::size::crate_of(symbol);
    let mut owners = catalog
        .components
        .iter()
        .filter(|c| c.crates.iter().any(|k| k.replace('-', "_") == krate));
    match (owners.next(), owners.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// The chain from the entry to `component`, if the image holds it.
pub fn chain_to(graph: &Graph, component: &Component) -> Option<Vec<usize>> {
    graph.path_from_entry(|node| identifies(component, &node.name))
}

/// `a → b → c` for a chain of nodes.
pub fn describe(graph: &Graph, chain: &[usize]) -> String {
    chain
        .iter()
        .map(|&n| graph.nodes[n].name.as_str())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The components of the image behind `graph`, built for `target`.
pub fn analyse(catalog: &Catalog, target: &str, graph: &Graph) -> Result<Analysis, Unprovided> {
    let mut present = Vec::new();
    let mut stripped = Vec::new();
    for component in catalog.components.iter().filter(|c| !c.always) {
        let provided = component.is_provided_on(target);
        match chain_to(graph, component) {
            Some(chain) if !provided => {
                return Err(Unprovided {
                    component: component.name.clone(),
                    target: target.to_string(),
                    chain: describe(graph, &chain),
                });
            }
            Some(_) => present.push(component.name.clone()),
            None if provided => stripped.push(component.name.clone()),
            None => {}
        }
    }
    Ok(Analysis { present, stripped })
}

/// The one-line summary `unik build` prints.
pub fn summary(analysis: &Analysis) -> String {
    let total = analysis.present.len() + analysis.stripped.len();
    let present = if analysis.present.is_empty() {
        "none".to_string()
    } else {
        analysis.present.join(", ")
    };
    let stripped = if analysis.stripped.is_empty() {
        "nothing".to_string()
    } else {
        analysis.stripped.join(", ")
    };
    format!(
        "components: {present} ({} of {total}; stripped: {stripped})",
        analysis.present.len()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn generic_arguments_do_not_make_a_symbol_anyones() {
        let strip = super::without_generic_arguments;
        assert_eq!(
            strip("<alloc::raw_vec::RawVec<smoltcp::storage::PacketMetadata<u8>> as core::ops::drop::Drop>::drop"),
            "<alloc::raw_vec::RawVec as core::ops::drop::Drop>::drop"
        );
        assert_eq!(
            strip("core::ptr::drop_in_place::<smoltcp::iface::Interface>"),
            "core::ptr::drop_in_place"
        );
        assert_eq!(
            strip("<smoltcp::iface::Interface>::poll"),
            "<smoltcp::iface::Interface>::poll"
        );
        assert_eq!(strip("f::<Vec<fn() -> u8>>::g"), "f::g");
        assert_eq!(strip("sys_write"), "sys_write");
    }

    use super::*;

    #[test]
    fn whole_name_patterns_match_only_that_symbol() {
        let alloc = Component {
            name: "alloc".into(),
            summary: String::new(),
            crates: vec![],
            symbols: vec!["=free".into(), "talc::".into()],
            requires: vec![],
            only: None,
            devices: vec![],
            always: false,
        };
        assert!(identifies(&alloc, "free"));
        assert!(!identifies(&alloc, "freeaddrinfo"));
        assert!(identifies(&alloc, "talc::Talc::malloc"));
    }

    #[test]
    fn the_summary_names_present_and_stripped_components() {
        let analysis = Analysis {
            present: vec!["console".into(), "time".into()],
            stripped: vec!["alloc".into(), "args".into()],
        };
        assert_eq!(
            summary(&analysis),
            "components: console, time (2 of 4; stripped: alloc, args)"
        );
        let none = Analysis {
            present: vec![],
            stripped: vec!["alloc".into()],
        };
        assert_eq!(summary(&none), "components: none (0 of 1; stripped: alloc)");
    }
}
