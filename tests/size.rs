//! `unik size-report`: golden reports, exact sums, the CI gate, bad input, and a fuzz of
//! the image reader and attribution over mutated images.

mod support;

use support::{TARGETS, assert_clean_error, data, root, run, unik};

fn size_report(example: &str, args: &[&str]) -> support::Output {
    run(unik()
        .current_dir(root().join("examples").join(example))
        .args(["-q", "size-report", "--release"])
        .args(args))
}

fn redacted(json: &str) -> String {
    json.replace(&root().join("examples/target").display().to_string(), "[TARGET]")
}

/// Compares `actual` with the golden file `name`; with `UNIK_UPDATE_GOLDEN=1` (after a
/// toolchain update changes the bytes) rewrites it instead.
fn check_golden(name: &str, actual: &str) {
    let path = data(&format!("golden/size/{name}"));
    if std::env::var_os("UNIK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    assert_eq!(
        actual,
        std::fs::read_to_string(&path).unwrap(),
        "{name} (UNIK_UPDATE_GOLDEN=1 rewrites it)"
    );
}

/// Whether `actual` is `golden` up to byte counts that moved a little: every word but the
/// numbers must be the same, integers within 2% (at least 128 bytes), decimals (percent)
/// within 0.2.
///
/// For images whose code depends on where the checkout is: cargo's symbol hashes of path
/// dependencies include their absolute path, and LLVM's inlining follows symbol order, so
/// `alloc` built in another folder differs by a few dozen bytes of code (seen: 32 in all,
/// 69 moving between the `alloc` and `core` rows).
fn matches_golden_nearly(actual: &str, golden: &str) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| c.is_whitespace() || ",:%\"{}[]".contains(c))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (actual, golden) = (words(actual), words(golden));
    actual.len() == golden.len()
        && actual.iter().zip(&golden).all(|(a, g)| {
            match (a.parse::<u64>(), g.parse::<u64>(), a.parse::<f64>(), g.parse::<f64>()) {
                (Ok(a), Ok(g), _, _) => a.abs_diff(g) <= (a.max(g) / 50).max(128),
                (_, _, Ok(a), Ok(g)) => (a - g).abs() <= 0.2,
                _ => a == g,
            }
        })
}

#[test]
fn reports_match_the_golden_files() {
    for example in ["hello", "alloc"] {
        let table = size_report(example, &[]);
        assert_eq!(table.status, 0, "{}", table.stderr);
        let json = size_report(example, &["--format", "json"]);
        assert_eq!(json.status, 0, "{}", json.stderr);
        let json = redacted(&json.stdout);
        if example == "alloc" && std::env::var_os("UNIK_UPDATE_GOLDEN").is_none() {
            for (name, actual) in [("alloc.txt", &table.stdout), ("alloc.json", &json)] {
                let golden = std::fs::read_to_string(data(&format!("golden/size/{name}"))).unwrap();
                assert!(
                    matches_golden_nearly(actual, &golden),
                    "{name} (UNIK_UPDATE_GOLDEN=1 rewrites it):\n{actual}\ngolden:\n{golden}"
                );
            }
        } else {
            check_golden(&format!("{example}.txt"), &table.stdout);
            check_golden(&format!("{example}.json"), &json);
        }
        assert!(
            table.stdout.lines().all(|line| line.chars().count() <= 100),
            "the table fits 100 columns"
        );
    }
}

#[test]
fn near_golden_comparison_tolerates_only_small_byte_counts() {
    let golden = "alloc 26888 bytes: text 20378, 45.1%\n";
    assert!(matches_golden_nearly("alloc 26920 bytes: text 20410, 45.0%\n", golden));
    assert!(!matches_golden_nearly("alloc 28000 bytes: text 20410, 45.0%\n", golden));
    assert!(!matches_golden_nearly("alloc 26888 bytes: text 20378, 47.0%\n", golden));
    assert!(!matches_golden_nearly("alloc 26888 bytes: data 20378, 45.1%\n", golden));
    assert!(!matches_golden_nearly("alloc 26888 bytes: text 20378\n", golden));
}

#[test]
fn rows_sum_to_the_totals_at_every_level_for_every_example_and_target() {
    let examples = ["hello", "alloc", "clock", "panic", "args"];
    for example in examples {
        for target in TARGETS {
            for by in ["section", "symbol", "crate", "component"] {
                let output = size_report(example, &["--target", target, "--by", by, "--format", "json"]);
                assert_eq!(output.status, 0, "{}", output.stderr);
                let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
                let rows: u64 = report["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["bytes"].as_u64().unwrap())
                    .sum();
                let loaded = &report["loaded"];
                let kinds: u64 = ["text", "rodata", "data", "bss"]
                    .iter()
                    .map(|k| loaded[k].as_u64().unwrap())
                    .sum();
                let total = report["loaded_bytes"].as_u64().unwrap();
                let file = &report["file"];
                let file_parts: u64 = ["headers", "text", "rodata", "data", "other"]
                    .iter()
                    .map(|k| file[k].as_u64().unwrap())
                    .sum();
                assert_eq!(
                    file_parts,
                    report["file_bytes"].as_u64().unwrap(),
                    "{example} on {target}: file bytes"
                );
                assert_eq!((rows, kinds), (total, total), "{example} on {target} by {by}");
            }
        }
    }
}

fn baseline_with(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::NamedTempFile {
    let output = size_report("hello", &["--format", "json"]);
    let mut value: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    edit(&mut value);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string(&value).unwrap()).unwrap();
    file
}

#[test]
fn the_gate_passes_an_unchanged_image() {
    let baseline = baseline_with(|_| {});
    let output = size_report(
        "hello",
        &["--baseline", baseline.path().to_str().unwrap(), "--max-growth", "0"],
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stderr.contains("(+0.0%)"), "{}", output.stderr);
}

#[test]
fn the_gate_fails_on_growth_and_names_the_largest_contributors() {
    let baseline = baseline_with(|report| {
        report["file_bytes"] = serde_json::json!(2000);
        let rows = report["rows"].as_array_mut().unwrap();
        let row = rows.iter_mut().find(|r| r["name"] == "unik_platform_api").unwrap();
        row["bytes"] = serde_json::json!(10);
    });
    let output = size_report(
        "hello",
        &["--baseline", baseline.path().to_str().unwrap(), "--max-growth", "5"],
    );
    assert_eq!(output.status, 1, "{}", output.stderr);
    assert!(output.stderr.contains("more than --max-growth 5%"), "{}", output.stderr);
    assert!(
        output.stderr.contains("unik_platform_api"),
        "the message names the growth:\n{}",
        output.stderr
    );
}

#[test]
fn a_budget_fails_an_image_over_it() {
    let over = size_report("hello", &["--budget", "100"]);
    assert_eq!(over.status, 1, "{}", over.stderr);
    assert!(
        over.stderr
            .contains("over the --budget of 100 bytes; the crates with the most bytes in it: ")
            && !over.stderr.contains("[.stack]"),
        "{}",
        over.stderr
    );
    assert_eq!(size_report("hello", &["--budget", "1000000"]).status, 0);
}

#[test]
fn a_dev_image_is_reported_for_its_own_target_with_its_components() {
    // The record beside the image names its target: not the profile folder's name.
    let hello = root().join("examples/hello");
    let built = run(unik()
        .current_dir(&hello)
        .args(["-q", "build", "--target", "kvm-arm64"]));
    assert_eq!(built.status, 0, "{}", built.stderr);
    let image = root().join("examples/target/unik/kvm-arm64/dev/hello");
    let output = run(unik().args(["size-report", "--format", "json", "--image", image.to_str().unwrap()]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["target"], "kvm-arm64");
    assert_eq!(report["package"], "hello");
    assert!(
        report["components"].as_array().unwrap().iter().any(|c| c == "console"),
        "{report}"
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image\n").unwrap();
    let output = run(unik().args(["size-report", "--image", text.to_str().unwrap()]));
    assert_clean_error(&output, "has no build record beside it");
    let host_program = run(unik().args(["size-report", "--image", "/bin/true"]));
    assert_clean_error(&host_program, "has no build record beside it");

    // A build record beside a file that is not the image it describes.
    size_report("hello", &[]);
    let built = root().join("examples/target/unik/kvm-x86_64/hello");
    let record = std::fs::read_to_string(format!("{}.json", built.display())).unwrap();
    let mut record: serde_json::Value = serde_json::from_str(&record).unwrap();
    record["image"] = serde_json::json!(text);
    std::fs::write(dir.path().join("notes.txt.json"), record.to_string()).unwrap();
    let output = run(unik().args(["size-report", "--image", text.to_str().unwrap()]));
    assert_clean_error(&output, "is not an image");
    assert_clean_error(&output, "not an ELF image");

    let elf = std::fs::read(root().join("examples/target/unik/kvm-x86_64/hello.elf")).unwrap();
    let truncated = dir.path().join("truncated");
    std::fs::write(&truncated, &elf[..200]).unwrap();
    record["image"] = serde_json::json!(truncated);
    record["elf"] = serde_json::json!(truncated);
    std::fs::write(dir.path().join("truncated.json"), record.to_string()).unwrap();
    let output = run(unik().args(["size-report", "--image", truncated.to_str().unwrap()]));
    assert_clean_error(&output, "corrupt or truncated ELF image");

    let output = size_report("hello", &["--max-growth", "NaN", "--baseline", "/dev/null"]);
    assert_clean_error(&output, "--max-growth NaN: give a number of percent");

    let other_schema = baseline_with(|report| report["schema"] = serde_json::json!(99));
    let output = size_report("hello", &["--baseline", other_schema.path().to_str().unwrap()]);
    assert_clean_error(&output, "has schema 99, but this unik reads schema 1");

    let other_target = baseline_with(|report| report["target"] = serde_json::json!("xen-x86_64"));
    let output = size_report("hello", &["--baseline", other_target.path().to_str().unwrap()]);
    assert_clean_error(&output, "is for target `xen-x86_64`, this report for `kvm-x86_64`");
}

/// A fixed-seed xorshift generator: the fuzz is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_images_never_panic_the_reader_or_the_attribution() {
    size_report("hello", &[]);
    let elf = std::fs::read(root().join("examples/target/unik/kvm-x86_64/hello.elf")).unwrap();
    let mut random = Random(0x5eed_1234_abcd_0042);
    for _ in 0..3000 {
        let mut mutated = elf.clone();
        for _ in 0..(1 + random.next() % 8) {
            // Mostly the headers, where structure lives.
            let at = if random.next().is_multiple_of(4) {
                random.next() as usize % mutated.len()
            } else {
                random.next() as usize % 512
            };
            mutated[at] = random.next() as u8;
        }
        if random.next().is_multiple_of(8) {
            mutated.truncate(random.next() as usize % mutated.len());
        }
        let _ = unik_linker::Image::parse(&mutated);
        let _ = unik_linker::image::compact(&mutated);
        let _ = unik_linker::size::Attribution::of(&mutated);
    }
}
