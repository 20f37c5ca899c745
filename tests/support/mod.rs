//! Shared helpers of the integration tests: running the real `unik` binary on the
//! examples and on the test applications in `tests/data/apps/`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `tests/data/...`.
pub fn data(path: &str) -> PathBuf {
    root().join("tests/data").join(path)
}

/// The targets every example boots on.
pub const TARGETS: &[&str] = &["kvm-x86_64", "xen-x86_64", "kvm-arm64", "xen-arm64"];

/// The accelerator direct boots use: TCG unless `UNIK_TEST_ACCEL` asks for another.
pub fn accel() -> String {
    std::env::var("UNIK_TEST_ACCEL").unwrap_or_else(|_| "tcg".into())
}

/// The accelerator for `target`: TCG where the target takes nothing else (a hypervisor
/// inside QEMU), else [`accel`].
pub fn accel_for(target: &str) -> String {
    let definition = unik_targets::find(target).unwrap();
    if definition
        .machine
        .accelerators
        .contains(&unik_targets::Accelerator::Kvm)
    {
        accel()
    } else {
        "tcg".into()
    }
}

/// Whether `target` boots its images under a hypervisor QEMU runs.
pub fn under_hypervisor(target: &str) -> bool {
    unik_targets::find(target).unwrap().machine.hypervisor.is_some()
}

/// The hypervisor cache the tests share (`cargo xtask setup` fills it).
pub fn hypervisor_cache() -> PathBuf {
    root().join("target/unik-cache")
}

/// The `unik` binary under test, with a clean environment and the shared hypervisor cache.
pub fn unik() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_unik"));
    command.env_remove("CARGO_TARGET_DIR");
    command.env("UNIK_CACHE_DIR", hypervisor_cache());
    command
}

/// `unik` for the test application `tests/data/apps/<app>`; the test applications build
/// into `target/test-apps` (one library OS build for all of them).
pub fn unik_for_app(app: &str) -> Command {
    let mut command = unik();
    command.current_dir(data("apps").join(app));
    command.env("CARGO_TARGET_DIR", root().join("target/test-apps"));
    command
}

/// `run --release --target T --timeout S --accel A`, the arguments of a test boot.
pub fn run_args(target: &str, timeout_seconds: u32) -> Vec<String> {
    [
        "-q",
        "run",
        "--release",
        "--target",
        target,
        "--timeout",
        &timeout_seconds.to_string(),
        "--accel",
        &accel_for(target),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A finished command.
#[derive(Debug)]
pub struct Output {
    /// Exit status.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `command` to completion.
pub fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the unik binary runs");
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `unik run` of `examples/<example>` for `target` in release, with `args` after `--`.
pub fn boot_example(example: &str, target: &str, args: &[&str]) -> Output {
    let mut command = unik();
    command
        .current_dir(root().join("examples").join(example))
        .args(run_args(target, 60));
    if !args.is_empty() {
        command.arg("--").args(args);
    }
    run(&mut command)
}

/// Asserts a clear failure: non-zero status, `expected` in the message, no panic or
/// backtrace.
pub fn assert_clean_error(output: &Output, expected: &str) {
    assert_ne!(output.status, 0, "expected a failure; stderr:\n{}", output.stderr);
    assert!(
        output.stderr.contains(expected),
        "stderr lacks {expected:?}:\n{}",
        output.stderr
    );
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!output.stderr.contains(bad), "stderr shows a panic:\n{}", output.stderr);
    }
}

/// `unik -q build --message-format json` with `args` through `command`; the one
/// `image-built` message it prints.
pub fn build_message(command: &mut Command, args: &[&str]) -> serde_json::Value {
    let output = run(command.args(["-q", "build", "--message-format", "json"]).args(args));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let messages: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        messages.len(),
        2,
        "one message per image, then build-finished:\n{}",
        output.stdout
    );
    assert_eq!(
        messages[1],
        serde_json::json!({"reason": "build-finished", "success": true})
    );
    messages[0].clone()
}

/// The demangled symbol names of the linked ELF (`<image>.elf`) of a build message.
pub fn image_symbols(message: &serde_json::Value) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let elf = std::fs::read(format!("{}.elf", message["image"].as_str().unwrap())).unwrap();
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*elf).unwrap();
    file.symbols()
        .filter_map(|s| s.name().ok().map(|n| format!("{:#}", rustc_demangle::demangle(n))))
        .collect()
}
