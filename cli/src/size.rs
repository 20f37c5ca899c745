//! `unik size-report`: where the bytes of an image come from, and a size gate for CI (the
//! report itself is the `unik-report` crate's).

use crate::build::{self, Selection};
use anyhow::Result;
use clap::ValueEnum;
use std::path::PathBuf;
use unik_linker::BuildRecord;
use unik_report::{By, by_name, largest_in_file};
use unik_ui::Shell;

/// `--by` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ByArg {
    /// Output sections.
    Section,
    /// Symbols (demangled).
    Symbol,
    /// Crates.
    Crate,
    /// Library-OS components (`unik components`); other code by crate, in brackets.
    Component,
}

/// `--format` values (of `size-report` and `sbom`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table.
    Table,
    /// The JSON document.
    Json,
}

/// Arguments of `unik size-report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    selection: Selection,
    /// Target whose image to report on (default: the manifest's first target, else kvm-x86_64).
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
    /// Report on this image instead of building (the build record and `.elf` beside it
    /// give its target, components and symbols).
    #[arg(long, value_name = "PATH", conflicts_with = "target")]
    image: Option<PathBuf>,
    /// Breakdown level.
    #[arg(long, value_enum, default_value = "crate")]
    by: ByArg,
    /// Rows shown in the table (the JSON has them all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// A previous JSON report: print the differences and gate on --max-growth.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Fail when the image file grew by more than this many percent over the baseline.
    #[arg(long, value_name = "PCT", requires = "baseline")]
    max_growth: Option<f64>,
    /// Fail when the image file is larger than this many bytes.
    #[arg(long, value_name = "BYTES")]
    budget: Option<u64>,
}

/// Runs `unik size-report`; the result is the exit status (1 when a gate fails).
pub fn exec(shell: &Shell, args: Args) -> Result<i32> {
    if let Some(limit) = args.max_growth
        && !limit.is_finite()
    {
        anyhow::bail!("--max-growth {limit}: give a number of percent");
    }
    let record = match &args.image {
        Some(image) => BuildRecord::beside(image)?,
        None => build::build_selected(shell, &args.selection, args.target.as_deref())?,
    };
    let by = match args.by {
        ByArg::Section => By::Section,
        ByArg::Symbol => By::Symbol,
        ByArg::Crate => By::Crate,
        ByArg::Component => By::Component,
    };
    let report = unik_report::report(&record, by)?;
    match args.format {
        Format::Table => unik_ui::out!("{}", unik_report::table(&report, args.top)),
        Format::Json => unik_ui::outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    let mut status = 0;
    if let Some(path) = &args.baseline {
        let baseline = unik_report::read_baseline(path, &report)?;
        let (differences, growth) = unik_report::compare(&report, &baseline);
        shell.diagnostic(&differences);
        if let Some(limit) = args.max_growth
            && growth > limit
        {
            shell.error(format!(
                "the image grew by {growth:.1}% ({} -> {} bytes), more than --max-growth {limit}%; the largest growth: {}",
                baseline.file_bytes,
                report.file_bytes,
                differences.lines().skip(1).take(3).map(str::trim).collect::<Vec<_>>().join("; ")
            ));
            status = 1;
        }
    }
    if let Some(budget) = args.budget
        && report.file_bytes > budget
    {
        shell.error(format!(
            "the image file is {} bytes, over the --budget of {budget} bytes; the {}s with the most bytes in it: {}",
            report.file_bytes,
            by_name(report.by),
            largest_in_file(&report, 3)
        ));
        status = 1;
    }
    Ok(status)
}
