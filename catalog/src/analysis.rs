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

/// Whether `symbol` (demangled) belongs to `component`.
pub fn identifies(component: &Component, symbol: &str) -> bool {
    component
        .symbols
        .iter()
        .any(|pattern| symbol.contains(pattern.as_str()))
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
        let provided = component.targets.iter().any(|t| t == target);
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
    use super::*;

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
