//! `cargo xtask fuzz`: runs every fuzz target in `fuzz/` (cargo-fuzz, libFuzzer) for a
//! while and reports executions, coverage and crashes per target. Not part of CI.
//!
//! Installs what it needs: a nightly toolchain through rustup (libFuzzer's coverage
//! instrumentation is nightly-only) and `cargo-fuzz` from crates.io. Each target starts
//! from `fuzz/seeds/<target>/` (real inputs) and `fuzz/corpus/<target>/`, where inputs that
//! find new coverage land; `--minimize` shrinks the corpus (`cargo fuzz cmin`) and keeps its
//! smallest inputs, which the repository holds. A crash or hang
//! is written to `target/fuzz/artifacts/<target>/` and fails the command after every
//! target has run. Turn each into a regression test (see `fuzz/README.md`).

use crate::setup::output;
use crate::{root, run};
use std::time::{Duration, Instant};
use unik_ui::Shell;

/// The fuzz targets, in the order they run (`[[bin]]`s of `fuzz/Cargo.toml`).
pub const TARGETS: &[&str] = &[
    "elf-image",
    "arm64-image",
    "build-record",
    "size-baseline",
    "manifest-settings",
    "command-line",
    "device-tree",
    "pvh-start-info",
    "xenstore-replies",
    "packed-files",
];

/// An input running longer than this is a hang, reported like a crash.
const HANG_SECONDS: u32 = 10;

/// What one target's run gave.
struct Outcome {
    target: String,
    seconds: u64,
    executions: Option<u64>,
    coverage: Option<u64>,
    corpus: usize,
    failure: Option<String>,
}

/// Parses `cargo xtask fuzz [--minutes N] [--minimize] [TARGET…]` and runs the targets.
pub fn fuzz(shell: &Shell, args: &[String]) -> Result<(), String> {
    let mut minutes = 10.0_f64;
    let mut minimize = false;
    let mut chosen = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => {
                minutes = args
                    .next()
                    .and_then(|m| m.parse().ok())
                    .filter(|m: &f64| m.is_finite() && *m > 0.0)
                    .ok_or("--minutes takes a positive number of minutes, such as `--minutes 10`")?;
            }
            "--minimize" => minimize = true,
            name if TARGETS.contains(&name) => chosen.push(name.to_string()),
            other => {
                return Err(format!(
                    "unknown fuzz target or option `{other}`: the targets are {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    tools(shell)?;
    let fuzz_dir = root().join("fuzz");
    let work = root().join("target/fuzz");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let seconds = (minutes * 60.0).round().max(1.0) as u64;
    let mut outcomes = Vec::new();
    for target in &chosen {
        shell.status("Fuzzing", format!("{target} for {}", human(seconds)));
        let artifacts = work.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts).map_err(|e| format!("cannot create {}: {e}", artifacts.display()))?;
        let log_path = work.join(format!("{target}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let mut command = shell.command("cargo");
        command
            .current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "run", "--debug-assertions", target])
            // New inputs go to the first folder; the seeds (real inputs) are read too.
            .arg(fuzz_dir.join("corpus").join(target))
            .arg(fuzz_dir.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-timeout={HANG_SECONDS}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        shell.echo(&command);
        let started = Instant::now();
        let status = command.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let stat = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("stat::{name}:")))
                .and_then(|value| value.trim().parse().ok())
        };
        let coverage = text.lines().rev().find_map(|line| {
            line.split_once(" cov: ")
                .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        });
        let failure = (!status.success()).then(|| {
            let artifact = text.lines().find_map(|line| {
                line.split_once("Test unit written to ")
                    .map(|(_, path)| path.trim().to_string())
            });
            match artifact {
                Some(path) => format!("{path} (log: {})", log_path.display()),
                None => format!("cargo fuzz failed ({status}); see {}", log_path.display()),
            }
        });
        let corpus = std::fs::read_dir(fuzz_dir.join("corpus").join(target)).map_or(0, |dir| dir.count());
        outcomes.push(Outcome {
            target: target.clone(),
            seconds: started.elapsed().as_secs(),
            executions: stat("number_of_executed_units"),
            coverage,
            corpus,
            failure,
        });
        if minimize && outcomes.last().is_some_and(|o| o.failure.is_none()) {
            let mut command = shell.command("cargo");
            command
                .current_dir(&fuzz_dir)
                .args(["+nightly", "fuzz", "cmin", "--debug-assertions", target]);
            run(shell, &mut command)?;
            trim(&fuzz_dir.join("corpus").join(target))?;
        }
    }
    print!("{}", summary(&outcomes));
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.target.as_str())
        .collect();
    if failed.is_empty() {
        shell.status("Passed", format!("{} fuzz targets, no crash or hang", outcomes.len()));
        Ok(())
    } else {
        Err(format!(
            "fuzzing found crashes or hangs in {}: reproduce one with `cargo +nightly fuzz run TARGET FILE` in fuzz/",
            failed.join(", ")
        ))
    }
}

/// What the repository keeps of a minimised corpus: its smallest inputs, at most this many
/// files and bytes per target (fuzzing grows it back from there and from the seeds).
const KEPT_FILES: usize = 300;
const KEPT_BYTES: u64 = 256 << 10;

/// Keeps the smallest inputs of `corpus` within [`KEPT_FILES`] and [`KEPT_BYTES`].
fn trim(corpus: &std::path::Path) -> Result<(), String> {
    let mut inputs: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(corpus)
        .map_err(|e| format!("cannot read {}: {e}", corpus.display()))?
        .flatten()
        .filter_map(|entry| Some((entry.metadata().ok()?.len(), entry.path())))
        .collect();
    inputs.sort();
    let mut total = 0;
    for (index, (bytes, path)) in inputs.into_iter().enumerate() {
        total += bytes;
        if index >= KEPT_FILES || total > KEPT_BYTES {
            std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The table printed at the end.
fn summary(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "\n| target | time | executions | exec/s | coverage | corpus | result |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let number = |n: Option<u64>| n.map_or("?".to_string(), |n| n.to_string());
    for o in outcomes {
        let rate = o.executions.map(|e| e / o.seconds.max(1));
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            o.target,
            human(o.seconds),
            number(o.executions),
            number(rate),
            number(o.coverage),
            o.corpus,
            o.failure
                .as_deref()
                .map_or("no crash".to_string(), |f| format!("FAILED: {f}"))
        );
    }
    out
}

fn human(seconds: u64) -> String {
    let duration = Duration::from_secs(seconds);
    match duration.as_secs() {
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// Installs the nightly toolchain and cargo-fuzz when missing.
fn tools(shell: &Shell) -> Result<(), String> {
    if output(shell, "rustup", &["run", "nightly", "rustc", "--version"]).is_none() {
        shell.status(
            "Installing",
            "a nightly Rust toolchain (libFuzzer's instrumentation needs it)",
        );
        let mut command = shell.command("rustup");
        command.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
        run(shell, &mut command)?;
    }
    if output(shell, "cargo", &["fuzz", "--version"]).is_none() {
        shell.status("Installing", "cargo-fuzz from crates.io");
        let mut command = shell.command("cargo");
        command.args(["install", "cargo-fuzz", "--locked"]);
        run(shell, &mut command)?;
    }
    Ok(())
}
