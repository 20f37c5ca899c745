//! Golden tests of the plans: what `unik build --dry-run` and `unik run --dry-run` print
//! for every target, kind of application and profile (builds), and every boot mode
//! (boots). Machine paths are normalised (the checkout, the toolchain's sysroot, the
//! cache, the run folder). Re-bless after an intended change with
//! `UNIK_UPDATE_GOLDEN=1 cargo test --test plans` and review the diff.

mod support;

use support::{data, root, run, unik};

/// Compares `actual` with the golden file `tests/data/golden/plans/<name>`, or writes it
/// when `UNIK_UPDATE_GOLDEN` is set.
fn golden(name: &str, actual: &str) {
    let path = data("golden/plans").join(name);
    if std::env::var_os("UNIK_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bless with UNIK_UPDATE_GOLDEN=1 cargo test --test plans)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from {}; if the change is intended, re-bless with UNIK_UPDATE_GOLDEN=1 cargo test --test plans\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn sysroot() -> String {
    let output = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root().join("examples"))
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Cargo's home as unik finds it: `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> String {
    std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"))
        .display()
        .to_string()
}

/// `text` with this machine's paths replaced by placeholders: the run folder
/// (`<temp>/unik-run-<pid>-<n>`), the dom0 kit's recipe hash, the cache, the sysroot,
/// cargo's home and the checkout.
fn normalised(text: &str) -> String {
    let mut text = text.to_string();
    let run_dirs = std::env::temp_dir().join("unik-run-").display().to_string();
    while let Some(at) = text.find(&run_dirs) {
        let digits = text[at + run_dirs.len()..]
            .find(|c: char| !c.is_ascii_digit() && c != '-')
            .unwrap_or(text.len() - at - run_dirs.len());
        text.replace_range(at..at + run_dirs.len() + digits, "<run-dir>");
    }
    for arch in ["x86_64", "aarch64"] {
        let kit = format!("dom0-{arch}-");
        let mut from = 0;
        while let Some(at) = text[from..].find(&kit).map(|i| i + from + kit.len()) {
            text.replace_range(at..(at + 8).min(text.len()), "<recipe>");
            from = at;
        }
    }
    text.replace(&support::hypervisor_cache().display().to_string(), "<cache>")
        .replace(&sysroot(), "<sysroot>")
        .replace(&cargo_home(), "<cargo-home>")
        .replace(&root().display().to_string(), "<unik>")
}

#[test]
fn build_plans_match_the_golden_files() {
    let profiles = ["dev", "release", "min", "bench"];
    for application in ["hello", "std-hello"] {
        for target in unik_targets::all() {
            for profile in profiles {
                let output = run(unik().current_dir(root().join("examples").join(application)).args([
                    "build",
                    "--dry-run",
                    "--message-format",
                    "json",
                    "--target",
                    &target.name,
                    "--profile",
                    profile,
                ]));
                assert_eq!(output.status, 0, "{}", output.stderr);
                let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
                assert_eq!(plan["reason"], "build-plan");
                let pretty = serde_json::to_string_pretty(&plan).unwrap() + "\n";
                golden(
                    &format!("build/{application}-{}-{profile}.json", target.name),
                    &normalised(&pretty),
                );
            }
        }
    }
}

#[test]
fn a_dry_run_builds_nothing_and_writes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let output = run(unik()
        .current_dir(root().join("examples/hello"))
        .env("CARGO_TARGET_DIR", folder.path())
        .args(["build", "--dry-run", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stdout.contains("runs         "), "{}", output.stdout);
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0, "nothing written");
    let output = run(unik()
        .current_dir(root().join("examples/hello"))
        .env("CARGO_TARGET_DIR", folder.path())
        .args(["run", "--dry-run", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(
        output.stdout.contains("build it once to see the boot's plan"),
        "{}",
        output.stdout
    );
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0, "nothing written");
}

/// The boot plans of each target's boot modes, for images built first.
#[test]
fn boot_plans_match_the_golden_files() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("kvm-x86_64-direct", "hello", "kvm-x86_64", &[]),
        (
            "kvm-x86_64-direct-publish",
            "http",
            "kvm-x86_64",
            &["--publish", "8080:8080"],
        ),
        ("xen-x86_64-dom0-module", "hello", "xen-x86_64", &[]),
        (
            "xen-x86_64-xl-domu",
            "http",
            "xen-x86_64",
            &["--domu", "--in-dom0", "curl -s http://$UNIK_DOMU_ADDRESS:8080/"],
        ),
        ("kvm-arm64-direct", "hello", "kvm-arm64", &[]),
        ("xen-arm64-device-tree-domu", "hello", "xen-arm64", &[]),
        (
            "xen-arm64-xl-domu",
            "http",
            "xen-arm64",
            &["--domu", "--in-dom0", "curl -s http://$UNIK_DOMU_ADDRESS:8080/"],
        ),
    ];
    for (name, example, target, options) in cases {
        let folder = root().join("examples").join(example);
        let built = run(unik()
            .current_dir(&folder)
            .args(["-q", "build", "--release", "--target", target]));
        assert_eq!(built.status, 0, "{}", built.stderr);
        let output = run(unik()
            .current_dir(&folder)
            .args([
                "-q",
                "run",
                "--dry-run",
                "--release",
                "--accel",
                "tcg",
                "--timeout",
                "30",
                "--target",
                target,
            ])
            .args(*options)
            .args(["--", "a", "b,c"]));
        assert_eq!(output.status, 0, "{}", output.stderr);
        // The build plan comes first; the boot plan starts at `boot `.
        let boot = &output.stdout[output.stdout.find("\nboot ").map_or(0, |i| i + 1)..];
        golden(&format!("boot/{name}.txt"), &normalised(boot));
    }
}

#[test]
fn a_boot_plan_refuses_what_the_image_or_target_cannot_do() {
    let hello = root().join("examples/hello");
    let built = run(unik()
        .current_dir(&hello)
        .args(["-q", "build", "--release", "--target", "kvm-arm64"]));
    assert_eq!(built.status, 0, "{}", built.stderr);
    let domu =
        run(unik()
            .current_dir(&hello)
            .args(["run", "--dry-run", "--release", "--target", "kvm-arm64", "--domu"]));
    support::assert_clean_error(&domu, "--domu: target kvm-arm64 does not boot under a dom0 with xl");
    let publish = run(unik().current_dir(&hello).args([
        "run",
        "--dry-run",
        "--release",
        "--target",
        "kvm-arm64",
        "--publish",
        "8080:80",
    ]));
    support::assert_clean_error(&publish, "has no `net` component");
}
