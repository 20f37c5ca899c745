//! Boots the examples and test applications under QEMU with the real `unik` CLI and checks
//! their console output and exit status against `tests/data/boot/`.

mod support;

use serde::Deserialize;
use support::{Output, accel, boot_example, data, run, unik, unik_for_app};

/// A boot case: which example, its arguments, and what it must print and return.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    example: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
    stdout_pattern: Option<String>,
}

fn load(case: &str) -> Case {
    let text = std::fs::read_to_string(data(&format!("boot/{case}.toml"))).unwrap();
    toml::from_str(&text).unwrap()
}

/// Boots the case's example and checks status and (if given exactly) output.
fn boot(case: &str) -> (Case, Output) {
    let spec = load(case);
    let example = spec.example.clone().unwrap_or_else(|| case.to_string());
    let args: Vec<&str> = spec.args.iter().map(String::as_str).collect();
    let output = boot_example(&example, &args);
    assert_eq!(
        output.status, spec.status,
        "{case}: status\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    if let Some(expected) = &spec.stdout {
        assert_eq!(
            &output.stdout, expected,
            "{case}: console output\nstderr:\n{}",
            output.stderr
        );
    }
    (spec, output)
}

#[test]
fn hello_prints_and_exits_0() {
    boot("hello");
}

#[test]
fn alloc_uses_vec_string_box_and_btreemap() {
    boot("alloc");
}

#[test]
fn args_come_from_the_manifest_cmdline() {
    boot("args");
}

#[test]
fn args_after_double_dash_replace_the_manifest_cmdline() {
    boot("args-given");
}

#[test]
fn panic_shows_message_and_location_and_exits_101() {
    boot("panic");
}

#[test]
fn clock_measures_a_50ms_sleep_within_20_percent() {
    let (spec, output) = boot("clock");
    let pattern = spec.stdout_pattern.unwrap();
    let (prefix, suffix) = pattern.split_once("{micros}").unwrap();
    let micros: u64 = output
        .stdout
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("output does not match {pattern:?}:\n{}", output.stdout));
    assert!(
        (40_000..=60_000).contains(&micros),
        "slept {micros} us, not 50 ms ± 20%"
    );
}

#[test]
fn hello_builds_and_boots_with_the_dev_profile() {
    let output = run(unik()
        .current_dir(support::root().join("examples/hello"))
        .args(["-q", "run", "--timeout", "60", "--accel", &accel()]));
    assert_eq!(
        (output.status, output.stdout.as_str()),
        (0, "Hello, world!\n"),
        "{}",
        output.stderr
    );
}

/// Boots the `faults` test application with `fault` as its argument.
fn commit_fault(fault: &str) -> Output {
    run(unik_for_app("faults").args([
        "-q",
        "run",
        "--release",
        "--timeout",
        "60",
        "--accel",
        &accel(),
        "--",
        fault,
    ]))
}

fn assert_fault_report(output: &Output, kind: &str) -> u64 {
    assert_eq!(
        output.status, 70,
        "a fault must end the VM with EX_SOFTWARE (70)\n{}\n{}",
        output.stdout, output.stderr
    );
    assert!(
        output
            .stdout
            .contains(&format!("unik: fatal fault: {kind}")),
        "{}",
        output.stdout
    );
    let address = output
        .stdout
        .split("address ")
        .nth(1)
        .expect("the report names the faulting address");
    u64::from_str_radix(address[2..18].trim(), 16).unwrap()
}

#[test]
fn null_dereference_is_a_reported_page_fault() {
    let output = commit_fault("null");
    assert_eq!(assert_fault_report(&output, "page fault"), 0);
}

#[test]
fn writing_to_the_image_text_faults() {
    let output = commit_fault("write-text");
    let address = assert_fault_report(&output, "page fault");
    assert!(
        (0x100000..0x800000).contains(&address),
        "{address:#x} is not in the image"
    );
    // Error code: present (bit 0) and write (bit 1).
    assert!(
        output.stdout.contains("detail 0x0000000000000003"),
        "{}",
        output.stdout
    );
}

#[test]
fn executing_rodata_faults() {
    let output = commit_fault("execute-rodata");
    assert_fault_report(&output, "page fault");
    // Error code: present (bit 0) and instruction fetch (bit 4).
    assert!(
        output.stdout.contains("detail 0x0000000000000011"),
        "{}",
        output.stdout
    );
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    let output = commit_fault("stack-overflow");
    let address = assert_fault_report(&output, "page fault");
    assert!(
        (0x100000..0x800000).contains(&address),
        "{address:#x} is not in the image's stack guard"
    );
}

#[test]
fn a_hang_ends_at_the_timeout_with_a_distinct_status() {
    let output = run(unik_for_app("hang").args([
        "-q",
        "run",
        "--release",
        "--timeout",
        "3",
        "--accel",
        &accel(),
    ]));
    assert_eq!(output.status, 142, "{}", output.stderr);
    assert!(
        output.stderr.contains("still running after"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("tick "),
        "the error shows the last console lines:\n{}",
        output.stderr
    );
    assert!(
        output.stdout.starts_with("tick 0\ntick 1\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn alloc_boots_with_the_min_profile_and_says_it_uses_nightly_flags() {
    let expected = load("alloc").stdout.unwrap();
    let output = run(unik()
        .current_dir(support::root().join("examples/alloc"))
        .args([
            "run",
            "--profile",
            "min",
            "--timeout",
            "60",
            "--accel",
            &accel(),
        ]));
    assert_eq!(
        (output.status, output.stdout.as_str()),
        (0, expected.as_str()),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("RUSTC_BOOTSTRAP=1"),
        "the build says it uses nightly flags:\n{}",
        output.stderr
    );
}
