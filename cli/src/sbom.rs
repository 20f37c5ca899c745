//! `unik sbom`: the software bill of materials of an image — the crates with code in it,
//! and with `--all` those of the dependency graph it left out (the `unik-sbom` crate
//! makes the document; `unik build` writes it beside every image).

use crate::build::{self, Selection};
use crate::size::Format;
use anyhow::Result;
use unik_builder::BuildRequest;
use unik_ui::Shell;

/// Arguments of `unik sbom`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    selection: Selection,
    /// Target whose image to describe (default: the manifest's first target, else kvm-x86_64).
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
    /// Also list the packages of the dependency graph with no code in the image (in the
    /// JSON with scope `excluded`), and why each is left out.
    #[arg(long)]
    all: bool,
    /// Output format (JSON: the CycloneDX document).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Runs `unik sbom`: builds the image (nothing to do when it is up to date), then prints
/// its bill.
pub fn exec(shell: &Shell, args: Args) -> Result<()> {
    let project = build::load_project(shell, &args.selection)?;
    let target = project.target(args.target.as_deref())?;
    let profile = build::profile(&args.selection)?;
    let request = BuildRequest {
        project: &project,
        target: &target,
        profile: &profile,
    };
    let (record, facts) = unik_builder::build_with_bill(shell, &request)?;
    let bill = unik_sbom::bill(&facts);
    match args.format {
        Format::Table => {
            unik_ui::out!("{}", unik_sbom::table(&facts, &bill, args.all));
            if let Some(path) = &record.sbom {
                shell.status("Written", format!("the CycloneDX document: {}", path.display()));
            }
        }
        Format::Json => {
            let document = unik_sbom::cyclonedx(&facts, &bill, args.all);
            unik_ui::outln!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(())
}
