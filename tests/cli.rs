//! The `unik` command line: bad input gets a clear error and a non-zero status (never a
//! panic), `unik new` writes an application that boots, and machine-readable output
//! holds what it promises.

mod support;

use support::{accel, assert_clean_error, build_message, data, root, run, unik, unik_for_app};

#[test]
fn no_manifest_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let output = run(unik().current_dir(empty.path()).arg("build"));
    assert_clean_error(&output, "could not find `Cargo.toml`");
    assert_clean_error(&output, "--manifest-path");
}

#[test]
fn a_missing_manifest_path_is_named() {
    let output = run(unik().args(["build", "--manifest-path", "/nonexistent/Cargo.toml"]));
    assert_clean_error(&output, "the manifest `/nonexistent/Cargo.toml` does not exist");
}

#[test]
fn a_library_package_is_not_an_application() {
    let output = run(unik_for_app("library").arg("build"));
    assert_clean_error(&output, "package `library`");
    assert_clean_error(&output, "has no binary target");
}

#[test]
fn a_package_without_unik_is_told_how_to_add_it() {
    let output = run(unik_for_app("no-unik").arg("build"));
    assert_clean_error(&output, "does not depend on the `unik` crate");
    assert_clean_error(&output, "libos/unik");
}

#[test]
fn an_app_without_unik_main_is_told_to_add_it() {
    let output = run(unik_for_app("no-main").args(["build", "--release"]));
    assert_clean_error(&output, "`no-main` has no entry point");
    assert_clean_error(&output, "#[unik::main]");
    assert!(
        !output.stderr.contains("undefined symbol"),
        "the raw linker error is replaced:\n{}",
        output.stderr
    );
}

#[test]
fn an_unknown_target_lists_the_known_ones() {
    let output = run(unik_for_app("unknown-key").args(["build", "--target", "riscv-nope"]));
    assert_clean_error(
        &output,
        "unknown target `riscv-nope`; known targets: kvm-arm64, kvm-x86_64, xen-arm64, xen-x86_64",
    );
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let output = run(unik_for_app("unknown-key").args(["build", "--profile", "turbo"]));
    assert_clean_error(&output, "unknown profile `turbo`; profiles: bench, dev, min, release");
}

#[test]
fn an_unknown_metadata_key_is_only_a_warning() {
    let output = run(unik_for_app("unknown-key").args(["build", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("warning: unused manifest key: package.metadata.unik.memroy"),
        "{}",
        output.stderr
    );
}

#[test]
fn memory_that_cannot_hold_the_image_is_refused() {
    let output = run(unik_for_app("tiny-memory").args(["build", "--release"]));
    assert_clean_error(&output, "3M of memory (package.metadata.unik.memory in");
    assert_clean_error(&output, "cannot hold the image for kvm-x86_64");
    let output = run(unik_for_app("big-stack").args(["run", "--release", "--memory", "4M"]));
    assert_clean_error(&output, "4M of memory (--memory) cannot hold the image");
    // Below what any image needs: refused before building.
    let output = run(unik_for_app("unknown-key").args(["run", "--release", "--memory", "512K", "--dry-run"]));
    assert_clean_error(
        &output,
        "--memory: 512K of memory cannot hold any kvm-x86_64 image, which starts 0x100000 bytes into RAM: give at least 2M",
    );
}

#[test]
fn a_c_function_the_library_os_lacks_is_a_build_error_naming_it_and_its_caller() {
    let output = run(unik_for_app("missing-function").args(["build", "--release"]));
    assert_clean_error(
        &output,
        "`missing-function` calls functions the library OS does not provide for kvm-x86_64",
    );
    assert_clean_error(&output, "  sethostname (called by missing_function::main)");
    assert!(
        !output.stderr.contains(">>> referenced by"),
        "the linker's own lines are shown with -v only:\n{}",
        output.stderr
    );
}

#[test]
fn an_image_that_makes_system_calls_itself_is_refused_naming_the_function() {
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let output = run(unik_for_app("raw-syscall").args(["build", "--release", "--target", target]));
        assert_clean_error(
            &output,
            &format!("the image of `raw-syscall` for {target} makes system calls itself"),
        );
        assert_clean_error(&output, "in: raw_syscall::main");
    }
}

#[test]
fn memory_on_the_command_line_works_for_arm64_images_too() {
    // Below what any image of the target needs: refused before the build.
    for (target, floor) in [("kvm-arm64", "3M"), ("xen-arm64", "1M")] {
        let too_small = run(unik().current_dir(root().join("examples/hello")).args([
            "run",
            "--release",
            "--target",
            target,
            "--memory",
            "4K",
        ]));
        assert_clean_error(
            &too_small,
            &format!("4K of memory cannot hold any {target} image, which starts"),
        );
        assert_clean_error(&too_small, &format!("give at least {floor}"));
    }
    // Above it but below what this image needs (read from the build record: an arm64
    // `Image` is no ELF file to parse).
    let too_small =
        run(unik_for_app("big-stack").args(["run", "--release", "--target", "kvm-arm64", "--memory", "4M"]));
    assert_clean_error(
        &too_small,
        "4M of memory (--memory) cannot hold the image for kvm-arm64",
    );
    let output = run(unik()
        .current_dir(root().join("examples/hello"))
        .args(support::run_args("kvm-arm64", 60))
        .args(["--memory", "8M"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stdout.starts_with("Hello"), "{}", output.stdout);
}

/// Runs `command` with its stdout closed at once, as a consumer that has already gone
/// away would; its status and stderr, which must show no panic.
fn with_closed_stdout(command: &mut std::process::Command) -> (Option<i32>, String) {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code(), stderr)
}

#[test]
fn a_build_with_a_closed_stdout_finishes() {
    // The builder writes nothing to stdout itself (cargo's lines go to stderr).
    let (status, stderr) = with_closed_stdout(unik_for_app("unknown-key").args(["build", "--release"]));
    assert_eq!(status, Some(0), "{stderr}");
}

/// A copy of test app `unknown-key` in a temporary folder, with `settings` as its
/// `[package.metadata.unik]` (in place of its misspelt `memroy` line and its `targets`).
fn app_with_settings(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::copy(data("apps/unknown-key/src/main.rs"), dir.path().join("src/main.rs")).unwrap();
    let manifest = std::fs::read_to_string(data("apps/unknown-key/Cargo.toml"))
        .unwrap()
        .replace(
            "../../../../libos/unik",
            &root().join("libos/unik").display().to_string(),
        )
        .replace("targets = [\"kvm-x86_64\"]", "")
        .replace("memroy = \"16M\"", settings);
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    dir
}

#[test]
fn a_bad_memory_size_names_the_key() {
    let dir = app_with_settings("memory = \"lots\"");
    let output = run(unik().current_dir(dir.path()).arg("build"));
    assert_clean_error(&output, "invalid `package.metadata.unik.memory`");
    assert_clean_error(&output, "`lots` is not a size");
}

/// Packed files that are not there stop the build before anything compiles, naming the
/// key, the path as written and where it was looked for.
#[test]
fn a_missing_packed_folder_is_a_clear_error() {
    let dir = app_with_settings("[package.metadata.unik.files]\n\"/etc/app\" = \"config\"");
    let output = run(unik().current_dir(dir.path()).args(["build", "--release"]));
    assert_clean_error(&output, "invalid `package.metadata.unik.files.\"/etc/app\"`");
    assert_clean_error(&output, "cannot pack `config`");
    assert!(!output.stderr.contains("Compiling"), "{}", output.stderr);
}

/// Settings that used to be accepted and fail later (a triple fault, a raw QEMU error, a
/// 70 s build) are refused by `--dry-run`, before anything is built, saying what to write.
#[test]
fn settings_that_cannot_work_are_refused_before_the_build() {
    for (settings, command, expected) in [
        (
            "stack-size = \"0\"",
            "build",
            "a stack of 0 bytes is too small: give at least 16K",
        ),
        (
            "memory = 16",
            "build",
            "a number without a unit counts bytes: for 16 MiB write \"16M\"",
        ),
        ("memory = \"0\"", "build", "give at least 2M"),
        (
            "memory = \"999999G\"",
            "run",
            "999999G is more memory than kvm-x86_64 images can use: give at most 1G",
        ),
        ("targets = []", "build", "the list is empty: name at least one target"),
        ("cmdline = 'a \"b'", "run", "has an unbalanced double quote"),
        (
            "[package.metadata.unik.net]\naddres = \"10.0.2.15/24\"",
            "build",
            "invalid `package.metadata.unik.net.addres`",
        ),
        (
            "[package.metadata.unik.files]\n\"etc/app\" = \"config\"",
            "build",
            "`etc/app` is not an absolute guest path",
        ),
        (
            "[package.metadata.unik.files]\n\"/tmp/app\" = \"config\"",
            "build",
            "overlaps the RAM file system at `/tmp`",
        ),
        (
            "[package.metadata.unik.tmpfs]\n\"/scratch\" = \"lots\"",
            "build",
            "`lots` is not a size",
        ),
        (
            "targets = [\"xen-x86_64\"]\nvolumes = [\"/data\"]",
            "run",
            "no disk device to attach them as it boots by default (the hypervisor's only guest has no dom0 to serve a disk); run it as a domU instead: `unik run --domu`",
        ),
    ] {
        let dir = app_with_settings(settings);
        let output = run(unik().current_dir(dir.path()).args([command, "--dry-run"]));
        assert_clean_error(&output, expected);
    }
}

/// Bad command-line input: a clear error and status 1 (argument errors included), never
/// a panic, never a silent success.
#[test]
fn bad_arguments_are_clear_errors_with_status_1() {
    let app = || unik_for_app("unknown-key");
    for (command, expected) in [
        (
            app().args(["run", "--timeout", "1e20"]),
            "--timeout 100000000000000000000: give a positive number",
        ),
        (
            app().args(["run", "--memory", "5000G", "--dry-run"]),
            "--memory: 5000G is more memory",
        ),
        (
            app().args(["run", "-p", "[::1]:8080:80", "--dry-run"]),
            "IPv6 host addresses are not supported",
        ),
        (
            app().args(["run", "--no-such-flag"]),
            "unexpected argument '--no-such-flag'",
        ),
        (
            app().args(["size-report", "--baseline", "x.json", "--max-growth", "NaN"]),
            "--max-growth NaN: give a number of percent",
        ),
        (
            app().args(["size-report", "--image", "/bin/true"]),
            "has no build record beside it",
        ),
        (
            app().args(["size-report", "--image", "x", "--target", "kvm-arm64"]),
            "cannot be used with",
        ),
        (app().args(["why", ""]), "give a component"),
        (
            app()
                .args(["run", "--target", "xen-x86_64", "--dry-run", "--"])
                .arg("x".repeat(100_000)),
            "the command line is 100000 bytes, and Xen 4.17 passes at most 1023 bytes to a xen-x86_64 guest",
        ),
        (
            app()
                .args(["run", "--target", "xen-arm64", "--dry-run", "--"])
                .arg("x".repeat(1024)),
            "passes at most 1023 bytes",
        ),
        (
            unik().args(["build", "--manifest-path", "/tmp"]),
            "--manifest-path `/tmp` is a folder",
        ),
    ] {
        let output = run(command);
        assert_eq!(output.status, 1, "{command:?}:\n{}", output.stderr);
        assert_clean_error(&output, expected);
    }
}

#[test]
fn why_a_name_nothing_matches_fails() {
    let output = run(unik_for_app("unknown-key").args(["why", "no_such_thing_anywhere"]));
    assert_clean_error(
        &output,
        "`no_such_thing_anywhere` is not a component (`unik components` lists them) and no symbol of the image",
    );
}

/// The size report of an image copied elsewhere reads the files beside the copy; without
/// the `.elf` it says so instead of reporting the image as padding; `--budget` names what
/// takes room in the file (not the stack, which takes none).
#[test]
fn size_reports_read_the_files_beside_the_image() {
    let message = build_message(&mut unik_for_app("unknown-key"), &["--release"]);
    let image = std::path::PathBuf::from(message["image"].as_str().unwrap());
    let copy = tempfile::tempdir().unwrap();
    let copied = copy.path().join("app");
    std::fs::copy(&image, &copied).unwrap();
    std::fs::copy(image.with_extension("json"), copy.path().join("app.json")).unwrap();
    let output = run(unik().args(["size-report", "--image"]).arg(&copied));
    assert_clean_error(&output, "app.elf` is not beside");
    std::fs::copy(image.with_extension("elf"), copy.path().join("app.elf")).unwrap();
    let output = run(unik().args(["size-report", "--format", "json", "--image"]).arg(&copied));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["image"].as_str(), Some(copied.to_str().unwrap()));
    let output = run(unik().args(["size-report", "--budget", "100", "--image"]).arg(&copied));
    assert_clean_error(
        &output,
        "over the --budget of 100 bytes; the crates with the most bytes in it:",
    );
    assert!(!output.stderr.contains("[.stack]"), "{}", output.stderr);
}

#[test]
fn json_messages_describe_each_image() {
    let message = build_message(&mut unik_for_app("unknown-key"), &["--release"]);
    assert_eq!(message["reason"], "image-built");
    assert_eq!(message["target"], "kvm-x86_64");
    let image = std::path::PathBuf::from(message["image"].as_str().unwrap());
    assert!(image.is_absolute());
    assert_eq!(
        message["bytes"].as_u64().unwrap(),
        std::fs::metadata(&image).unwrap().len()
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(message["record"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(record["bytes"], message["bytes"]);
}

/// A failed build still ends its JSON stream with `build-finished`, the error in it.
#[test]
fn a_failed_json_build_says_so_in_json() {
    let dir = app_with_settings("memory = \"lots\"");
    let output = run(unik()
        .current_dir(dir.path())
        .args(["build", "--message-format", "json"]));
    assert_clean_error(&output, "`lots` is not a size");
    let finished: serde_json::Value = serde_json::from_str(output.stdout.trim()).unwrap();
    assert_eq!(finished["reason"], "build-finished");
    assert_eq!(finished["success"], false);
    assert!(
        finished["error"].as_str().unwrap().contains("`lots` is not a size"),
        "{finished}"
    );
}

#[test]
fn targets_lists_kvm_x86_64_and_what_it_needs() {
    let output = run(unik().arg("targets"));
    assert_eq!(output.status, 0);
    assert!(output.stdout.contains("kvm-x86_64\n"), "{}", output.stdout);
    assert!(output.stdout.contains("x86_64-unknown-none"), "{}", output.stdout);
    assert!(
        output.stdout.contains("qemu-system-x86_64 -M microvm,acpi=off"),
        "{}",
        output.stdout
    );
}

#[test]
fn new_writes_an_application_that_boots() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(unik().current_dir(dir.path()).args(["new", "fresh-app"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let app = dir.path().join("fresh-app");
    let output = run(unik()
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", root().join("target/test-apps"))
        .args(["-q", "run", "--release", "--timeout", "60", "--accel", &accel()]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert_eq!(
        output.stdout,
        "Hello from fresh-app!\nargument 0: from\nargument 1: the\nargument 2: manifest\n"
    );
}

#[test]
fn new_std_writes_a_std_program_that_boots() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(unik().current_dir(dir.path()).args(["new", "--std", "fresh-std"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let app = dir.path().join("fresh-std");
    assert!(
        !std::fs::read_to_string(app.join("src/main.rs"))
            .unwrap()
            .contains("no_std")
    );
    let output = run(unik()
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", root().join("target/test-apps"))
        .args(["-v", "run", "--release", "--timeout", "60", "--accel", &accel()]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stderr.contains("is a std application"), "{}", output.stderr);
    assert_eq!(
        output.stdout,
        "Hello from fresh-std!\nargument 0: from\nargument 1: the\nargument 2: manifest\n"
    );
    // Said once: a rebuild with nothing new to say does not repeat the note.
    let again = run(unik()
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", root().join("target/test-apps"))
        .args(["build", "--release"]));
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("is a std application"), "{}", again.stderr);
}

#[test]
fn new_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("taken");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("notes.txt"), "mine").unwrap();
    let output = run(unik().current_dir(dir.path()).args(["new", "taken"]));
    assert_clean_error(&output, "`taken` already exists; unik new never overwrites anything");
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(existing.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn new_rejects_a_bad_package_name() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(unik().current_dir(dir.path()).args(["new", "1st app"]));
    assert_clean_error(&output, "is not a valid package name");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A library-OS crate's name: the application could not depend on `unik`.
    for name in ["unik", "unik-net", "unik_task"] {
        let output = run(unik().current_dir(dir.path()).args(["new", name]));
        assert_clean_error(&output, "is the name of a library-OS crate");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn verbose_mode_echoes_every_subprocess() {
    let output = run(unik_for_app("unknown-key").args(["-v", "build", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    for expected in [
        "$ cargo metadata",
        "$ rustc --print target-libdir",
        "CARGO_ENCODED_RUSTFLAGS=",
        "cargo rustc",
    ] {
        assert!(
            output.stderr.contains(expected),
            "no {expected:?} in:\n{}",
            output.stderr
        );
    }
}

/// Builds `examples/<example>` (or test app `apps/<name>`) for `target` and returns its
/// `.xl` with the image path replaced by `[IMAGE]`.
fn generated_xl(example: &str, target: &str) -> String {
    let mut command = match example.strip_prefix("apps/") {
        Some(app) => unik_for_app(app),
        None => {
            let mut command = unik();
            command.current_dir(root().join("examples").join(example));
            command
        }
    };
    let message = build_message(&mut command, &["--release", "--target", target]);
    let image = message["image"].as_str().unwrap();
    let xl = std::fs::read_to_string(std::path::Path::new(image).with_extension("xl")).unwrap();
    xl.replace(image, "[IMAGE]")
}

#[test]
fn xl_configurations_match_the_golden_files() {
    for (example, target, golden) in [
        ("hello", "xen-x86_64", "hello.xl"),
        ("args", "xen-x86_64", "args.xl"),
        ("hello", "xen-arm64", "hello-arm64.xl"),
        // Images with the net component get a vif: on xenbr0, or the manifest's bridge.
        ("http", "xen-x86_64", "http.xl"),
        ("http", "xen-arm64", "http-arm64.xl"),
        ("apps/static-address", "xen-x86_64", "static-address.xl"),
    ] {
        let expected = std::fs::read_to_string(data(&format!("golden/{golden}"))).unwrap();
        assert_eq!(generated_xl(example, target), expected, "{golden}");
    }
}

#[test]
fn kvm_targets_get_no_xl_file() {
    let message = build_message(unik().current_dir(root().join("examples/hello")), &["--release"]);
    assert!(
        !std::path::Path::new(message["image"].as_str().unwrap())
            .with_extension("xl")
            .exists()
    );
}

#[test]
fn the_component_catalog_listing_matches_the_golden_files() {
    for (args, golden) in [
        (vec!["components"], "golden/components.txt"),
        (
            vec!["components", "--target", "kvm-x86_64"],
            "golden/components-kvm-x86_64.txt",
        ),
    ] {
        let output = run(unik().args(&args));
        assert_eq!(output.status, 0, "{}", output.stderr);
        assert_eq!(
            output.stdout,
            std::fs::read_to_string(data(golden)).unwrap(),
            "{args:?}"
        );
    }
    let output = run(unik().args(["components", "--target", "nope"]));
    assert_clean_error(&output, "unknown target `nope`");
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    // The read end closes long before the child (still starting up) writes.
    let (status, stderr) = with_closed_stdout(unik().arg("components"));
    assert_eq!(status, Some(141), "ended as SIGPIPE would; stderr: {stderr}");
}

#[test]
fn a_dev_build_never_replaces_the_release_image() {
    let build = |profile: &[&str]| {
        let message = build_message(&mut unik_for_app("unknown-key"), profile);
        std::path::PathBuf::from(message["image"].as_str().unwrap())
    };
    let release = build(&["--release"]);
    let before = std::fs::read(&release).unwrap();
    let dev = build(&[]);
    assert_ne!(dev, release);
    assert!(
        dev.starts_with(release.parent().unwrap().join("dev")),
        "{}",
        dev.display()
    );
    assert_eq!(
        std::fs::read(&release).unwrap(),
        before,
        "the release image is untouched"
    );
}
