//! `unik size-report`: where the bytes of an image come from, and a size gate for CI.
//!
//! JSON schema (version 1, keys in this order): `schema`, `package`, `target`, `image`,
//! `file_bytes`, `file` {`headers`, `text`, `rodata`, `data`, `other`}, `loaded_bytes`, `loaded` {`text`, `rodata`, `data`, `bss`}, `by`
//! (`section`|`symbol`|`crate`), `rows` [{`name`, `bytes`, `text`, `rodata`, `data`,
//! `bss`}], largest first. The rows always sum to `loaded_bytes`. See docs/size-report.md.

use crate::build::{self, Selection};
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unik_linker::size::{Attribution, Level, Row};
use unik_ui::Shell;

/// Version of the JSON layout.
pub const SCHEMA: u32 = 1;

/// `--by` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Output sections.
    Section,
    /// Symbols (demangled).
    Symbol,
    /// Crates.
    Crate,
    /// Library-OS components (`unik components`); other code by crate, in brackets.
    Component,
}

/// `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table.
    Table,
    /// The JSON report.
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
    /// Report on this image instead of building (its `.elf` beside it gives the symbols).
    #[arg(long, value_name = "PATH")]
    image: Option<PathBuf>,
    /// Breakdown level.
    #[arg(long, value_enum, default_value = "crate")]
    by: By,
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

/// The image file's bytes by what they hold.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileBytes {
    /// ELF file header and program headers.
    pub headers: u64,
    /// Executable segments.
    pub text: u64,
    /// Read-only segments.
    pub rodata: u64,
    /// Writable segments.
    pub data: u64,
    /// Alignment padding and anything else.
    pub other: u64,
}

/// The loaded bytes by kind.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Loaded {
    /// Executable.
    pub text: u64,
    /// Read-only data.
    pub rodata: u64,
    /// Initialised data.
    pub data: u64,
    /// Zero-filled.
    pub bss: u64,
}

/// The JSON report.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Package, when known.
    pub package: String,
    /// Target, when known.
    pub target: String,
    /// The image reported on.
    pub image: PathBuf,
    /// Bytes of the image file.
    pub file_bytes: u64,
    /// The file's bytes by what they hold (sums to `file_bytes`).
    pub file: FileBytes,
    /// Loaded bytes (sum of every row).
    pub loaded_bytes: u64,
    /// Loaded bytes by kind.
    pub loaded: Loaded,
    /// Breakdown level.
    pub by: By,
    /// Optional components the image holds (the specialisation analysis).
    pub components: Vec<String>,
    /// Optional components the target provides that the image does not hold.
    pub stripped: Vec<String>,
    /// The breakdown, largest first.
    pub rows: Vec<Row>,
}

/// Builds the report for `image` (the compact image) and `elf` (its linked ELF).
pub fn report(image: &Path, elf: &Path, package: &str, target: &str, by: By) -> Result<Report> {
    let file_bytes = std::fs::metadata(image)
        .with_context(|| format!("cannot read `{}`", image.display()))?
        .len();
    let compact = std::fs::read(image).with_context(|| format!("cannot read `{}`", image.display()))?;
    let linked = std::fs::read(elf).with_context(|| format!("cannot read `{}`", elf.display()))?;
    let file = if unik_linker::arm64::is_image(&compact) {
        unik_linker::arm64::file_sizes(&compact, &linked)
            .with_context(|| format!("`{}` is not a linked image", elf.display()))?
    } else {
        unik_linker::Image::parse(&compact)
            .with_context(|| format!("`{}` is not an image", image.display()))?
            .file_sizes()
    };
    let attribution = Attribution::of(&linked).with_context(|| format!("`{}` is not a linked image", elf.display()))?;
    let level = match by {
        By::Section => Level::Section,
        By::Symbol | By::Component => Level::Symbol,
        By::Crate => Level::Crate,
    };
    let catalog = unik_catalog::Catalog::shipped()?;
    let graph =
        unik_linker::graph::Graph::of(&linked).with_context(|| format!("`{}` is not a linked image", elf.display()))?;
    let analysis = unik_catalog::analysis::analyse(&catalog, target, &graph).unwrap_or_else(|_| {
        unik_catalog::analysis::Analysis {
            present: Vec::new(),
            stripped: Vec::new(),
        }
    });
    let mut rows: Vec<Row> = attribution.rows(level);
    if by == By::Component {
        rows = by_component(&catalog, rows);
    }
    let loaded = &attribution.loaded;
    Ok(Report {
        schema: SCHEMA,
        package: package.to_string(),
        target: target.to_string(),
        image: image.to_path_buf(),
        file_bytes,
        file: FileBytes {
            headers: file.headers,
            text: file.text,
            rodata: file.rodata,
            data: file.data,
            other: file.other,
        },
        loaded_bytes: attribution.total(),
        loaded: Loaded {
            text: loaded.text,
            rodata: loaded.rodata,
            data: loaded.data,
            bss: loaded.bss,
        },
        by,
        components: analysis.present,
        stripped: analysis.stripped,
        rows,
    })
}

/// The symbol `#[unik::main]` exports: the application's `main`, inlined into it.
const APPLICATION_ENTRY: &str = "__unik_app_main";

/// Regroups symbol rows by the component that owns each symbol; symbols no component owns
/// are grouped by crate in brackets (`[core]`), and bracketed rows stay as they are.
fn by_component(catalog: &unik_catalog::Catalog, symbol_rows: Vec<Row>) -> Vec<Row> {
    let mut grouped: std::collections::BTreeMap<String, Row> = std::collections::BTreeMap::new();
    for row in symbol_rows {
        let name = if row.name.starts_with('[') {
            row.name.clone()
        } else if row.name == APPLICATION_ENTRY {
            "[application]".to_string()
        } else {
            match unik_catalog::analysis::owner(catalog, &row.name) {
                Some(component) => component.name.clone(),
                None => format!("[{}]", unik_linker::size::crate_of(&row.name).trim_matches(['[', ']'])),
            }
        };
        let entry = grouped.entry(name.clone()).or_insert_with(|| Row {
            name,
            bytes: 0,
            text: 0,
            rodata: 0,
            data: 0,
            bss: 0,
        });
        entry.bytes += row.bytes;
        entry.text += row.text;
        entry.rodata += row.rodata;
        entry.data += row.data;
        entry.bss += row.bss;
    }
    let mut rows: Vec<Row> = grouped.into_values().collect();
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn by_name(by: By) -> &'static str {
    match by {
        By::Section => "section",
        By::Symbol => "symbol",
        By::Crate => "crate",
        By::Component => "component",
    }
}

fn clip(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_string();
    }
    let kept: String = name.chars().take(width - 1).collect();
    format!("{kept}…")
}

/// The human table, at most 100 columns wide.
pub fn table(report: &Report, top: usize) -> String {
    const NAME: usize = 44;
    let mut out = format!(
        "{} for {}\n{} bytes in the image file: headers {}, text {}, rodata {}, data {}, padding {}\n{} bytes loaded: text {}, rodata {}, data {}, bss {}\n\n",
        report.package,
        report.target,
        report.file_bytes,
        report.file.headers,
        report.file.text,
        report.file.rodata,
        report.file.data,
        report.file.other,
        report.loaded_bytes,
        report.loaded.text,
        report.loaded.rodata,
        report.loaded.data,
        report.loaded.bss
    );
    out += &format!(
        "{:<NAME$} {:>9} {:>6} {:>8} {:>7} {:>6} {:>8}\n",
        by_name(report.by),
        "bytes",
        "%",
        "text",
        "rodata",
        "data",
        "bss"
    );
    let total = report.loaded_bytes.max(1) as f64;
    let (shown, rest) = report.rows.split_at(top.min(report.rows.len()));
    for row in shown {
        out += &format!(
            "{:<NAME$} {:>9} {:>5.1}% {:>8} {:>7} {:>6} {:>8}\n",
            clip(&row.name, NAME),
            row.bytes,
            row.bytes as f64 * 100.0 / total,
            row.text,
            row.rodata,
            row.data,
            row.bss
        );
    }
    if !rest.is_empty() {
        let sum = |f: fn(&Row) -> u64| rest.iter().map(f).sum::<u64>();
        let bytes = sum(|r| r.bytes);
        out += &format!(
            "{:<NAME$} {:>9} {:>5.1}% {:>8} {:>7} {:>6} {:>8}\n",
            format!("[{} more rows]", rest.len()),
            bytes,
            bytes as f64 * 100.0 / total,
            sum(|r| r.text),
            sum(|r| r.rodata),
            sum(|r| r.data),
            sum(|r| r.bss)
        );
    }
    out += &format!("{:<NAME$} {:>9} {:>5.1}%\n", "total", report.loaded_bytes, 100.0);
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    out += &format!(
        "\ncomponents: {}\nstripped:   {}\n",
        list(&report.components),
        list(&report.stripped)
    );
    out
}

/// Compares `report` with `baseline`; returns the difference table and the file growth in percent.
pub fn compare(report: &Report, baseline: &Report) -> (String, f64) {
    let mut changes: Vec<(String, i64)> = Vec::new();
    for row in &report.rows {
        let old = baseline.rows.iter().find(|r| r.name == row.name).map_or(0, |r| r.bytes);
        changes.push((row.name.clone(), row.bytes as i64 - old as i64));
    }
    for old in &baseline.rows {
        if !report.rows.iter().any(|r| r.name == old.name) {
            changes.push((old.name.clone(), -(old.bytes as i64)));
        }
    }
    changes.retain(|(_, delta)| *delta != 0);
    changes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let growth = (report.file_bytes as f64 - baseline.file_bytes as f64) * 100.0 / (baseline.file_bytes.max(1) as f64);
    let mut out = format!(
        "image file: {} -> {} bytes ({:+.1}%); loaded: {} -> {} bytes\n",
        baseline.file_bytes, report.file_bytes, growth, baseline.loaded_bytes, report.loaded_bytes
    );
    for (name, delta) in &changes {
        out += &format!("  {delta:+9}  {}\n", clip(name, 80));
    }
    (out, growth)
}

fn read_baseline(path: &Path, report: &Report) -> Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the baseline `{}`", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the baseline `{}` is not a size-report JSON file", path.display()))?;
    let schema = value.get("schema").and_then(|s| s.as_u64());
    if schema != Some(u64::from(SCHEMA)) {
        bail!(
            "the baseline `{}` has schema {}, but this unik reads schema {SCHEMA}; regenerate it with `unik size-report --format json`",
            path.display(),
            schema.map_or("(none)".to_string(), |s| s.to_string())
        );
    }
    let baseline: Report = serde_json::from_value(value)
        .with_context(|| format!("the baseline `{}` does not follow schema {SCHEMA}", path.display()))?;
    if baseline.target != report.target {
        bail!(
            "the baseline `{}` is for target `{}`, this report for `{}`",
            path.display(),
            baseline.target,
            report.target
        );
    }
    if baseline.by != report.by {
        bail!(
            "the baseline `{}` is by {}, this report by {}; pass --by {}",
            path.display(),
            by_name(baseline.by),
            by_name(report.by),
            by_name(baseline.by)
        );
    }
    Ok(baseline)
}

fn largest(report: &Report, count: usize) -> String {
    report
        .rows
        .iter()
        .take(count)
        .map(|r| format!("{} ({} bytes)", r.name, r.bytes))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `unik size-report`; the result is the exit status (1 when a gate fails).
pub fn exec(shell: &Shell, args: Args) -> Result<i32> {
    let (image, elf, package, target) = match &args.image {
        Some(image) => {
            let beside = PathBuf::from(format!("{}.elf", image.display()));
            let elf = if beside.is_file() { beside } else { image.clone() };
            let target = image
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let package = image
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (image.clone(), elf, package, target)
        }
        None => {
            let record = build::build_selected(shell, &args.selection, args.target.as_deref())?;
            (record.image, record.elf, record.package, record.target)
        }
    };
    let report = report(&image, &elf, &package, &target, args.by)?;
    match args.format {
        Format::Table => unik_ui::out!("{}", table(&report, args.top)),
        Format::Json => unik_ui::outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    let mut status = 0;
    if let Some(path) = &args.baseline {
        let baseline = read_baseline(path, &report)?;
        let (differences, growth) = compare(&report, &baseline);
        eprint!("{differences}");
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
            "the image is {} bytes, over the --budget of {budget} bytes; the largest {}s: {}",
            report.file_bytes,
            by_name(report.by),
            largest(&report, 3)
        ));
        status = 1;
    }
    Ok(status)
}
