//! `unik components`.

use anyhow::Result;
use unik_catalog::Catalog;

/// Arguments of `unik components`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the components this target provides.
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

/// Prints the component catalog.
pub fn exec(args: Args) -> Result<()> {
    let catalog = Catalog::shipped()?;
    if let Some(target) = &args.target {
        unik_targets::find(target)?;
    }
    let chosen: Vec<_> = match &args.target {
        Some(target) => catalog.for_target(target).collect(),
        None => catalog.components.iter().collect(),
    };
    for component in chosen {
        let kind = if component.always { "always" } else { "optional" };
        unik_ui::outln!("{:<14} {kind:<9} {}", component.name, component.summary);
        unik_ui::outln!("{:<14} {:<9} {}", "", "crates", list(&component.crates));
        unik_ui::outln!("{:<14} {:<9} {}", "", "requires", list(&component.requires));
        let devices: Vec<String> = component.devices.iter().map(|d| d.name().to_string()).collect();
        unik_ui::outln!("{:<14} {:<9} {}", "", "devices", list(&devices));
        let targets: Vec<String> = unik_targets::all()
            .into_iter()
            .map(|target| target.name)
            .filter(|target| component.is_provided_on(target))
            .collect();
        unik_ui::outln!("{:<14} {:<9} {}", "", "targets", list(&targets));
    }
    Ok(())
}
