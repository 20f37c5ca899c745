//! `unik why`: the shortest chain of references from the image's entry to a component or
//! symbol, or the plain statement that nothing reaches it.

use crate::build::{self, Selection};
use anyhow::{Result, bail};
use unik_catalog::Catalog;
use unik_catalog::analysis::{chain_to, describe};
use unik_linker::graph::Graph;
use unik_ui::Shell;

/// Arguments of `unik why`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A component name (see `unik components`), or text found in symbol names.
    what: String,
    #[command(flatten)]
    selection: Selection,
    /// Target whose image to explain (default: the manifest's first target, else kvm-x86_64).
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
}

/// Explains `chain` in words: the chain itself, and a note when it passes through a data
/// table on the way (a vtable or function-pointer table keeps every function it holds;
/// data at the chain's end is what was asked for, not a way through).
pub fn explain(graph: &Graph, what: &str, chain: &[usize]) -> String {
    let mut text = format!("{what}: {}\n", describe(graph, chain));
    let between = chain.get(1..chain.len().saturating_sub(1)).unwrap_or_default();
    if let Some(&table) = between.iter().find(|&&n| graph.nodes[n].is_data()) {
        let node = &graph.nodes[table];
        text += &format!(
            "  note: reached through {} in {}, a table of pointers (a vtable or function table): dynamic dispatch keeps every function such a table holds\n",
            node.name, node.section
        );
    }
    text
}

/// Runs `unik why`.
pub fn exec(shell: &Shell, args: Args) -> Result<()> {
    if args.what.trim().is_empty() {
        bail!(
            "give a component (`unik components` lists them) or part of a symbol name to explain, e.g. `unik why net`"
        );
    }
    let record = build::build_selected(shell, &args.selection, args.target.as_deref())?;
    let elf = std::fs::read(&record.elf)?;
    let graph = Graph::of(&elf)?;
    let catalog = Catalog::shipped()?;
    let text = match catalog.get(&args.what) {
        Some(component) => match chain_to(&graph, component) {
            Some(chain) => explain(&graph, &args.what, &chain),
            None => format!("{}: not in the image; nothing reaches it\n", args.what),
        },
        None => match graph.path_from_entry(|node| node.name.contains(&args.what)) {
            Some(chain) => explain(&graph, &args.what, &chain),
            None => bail!(
                "`{}` is not a component (`unik components` lists them) and no symbol of the image `{}` contains it",
                args.what,
                record.image.display()
            ),
        },
    };
    unik_ui::out!("{text}");
    Ok(())
}
