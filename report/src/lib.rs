//! The size report: where the bytes of an image come from, read from the image, its
//! linked ELF and the build record beside it, and the CI gates (a baseline's growth, a
//! byte budget).
//!
//! JSON schema (version 1, keys in this order): `schema`, `package`, `target`, `image`,
//! `file_bytes`, `file` {`headers`, `text`, `rodata`, `data`, `other`}, `loaded_bytes`,
//! `loaded` {`text`, `rodata`, `data`, `bss`}, `by` (`section`|`symbol`|`crate`|`component`),
//! `components`, `stripped`, `rows` [{`name`, `bytes`, `text`, `rodata`, `data`, `bss`}],
//! largest first. The rows always sum to `loaded_bytes`. See docs/size-report.md.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unik_catalog::Catalog;
use unik_linker::size::{Attribution, Level, Row};
use unik_linker::{BuildRecord, FileSizes, ImageError, ImageFormat, LoadedSizes};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The linked ELF (symbols, sections) is not beside the image.
    #[error(
        "the linked ELF `{}` is not beside `{}`: the report reads the symbols from the `.elf` unik build writes next to the image; copy it along, or rebuild",
        elf.display(),
        image.display()
    )]
    ElfMissing {
        /// The image.
        image: PathBuf,
        /// Where its ELF should be.
        elf: PathBuf,
    },
    /// Not an image, or not a linked ELF.
    #[error("`{path}` is not an image: {source}")]
    NotAnImage {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ImageError,
    },
    /// The baseline is unusable.
    #[error("the baseline `{path}` {message}")]
    Baseline {
        /// The baseline.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The catalog is invalid (a bug).
    #[error(transparent)]
    Catalog(#[from] unik_catalog::CatalogError),
}

/// Version of the JSON layout.
pub const SCHEMA: u32 = 1;

/// `--by` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    pub file: FileSizes,
    /// Loaded bytes (sum of every row).
    pub loaded_bytes: u64,
    /// Loaded bytes by kind.
    pub loaded: LoadedSizes,
    /// Breakdown level.
    pub by: By,
    /// Optional components the image holds (the specialisation analysis).
    pub components: Vec<String>,
    /// Optional components the target provides that the image does not hold.
    pub stripped: Vec<String>,
    /// The breakdown, largest first.
    pub rows: Vec<Row>,
}

/// The report on the image `record` describes: its file, and its linked ELF beside it.
/// The components are the build's own analysis, from the record.
pub fn report(record: &BuildRecord, by: By) -> Result<Report, ReportError> {
    let image = &record.image;
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let compact = read(image)?;
    let format = unik_targets::find(&record.target).map(|target| target.image_format);
    // A PVH image is an ELF file of its own: checked before its `.elf` is looked for.
    let pvh_file = match format {
        Ok(ImageFormat::Arm64Image) => None,
        _ => Some(
            unik_linker::Image::parse(&compact)
                .map_err(|source| ReportError::NotAnImage {
                    path: image.clone(),
                    source,
                })?
                .file_sizes(),
        ),
    };
    if !record.elf.is_file() {
        return Err(ReportError::ElfMissing {
            image: image.clone(),
            elf: record.elf.clone(),
        });
    }
    let linked = read(&record.elf)?;
    let not_linked = |source| ReportError::NotAnImage {
        path: record.elf.clone(),
        source,
    };
    let file = match pvh_file {
        Some(file) => file,
        None => unik_linker::arm64::file_sizes(&compact, &linked).map_err(not_linked)?,
    };
    let attribution = Attribution::of(&linked).map_err(not_linked)?;
    let level = match by {
        By::Section => Level::Section,
        By::Symbol | By::Component => Level::Symbol,
        By::Crate => Level::Crate,
    };
    let mut rows: Vec<Row> = attribution.rows(level);
    if by == By::Component {
        rows = by_component(&Catalog::shipped()?, rows);
    }
    Ok(Report {
        schema: SCHEMA,
        package: record.package.clone(),
        target: record.target.clone(),
        image: image.clone(),
        file_bytes: compact.len() as u64,
        file,
        loaded_bytes: attribution.total(),
        loaded: attribution.loaded,
        by,
        components: record.components.clone(),
        stripped: record.stripped.clone(),
        rows,
    })
}

use unik_linker::size::APPLICATION_ENTRY;

/// Regroups symbol rows by the component that owns each symbol; symbols no component owns
/// are grouped by crate in brackets (`[core]`), and bracketed rows stay as they are.
fn by_component(catalog: &Catalog, symbol_rows: Vec<Row>) -> Vec<Row> {
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

/// How `by` is written on the command line and in the JSON.
pub fn by_name(by: By) -> &'static str {
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
    // The names, comma-separated, wrapped under the first to stay within 100 columns.
    let list = |names: &[String]| {
        if names.is_empty() {
            return "none".to_string();
        }
        let mut text = String::new();
        let mut width = 12;
        for (index, name) in names.iter().enumerate() {
            let piece = if index + 1 < names.len() {
                format!("{name},")
            } else {
                name.clone()
            };
            if index > 0 {
                if width + 1 + piece.len() > 100 {
                    text += "\n            ";
                    width = 12;
                } else {
                    text.push(' ');
                    width += 1;
                }
            }
            width += piece.len();
            text += &piece;
        }
        text
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

/// Reads the baseline report at `path` and checks that it can be compared with `report`.
pub fn read_baseline(path: &Path, report: &Report) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::Baseline {
        path: path.to_path_buf(),
        message: format!("cannot be read: {e}"),
    })?;
    parse_baseline(&text, path, report)
}

/// Reads a baseline report from its JSON `text` (read from `path`, which errors name) and
/// checks that it can be compared with `report`.
pub fn parse_baseline(text: &str, path: &Path, report: &Report) -> Result<Report, ReportError> {
    let bad = |message: String| ReportError::Baseline {
        path: path.to_path_buf(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("is not a size-report JSON file ({e})")))?;
    let schema = value.get("schema").and_then(|s| s.as_u64());
    if schema != Some(u64::from(SCHEMA)) {
        return Err(bad(format!(
            "has schema {}, but this unik reads schema {SCHEMA}; regenerate it with `unik size-report --format json`",
            schema.map_or("(none)".to_string(), |s| s.to_string())
        )));
    }
    let baseline: Report =
        serde_json::from_value(value).map_err(|e| bad(format!("does not follow schema {SCHEMA} ({e})")))?;
    if baseline.target != report.target {
        return Err(bad(format!(
            "is for target `{}`, this report for `{}`",
            baseline.target, report.target
        )));
    }
    if baseline.by != report.by {
        return Err(bad(format!(
            "is by {}, this report by {}; pass --by {}",
            by_name(baseline.by),
            by_name(report.by),
            by_name(baseline.by)
        )));
    }
    Ok(baseline)
}

/// The `count` rows with the most bytes in the image *file* (text, rodata and data; bss and
/// the stack take no room in the file), for messages about the file's size.
pub fn largest_in_file(report: &Report, count: usize) -> String {
    let in_file = |row: &Row| row.text + row.rodata + row.data;
    let mut rows: Vec<&Row> = report.rows.iter().filter(|row| in_file(row) > 0).collect();
    rows.sort_by(|a, b| in_file(b).cmp(&in_file(a)).then_with(|| a.name.cmp(&b.name)));
    rows.iter()
        .take(count)
        .map(|row| format!("{} ({} bytes)", row.name, in_file(row)))
        .collect::<Vec<_>>()
        .join(", ")
}
