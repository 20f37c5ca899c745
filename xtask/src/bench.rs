//! `cargo xtask bench`: image size, boot time, memory floor and build time, measured the
//! same way every time, written to `target/bench/report.json` and `report.md`.
//!
//! Boot times come from the runner (spawning QEMU to its exit), interleaved with a floor:
//! the same QEMU command booting a few-byte image that ends its run at once (see
//! [`crate::floor`]).

use crate::bench_http::{CONNECTIONS, LOADED_EXAMPLES, REQUESTS_PER_CONNECTION};
use crate::{root, run};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use unik_runner::{BootRequest, Outcome, accel};
use unik_targets::{Accelerator, ByteSize, Target};
use unik_ui::Shell;

/// Version of the report layout.
pub const SCHEMA: u32 = 3;
/// The examples measured: every package in `examples/`, in name order.
pub fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("examples"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
/// Whether `example` is a server (it never exits, so it has no expected output in
/// `tests/data/boot/`): measured for size on the targets with a NIC, and under load.
pub fn is_server(example: &str) -> bool {
    !root().join(format!("tests/data/boot/{example}.toml")).is_file()
}

/// Whether the bench builds `example` for `target`.
fn builds_for(example: &str, target: &Target) -> bool {
    !is_server(example) || matches!(target.network_device(), unik_targets::NetworkDevice::QemuNic(_))
}

/// Boots per measurement (and as many floor boots, interleaved).
pub const BOOT_RUNS: usize = 20;

/// The whole report.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Where and with what it was measured.
    pub machine: Machine,
    /// Image sizes, one per example and target.
    pub sizes: Vec<Size>,
    /// Boot times of hello, one per target and accelerator.
    pub boots: Vec<Boot>,
    /// Smallest memory each example passes with, per target.
    pub memory_floors: Vec<MemoryFloor>,
    /// Build times of hello.
    pub build: BuildTimes,
    /// examples/http under load: on each target with a NIC, and as a Linux process.
    pub http: Vec<crate::bench_http::HttpLoad>,
}

/// The measuring machine and software.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// CPUs available.
    pub cores: usize,
    /// Host TSC frequency in MHz (guest cycles are converted with it).
    pub tsc_mhz: f64,
    /// Accelerators this machine offers, and how KVM is.
    pub accelerators: String,
    /// `qemu-system-x86_64 --version`.
    pub qemu: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Commit measured (`-dirty` with uncommitted changes).
    pub commit: String,
    /// `--quick` or full.
    pub quick: bool,
}

/// Bytes of one image.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Example.
    pub example: String,
    /// Target.
    pub target: String,
    /// Image file bytes.
    pub file: u64,
    /// Executable bytes loaded.
    pub text: u64,
    /// Read-only data.
    pub rodata: u64,
    /// Initialised data.
    pub data: u64,
    /// Zero-filled memory (bss, stacks, page tables).
    pub bss: u64,
}

/// Median, min and max of a series of milliseconds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Median.
    pub median_ms: f64,
    /// Minimum.
    pub min_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Samples.
    pub runs: usize,
}

/// Boot time of hello on one target and accelerator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boot {
    /// Target.
    pub target: String,
    /// `tcg` or `kvm`.
    pub accel: String,
    /// Spawning QEMU to its exit, hello.
    pub hello: Stats,
    /// The same for the floor image.
    pub floor: Stats,
    /// Median of hello minus median of the floor.
    pub over_floor_ms: f64,
    /// Median of hello over median of the floor.
    pub ratio_to_floor: f64,
    /// The guest's own time from its first instruction to `main` (TSC), median.
    pub entry_to_main_us: f64,
    /// Under a hypervisor: its "building the domain" line to the app's first line, median.
    pub domain_build_to_first_line_ms: Option<f64>,
}

/// Memory floor of one example on one target.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFloor {
    /// Example.
    pub example: String,
    /// Target.
    pub target: String,
    /// Smallest `--memory` (KiB) with which it boots and passes.
    pub kib: u64,
}

/// Build times of hello (dependencies already downloaded).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildTimes {
    /// From an empty target directory.
    pub clean_s: f64,
    /// Nothing changed.
    pub noop_s: f64,
    /// After touching the application's source.
    pub touched_s: f64,
}

impl Report {
    /// Checks that every figure the report promises is there.
    pub fn validate(&self, targets: &[Target]) -> Result<(), String> {
        if self.schema != SCHEMA {
            return Err(format!("schema {} is not {SCHEMA}", self.schema));
        }
        for example in &examples() {
            for definition in targets.iter().filter(|t| builds_for(example, t)) {
                let target = &definition.name;
                let under_hypervisor = definition.machine.hypervisor.is_some();
                if !self
                    .sizes
                    .iter()
                    .any(|s| &s.example == example && &s.target == target && s.file > 0)
                {
                    return Err(format!("no size for {example} on {target}"));
                }
                let needs_floor =
                    !is_server(example) && (!self.machine.quick || example == "hello" || !under_hypervisor);
                if needs_floor
                    && !self
                        .memory_floors
                        .iter()
                        .any(|m| &m.example == example && &m.target == target)
                {
                    return Err(format!("no memory floor for {example} on {target}"));
                }
            }
        }
        for definition in targets {
            let target = &definition.name;
            let boot = self
                .boots
                .iter()
                .find(|b| &b.target == target)
                .ok_or(format!("no boot time for {target}"))?;
            if boot.hello.runs < BOOT_RUNS || boot.floor.runs < BOOT_RUNS {
                return Err(format!("{target}: fewer than {BOOT_RUNS} boots"));
            }
            if definition.machine.hypervisor.is_some() && boot.domain_build_to_first_line_ms.is_none() {
                return Err(format!("{target}: no domain-build-to-first-line time"));
            }
        }
        let loads = http_load_targets()
            .into_iter()
            .flat_map(|t| LOADED_EXAMPLES.map(|example| (Some(t.name.clone()), example)))
            .chain([(None, "http")]);
        for (target, example) in loads {
            let load = self
                .http
                .iter()
                .find(|l| l.target == target && l.example == example)
                .ok_or(format!(
                    "no HTTP load of {example} for {}",
                    target.as_deref().unwrap_or("the Linux server")
                ))?;
            if load.requests != CONNECTIONS * REQUESTS_PER_CONNECTION || load.requests_per_s <= 0.0 {
                return Err(format!("{}: incomplete HTTP load", load.server));
            }
        }
        if self.build.clean_s <= 0.0 || self.machine.commit.is_empty() || self.machine.qemu.is_empty() {
            return Err("missing build time or machine facts".into());
        }
        Ok(())
    }
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = if ms.is_empty() { 0.0 } else { ms[ms.len() / 2] };
    Stats {
        median_ms: median,
        min_ms: *ms.first().unwrap_or(&0.0),
        max_ms: *ms.last().unwrap_or(&0.0),
        runs: ms.len(),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn first_line(shell: &Shell, program: &str, args: &[&str]) -> String {
    let mut command = shell.command(program);
    command.args(args);
    shell.echo(&command);
    command
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

fn host_tsc_mhz() -> f64 {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("cpu MHz")
                .and_then(|r| r.split(':').nth(1))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// The guest's time from its first instruction to `main`, in µs, from a bench build's
/// console: its counter ticks, at the rate it reports or else the host's TSC rate.
fn entry_to_main_us(console: &str, tsc_mhz: f64) -> Option<f64> {
    let value = |prefix: &str| {
        console
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|n| n.trim().parse::<f64>().ok())
    };
    let ticks = value("unik-bench: entry-to-main-cycles ")?;
    let ticks_per_us = value("unik-bench: counter-hz ").map_or(tsc_mhz, |hz| hz / 1e6);
    (ticks_per_us > 0.0).then(|| ticks / ticks_per_us)
}

/// Everything one boot needs besides the image and memory.
struct Booter<'a> {
    shell: &'a Shell,
    target: &'a Target,
    accel: accel::Resolved,
    /// Where the hypervisor is cached.
    cache: PathBuf,
}

impl Booter<'_> {
    fn boot(&self, image: &Path, memory: ByteSize, cmdline: &str) -> Result<(unik_runner::RunResult, String), String> {
        let captured = unik_runner::CapturedConsole::default();
        let request = BootRequest {
            target: self.target,
            image,
            mode: None,
            memory,
            cmdline: cmdline.to_string(),
            accel: self.accel,
            timeout: Some(Duration::from_secs(60)),
            network: None,
            vif_bridge: None,
            dom0_command: None,
            ramdisk: None,
            volumes: Vec::new(),
            cache: self.cache.clone(),
        };
        let result = unik_runner::run(self.shell, &request, Box::new(captured.clone())).map_err(|e| e.to_string())?;
        Ok((result, captured.text()))
    }
}

/// `unik build` of `example` for `target` with `profile`; returns the build record.
fn build(shell: &Shell, unik: &Path, example: &str, target: &str, profile: &str) -> Result<serde_json::Value, String> {
    let mut command = shell.command(unik);
    command.current_dir(root().join("examples").join(example)).args([
        "-q",
        "build",
        "--profile",
        profile,
        "--target",
        target,
        "--message-format",
        "json",
    ]);
    shell.echo(&command);
    let output = command.output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "building {example} for {target} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let image_built = stdout.lines().next().ok_or("unik build printed no message")?;
    let message: serde_json::Value = serde_json::from_str(image_built).map_err(|e| e.to_string())?;
    let record = message["record"].as_str().ok_or("no record path")?;
    serde_json::from_str(&std::fs::read_to_string(record).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// What a boot case expects: status and (when exact) console text.
fn expectation(example: &str) -> (i32, Option<String>, String) {
    let text = std::fs::read_to_string(root().join(format!("tests/data/boot/{example}.toml"))).unwrap_or_default();
    let value: toml::Value = toml::from_str(&text).unwrap_or(toml::Value::Table(Default::default()));
    let status = value.get("status").and_then(|v| v.as_integer()).unwrap_or(0) as i32;
    let stdout = value.get("stdout").and_then(|v| v.as_str()).map(str::to_string);
    // The command line `unik run` would pass: the manifest's `cmdline`.
    let manifest = std::fs::read_to_string(root().join(format!("examples/{example}/Cargo.toml"))).unwrap_or_default();
    let manifest: toml::Value = toml::from_str(&manifest).unwrap_or(toml::Value::Table(Default::default()));
    let cmdline = manifest
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("unik"))
        .and_then(|u| u.get("cmdline"))
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_string();
    (status, stdout, cmdline)
}

fn passes(booter: &Booter<'_>, image: &Path, memory: ByteSize, example: &str) -> bool {
    let (status, stdout, cmdline) = expectation(example);
    match booter.boot(image, memory, &cmdline) {
        Ok((result, console)) => {
            result.outcome == Outcome::Exited(status) && stdout.as_ref().is_none_or(|expected| expected == &console)
        }
        Err(_) => false,
    }
}

/// Smallest memory (a multiple of `step`) in `low..=high` with which the example passes.
fn bisect(booter: &Booter<'_>, image: &Path, example: &str, mut low: u64, mut high: u64, step: u64) -> Option<u64> {
    if !passes(booter, image, ByteSize::new(high), example) {
        return None;
    }
    low = low.div_ceil(step) * step;
    if passes(booter, image, ByteSize::new(low), example) {
        return Some(low);
    }
    while high - low > step {
        let middle = (low + (high - low) / 2) / step * step;
        let middle = middle.clamp(low + step, high - step);
        if passes(booter, image, ByteSize::new(middle), example) {
            high = middle
        } else {
            low = middle
        }
    }
    Some(high)
}

/// Runs the benchmarks; writes `target/bench/report.json` and `report.md`.
pub fn bench(shell: &Shell, quick: bool) -> Result<(), String> {
    crate::setup::setup(shell)?;
    let root = root();
    let mut cargo = shell.command("cargo");
    cargo
        .current_dir(&root)
        .args(["build", "--quiet", "--release", "--package", "unik-cli"]);
    run(shell, &mut cargo)?;
    let unik = root.join("target/release/unik");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;

    let kvm = accel::kvm_unavailable().is_none();
    let machine = Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        tsc_mhz: host_tsc_mhz(),
        accelerators: match (kvm, accel::kvm_is_paravirtual()) {
            (false, _) => "tcg (no usable /dev/kvm)".into(),
            (true, true) => "tcg, kvm (paravirtual KVM: no VMX/SVM for guests)".into(),
            (true, false) => "tcg, kvm".into(),
        },
        qemu: first_line(shell, "qemu-system-x86_64", &["--version"]),
        rustc: first_line(shell, "rustc", &["--version"]),
        commit: {
            let commit = first_line(
                shell,
                "git",
                &["-C", &root.to_string_lossy(), "rev-parse", "--short", "HEAD"],
            );
            let dirty = !first_line(
                shell,
                "git",
                &[
                    "-C",
                    &root.to_string_lossy(),
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                ],
            )
            .is_empty();
            if dirty { format!("{commit}-dirty") } else { commit }
        },
        quick,
    };
    let targets = bench_targets();

    shell.status("Measuring", "image sizes (release)");
    let mut sizes = Vec::new();
    let examples = examples();
    for example in &examples {
        for target in targets.iter().filter(|t| builds_for(example, t)) {
            let record = build(shell, &unik, example, &target.name, "release")?;
            let loaded = &record["loaded"];
            sizes.push(Size {
                example: example.to_string(),
                target: target.name.clone(),
                file: record["bytes"].as_u64().unwrap_or(0),
                text: loaded["text"].as_u64().unwrap_or(0),
                rodata: loaded["rodata"].as_u64().unwrap_or(0),
                data: loaded["data"].as_u64().unwrap_or(0),
                bss: loaded["bss"].as_u64().unwrap_or(0),
            });
        }
    }

    let cache = crate::setup::hypervisor_cache();
    let mut boots = Vec::new();
    let mut memory_floors = Vec::new();
    for target in &targets {
        if let Some(hypervisor) = &target.machine.hypervisor {
            unik_runner::hypervisor::ensure(shell, hypervisor, &cache).map_err(|e| e.to_string())?;
        }
        let record = build(shell, &unik, "hello", &target.name, "bench")?;
        let hello = PathBuf::from(record["image"].as_str().ok_or("no image")?);
        let floor_image = out.join(format!("floor-{}", target.name));
        crate::floor::write(&floor_image, target)?;
        let memory = ByteSize::new(16 << 20);
        for accelerator in &target.machine.accelerators {
            let resolved = match accelerator {
                Accelerator::Tcg => accel::Resolved::Tcg,
                // KVM runs only guests of the host's own architecture.
                Accelerator::Kvm if kvm && accel::host_runs(target.arch) => accel::Resolved::Kvm,
                Accelerator::Kvm => continue,
            };
            shell.status(
                "Measuring",
                format!(
                    "boot time on {} ({}), {BOOT_RUNS} boots of hello and of the floor",
                    target.name,
                    resolved.name()
                ),
            );
            let booter = Booter {
                shell,
                target,
                accel: resolved,
                cache: cache.clone(),
            };
            let (mut hello_times, mut floor_times, mut entry_to_main, mut builds) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..BOOT_RUNS {
                let (floor, _) = booter.boot(&floor_image, memory, "")?;
                floor_times.push(floor.elapsed);
                let (result, console) = booter.boot(&hello, memory, "")?;
                if result.outcome != Outcome::Exited(0) {
                    return Err(format!(
                        "hello failed on {}: {:?}\n{console}",
                        target.name, result.outcome
                    ));
                }
                hello_times.push(result.elapsed);
                if let Some(micros) = entry_to_main_us(&console, machine.tsc_mhz) {
                    entry_to_main.push(micros);
                }
                let built = target.machine.hypervisor.as_ref().and_then(|hypervisor| {
                    result
                        .hypervisor_log
                        .iter()
                        .find(|l| l.text.contains(&hypervisor.domain_build_marker))
                        .map(|l| l.at)
                });
                if let (Some(built), Some(first)) = (built, result.first_output) {
                    builds.push((first.saturating_sub(built)).as_secs_f64() * 1000.0);
                }
            }
            let (hello_stats, floor_stats) = (stats(&hello_times), stats(&floor_times));
            boots.push(Boot {
                target: target.name.clone(),
                accel: resolved.name().into(),
                over_floor_ms: hello_stats.median_ms - floor_stats.median_ms,
                ratio_to_floor: hello_stats.median_ms / floor_stats.median_ms.max(f64::MIN_POSITIVE),
                hello: hello_stats,
                floor: floor_stats,
                entry_to_main_us: median(&mut entry_to_main),
                domain_build_to_first_line_ms: (!builds.is_empty()).then(|| median(&mut builds)),
            });
        }

        let booter = Booter {
            shell,
            target,
            accel: accel::Resolved::Tcg,
            cache: cache.clone(),
        };
        let under_hypervisor = target.machine.hypervisor.is_some();
        for example in &examples {
            if (quick && under_hypervisor && example != "hello") || is_server(example) {
                continue;
            }
            shell.status("Measuring", format!("memory floor of {example} on {}", target.name));
            let record = build(shell, &unik, example, &target.name, "release")?;
            let image = PathBuf::from(record["image"].as_str().ok_or("no image")?);
            let required = record["memory_required"].as_u64().unwrap_or(1 << 20);
            // Under a hypervisor the guest's memory is set in MiB.
            let step = if under_hypervisor { 1 << 20 } else { 4096 };
            let floor = bisect(&booter, &image, example, required, 64 << 20, step)
                .ok_or(format!("{example} does not pass on {} even with 64M", target.name))?;
            memory_floors.push(MemoryFloor {
                example: example.to_string(),
                target: target.name.clone(),
                kib: floor / 1024,
            });
        }
    }

    shell.status("Measuring", "build time of hello (clean, no-op, touched)");
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let app = work.path().join("hello");
    std::fs::create_dir_all(app.join("src")).map_err(|e| e.to_string())?;
    let manifest = std::fs::read_to_string(root.join("examples/hello/Cargo.toml"))
        .map_err(|e| e.to_string())?
        .replace("../../libos/unik", &root.join("libos/unik").to_string_lossy());
    std::fs::write(app.join("Cargo.toml"), format!("{manifest}\n[workspace]\n")).map_err(|e| e.to_string())?;
    std::fs::copy(root.join("examples/hello/src/main.rs"), app.join("src/main.rs")).map_err(|e| e.to_string())?;
    let timed_build = || -> Result<f64, String> {
        let mut command = shell.command(&unik);
        command.current_dir(&app).args(["-q", "build", "--release"]);
        let started = Instant::now();
        run(shell, &mut command)?;
        Ok(started.elapsed().as_secs_f64())
    };
    let clean_s = timed_build()?;
    let noop_s = timed_build()?;
    let source = std::fs::read_to_string(app.join("src/main.rs")).map_err(|e| e.to_string())?;
    std::fs::write(app.join("src/main.rs"), source + "\n").map_err(|e| e.to_string())?;
    let touched_s = timed_build()?;

    let mut http = Vec::new();
    for target in http_load_targets() {
        for example in LOADED_EXAMPLES {
            shell.status(
                "Measuring",
                format!(
                    "examples/{example} on {} under {CONNECTIONS} x {REQUESTS_PER_CONNECTION} keep-alive requests",
                    target.name
                ),
            );
            http.push(crate::bench_http::measure_unik(shell, &unik, &target, example)?);
        }
    }
    shell.status("Measuring", "the same request handling as a Linux process on loopback");
    http.push(crate::bench_http::measure_linux()?);

    let report = Report {
        schema: SCHEMA,
        machine,
        sizes,
        boots,
        memory_floors,
        build: BuildTimes {
            clean_s,
            noop_s,
            touched_s,
        },
        http,
    };
    report.validate(&targets)?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.json"), json + "\n").map_err(|e| e.to_string())?;
    let table = markdown(&report);
    std::fs::write(out.join("report.md"), &table).map_err(|e| e.to_string())?;
    println!("{table}");
    shell.status("Wrote", format!("{} and report.md", out.join("report.json").display()));
    Ok(())
}

/// The targets examples/http is measured on: every target with a NIC.
fn http_load_targets() -> Vec<Target> {
    unik_targets::all()
        .into_iter()
        .filter(|target| matches!(target.network_device(), unik_targets::NetworkDevice::QemuNic(_)))
        .collect()
}

/// The targets the bench measures: all of them.
fn bench_targets() -> Vec<unik_targets::Target> {
    unik_targets::all()
}

/// The report as markdown tables.
pub fn markdown(report: &Report) -> String {
    let m = &report.machine;
    let mut out = format!(
        "Measured on {} cores ({}), TSC {:.0} MHz; {}; {}; commit {}{}.\n\n",
        m.cores,
        m.accelerators,
        m.tsc_mhz,
        m.qemu,
        m.rustc,
        m.commit,
        if m.quick { "; --quick" } else { "" }
    );
    out += "### Image size (release)\n\n| example | target | file bytes | text | rodata | data | bss |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
    for s in &report.sizes {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            s.example, s.target, s.file, s.text, s.rodata, s.data, s.bss
        );
    }
    out += "\n### Boot time of hello (spawning QEMU to its exit)\n\n| target | accel | hello median (min–max) ms | floor median (min–max) ms | over floor | ratio | guest entry→main | domain build→first line |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for b in &report.boots {
        out += &format!(
            "| {} | {} | {:.1} ({:.1}–{:.1}) | {:.1} ({:.1}–{:.1}) | {:+.1} ms | {:.2} | {:.0} µs | {} |\n",
            b.target,
            b.accel,
            b.hello.median_ms,
            b.hello.min_ms,
            b.hello.max_ms,
            b.floor.median_ms,
            b.floor.min_ms,
            b.floor.max_ms,
            b.over_floor_ms,
            b.ratio_to_floor,
            b.entry_to_main_us,
            b.domain_build_to_first_line_ms
                .map_or("–".to_string(), |ms| format!("{ms:.0} ms"))
        );
    }
    let mut floors: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in &report.memory_floors {
        floors
            .entry(f.example.as_str())
            .or_default()
            .push(format!("{}: {} KiB", f.target, f.kib));
    }
    out += "\n### Memory floor (smallest --memory that boots and passes)\n\n| example | floors |\n| --- | --- |\n";
    for (example, values) in floors {
        out += &format!("| {example} | {} |\n", values.join(", "));
    }
    let b = &report.build;
    out += &format!(
        "\n### Build time of hello (release, dependencies downloaded)\n\n| clean | no-op | after touching main.rs |\n| ---: | ---: | ---: |\n| {:.1} s | {:.2} s | {:.2} s |\n",
        b.clean_s, b.noop_s, b.touched_s
    );
    out += &format!(
        "\n### HTTP under load ({CONNECTIONS} keep-alive connections x {REQUESTS_PER_CONNECTION} requests)\n\n| example | server | requests | errors | requests/s | p50 | p90 | p99 | idle host CPU |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    for l in &report.http {
        out += &format!(
            "| {} | {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} |\n",
            l.example,
            l.server,
            l.requests,
            l.errors,
            l.requests_per_s,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.idle_cpu_percent.map_or("–".to_string(), |p| format!("{p:.1}%"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last real run, committed beside BENCHMARKS.md.
    #[test]
    fn the_committed_report_has_every_figure() {
        let text = std::fs::read_to_string(root().join("benchmarks/report.json")).unwrap();
        let report: Report = serde_json::from_str(&text).unwrap();
        report.validate(&bench_targets()).unwrap();
        assert!(markdown(&report).contains("| hello | kvm-x86_64 |"));
    }

    #[test]
    fn entry_to_main_is_converted_at_the_rate_the_guest_reports() {
        let arm64 = "Hello\nunik-bench: entry-to-main-cycles 6250\nunik-bench: counter-hz 62500000\n";
        assert_eq!(entry_to_main_us(arm64, 2600.0), Some(100.0));
        let x86 = "unik-bench: entry-to-main-cycles 2600000\n";
        assert_eq!(entry_to_main_us(x86, 2600.0), Some(1000.0));
        assert_eq!(entry_to_main_us("Hello\n", 2600.0), None);
    }

    #[test]
    fn a_report_missing_a_figure_is_rejected() {
        let text = std::fs::read_to_string(root().join("benchmarks/report.json")).unwrap();
        let mut report: Report = serde_json::from_str(&text).unwrap();
        report.sizes.retain(|s| s.example != "clock");
        let targets = bench_targets();
        assert!(report.validate(&targets).unwrap_err().contains("no size for clock"));
    }
}
