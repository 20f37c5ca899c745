//! Specialisation: an image holds exactly the components the application reaches, checked
//! by the image's own symbols; `unik why` explains; the VM configuration follows.

mod support;

use support::{TARGETS, assert_clean_error, build_message, data, image_symbols, root, run, unik, unik_for_app};
use unik_catalog::Catalog;

fn catalog() -> Catalog {
    Catalog::shipped().unwrap()
}

/// Builds for `target` with `command`; returns the JSON message and the ELF's symbols.
fn build_json(command: &mut std::process::Command, target: &str) -> (serde_json::Value, Vec<String>) {
    let message = build_message(command, &["--release", "--target", target]);
    let symbols = image_symbols(&message);
    (message, symbols)
}

/// Whether any symbol belongs to component `name`: its catalog patterns, or paths in the
/// crates only it is made of (a crate two components share identifies neither); generic
/// arguments do not count (see `without_generic_arguments`).
fn holds(symbols: &[String], name: &str) -> bool {
    let catalog = catalog();
    let component = catalog.get(name).unwrap();
    let shared = |krate: &String| catalog.components.iter().filter(|c| c.crates.contains(krate)).count() > 1;
    let paths: Vec<String> = component
        .crates
        .iter()
        .filter(|c| !shared(c))
        .map(|c| format!("{}::", c.replace('-', "_")))
        .collect();
    symbols.iter().any(|s| {
        let path = unik_catalog::analysis::without_generic_arguments(s);
        unik_catalog::analysis::identifies(component, s) || paths.iter().any(|p| path.contains(p.as_str()))
    })
}

fn names(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn declaring_every_component_but_only_printing_carries_none_of_them() {
    for target in TARGETS {
        let (message, symbols) = build_json(&mut unik_for_app("declares-all"), target);
        for component in ["time", "args", "alloc", "xen-events"] {
            assert!(
                !holds(&symbols, component),
                "{target}: the image holds {component}: {symbols:?}"
            );
        }
        assert_eq!(
            names(&message["components"])
                .iter()
                .filter(|c| ["time", "args", "alloc"].contains(&c.as_str()))
                .count(),
            0
        );
        // Within a few bytes of plain hello.
        let (hello, _) = build_json(unik().current_dir(root().join("examples/hello")), target);
        let (ours, theirs) = (message["bytes"].as_i64().unwrap(), hello["bytes"].as_i64().unwrap());
        assert!((ours - theirs).abs() <= 16, "{target}: {ours} bytes, hello {theirs}");
    }
}

#[test]
fn sleeping_brings_time_and_not_alloc_and_allocating_brings_alloc() {
    for target in TARGETS {
        let (clock, symbols) = build_json(unik().current_dir(root().join("examples/clock")), target);
        assert!(holds(&symbols, "time") && !holds(&symbols, "alloc"), "{target}");
        assert!(names(&clock["components"]).contains(&"time".to_string()));
        assert!(names(&clock["stripped"]).contains(&"alloc".to_string()));
        let (alloc, symbols) = build_json(unik().current_dir(root().join("examples/alloc")), target);
        assert!(holds(&symbols, "alloc") && !holds(&symbols, "time"), "{target}");
        assert!(names(&alloc["components"]).contains(&"alloc".to_string()));
    }
}

/// What examples/http leaves out on both Xen targets: it opens no file and has no volume.
const XEN_HTTP_STRIPPED: [&str; 11] = [
    "args", "blkfront", "dns", "entropy", "events", "ext2", "files", "math", "std", "thread", "time",
];

#[test]
fn networking_is_only_in_images_that_use_it() {
    for target in TARGETS {
        let (_, symbols) = build_json(unik().current_dir(root().join("examples/hello")), target);
        for component in ["net", "virtio-net", "netfront", "grant-table", "task"] {
            assert!(!holds(&symbols, component), "{target}: hello holds {component}");
        }
    }
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let (http, symbols) = build_json(unik().current_dir(root().join("examples/http")), target);
        for component in ["net", "virtio-net", "task", "alloc"] {
            assert!(holds(&symbols, component), "{target}: http lacks {component}");
        }
        for component in ["netfront", "grant-table"] {
            assert!(!holds(&symbols, component), "{target}: http holds {component}");
        }
        assert_eq!(
            names(&http["stripped"]),
            [
                "args",
                "dns",
                "entropy",
                "events",
                "ext2",
                "files",
                "math",
                "std",
                "thread",
                "time",
                "virtio-blk"
            ],
            "{target}"
        );
    }
    // On Xen the same application gets netfront (and what it needs) instead of virtio-net.
    let (http, symbols) = build_json(unik().current_dir(root().join("examples/http")), "xen-x86_64");
    for component in [
        "net",
        "netfront",
        "grant-table",
        "xenstore",
        "xen-events",
        "task",
        "alloc",
    ] {
        assert!(holds(&symbols, component), "xen-x86_64: http lacks {component}");
    }
    assert!(!holds(&symbols, "virtio-net"), "xen-x86_64: http holds virtio-net");
    assert_eq!(names(&http["stripped"]), XEN_HTTP_STRIPPED, "xen-x86_64");
    let why = run(unik()
        .current_dir(root().join("examples/http"))
        .args(["-q", "why", "virtio-net", "--release"]));
    assert!(why.stdout.starts_with("virtio-net: pvh_start32 → "), "{}", why.stdout);
    assert!(
        why.stdout.contains("unik_net::start → unik_driver_virtio_net::"),
        "{}",
        why.stdout
    );
    assert!(
        !why.stdout.contains("note:"),
        "data at the chain's end is no table: {}",
        why.stdout
    );
    // xen-arm64: the same netfront code, and the same components.
    let (http, symbols) = build_json(unik().current_dir(root().join("examples/http")), "xen-arm64");
    for component in ["net", "netfront", "grant-table", "xenstore", "xen-events"] {
        assert!(holds(&symbols, component), "xen-arm64: http lacks {component}");
    }
    assert!(!holds(&symbols, "virtio-net"), "xen-arm64: http holds virtio-net");
    assert_eq!(names(&http["stripped"]), XEN_HTTP_STRIPPED, "xen-arm64");
    // Booted dom0less, it would have no vif (no dom0, no netback): a clear refusal.
    let output = run(unik().current_dir(root().join("examples/http")).args([
        "run",
        "--release",
        "--target",
        "xen-arm64",
        "--dry-run",
    ]));
    assert_clean_error(&output, "run it as a domU with a vif instead: `unik run --domu`");
}

#[test]
fn why_time_matches_the_golden_file() {
    let output = run(unik()
        .current_dir(root().join("examples/clock"))
        .args(["-q", "why", "time", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert_eq!(
        output.stdout,
        std::fs::read_to_string(data("golden/why-time-clock.txt")).unwrap()
    );
    let output = run(unik()
        .current_dir(root().join("examples/clock"))
        .args(["-q", "why", "alloc", "--release"]));
    assert_eq!(output.stdout, "alloc: not in the image; nothing reaches it\n");
}

#[test]
fn the_build_prints_its_components() {
    let output = run(unik()
        .current_dir(root().join("examples/hello"))
        .args(["build", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(
        output.stderr.contains(
            "Specialised components: console, serial-16550 (2 of 17; stripped: alloc, args, dns, entropy, events, ext2, files, math, net, std, task, thread, time, virtio-blk, virtio-net)"
        ),
        "{}",
        output.stderr
    );
}

#[test]
fn a_printing_app_gets_no_device_beyond_the_console() {
    let output =
        run(unik_for_app("declares-all").args(["-v", "run", "--release", "--timeout", "60", "--accel", "tcg"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    let qemu = output
        .stderr
        .lines()
        .find(|l| l.starts_with("$ ") && l.contains("qemu-system-x86_64 "))
        .unwrap();
    let devices: Vec<&str> = qemu
        .split(" -device ")
        .skip(1)
        .map(|d| d.split(' ').next().unwrap())
        .collect();
    assert_eq!(devices, ["isa-debug-exit,iobase=0xf4,iosize=0x04"], "{qemu}");
    for absent in ["-netdev", "-drive", "-nic", "virtio"] {
        assert!(!qemu.contains(absent), "{qemu}");
    }
    let (message, _) = build_json(&mut unik_for_app("declares-all"), "xen-x86_64");
    let xl =
        std::fs::read_to_string(std::path::Path::new(message["image"].as_str().unwrap()).with_extension("xl")).unwrap();
    for absent in ["vif", "disk", "pci", "usb"] {
        assert!(!xl.contains(absent), "{xl}");
    }
}

#[test]
fn a_component_the_target_cannot_provide_is_refused_with_its_chain() {
    let output = run(unik_for_app("serial-on-xen").args(["build", "--release", "--target", "xen-x86_64"]));
    assert_clean_error(
        &output,
        "the image for xen-x86_64 holds component `serial-16550`, which xen-x86_64 does not provide",
    );
    assert_clean_error(&output, "reached through: pvh_start32 →");
    assert_clean_error(&output, "unik_driver_uart16550::Uart16550<R>::write");
    let kvm = run(unik_for_app("serial-on-xen").args(["-q", "build", "--release", "--target", "kvm-x86_64"]));
    assert_eq!(kvm.status, 0, "{}", kvm.stderr);
}

#[test]
fn why_points_out_a_component_kept_by_dynamic_dispatch() {
    let output = run(unik_for_app("dispatch").args(["-q", "why", "time", "--release"]));
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert!(output.stdout.starts_with("time: pvh_start32 → "), "{}", output.stdout);
    assert!(
        output.stdout.contains("dispatch::ACTIONS → [.rodata+")
            && output
                .stdout
                .contains("<dispatch::Nap as dispatch::Action>::run → unik_time::sleep"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("note: reached through dispatch::ACTIONS in .rodata, a table of pointers"),
        "{}",
        output.stdout
    );
}

/// std programs: each C function belongs to a component, so a std hello world holds
/// std's runtime, the heap, the console, entropy (HashMap's keys) and time, but no
/// scheduler and no network; threads bring the scheduler, std::net the network, std::fs
/// the files. (Every std program holds the files component: std's start-up opens
/// `/dev/null` for a standard descriptor it finds closed, which the optimiser cannot rule
/// out; `unik why files` shows that chain.)
#[test]
fn std_programs_hold_only_the_components_std_reaches() {
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (
            "std-hello",
            &["std", "alloc", "console", "entropy", "time", "args"],
            &["thread", "net", "task", "events", "math"],
        ),
        ("std-threads", &["std", "thread"], &["net", "task", "events"]),
        ("std-http", &["std", "thread", "net", "task", "virtio-net"], &["events"]),
        (
            "tokio-echo",
            &["std", "thread", "net", "task", "events", "virtio-net"],
            &[],
        ),
    ];
    // `look-alike`: functions identical to some in smoltcp, which LLVM would merge under
    // smoltcp's names if the build let it.
    let look_alike: (&str, &[&str], &[&str]) = ("look-alike", &["std", "console"], &["net", "thread", "task"]);
    // Packed files and RAM file systems need no disk; volumes bring ext2 and the driver.
    let files: (&str, &[&str], &[&str]) = (
        "std-files",
        &["std", "files"],
        &["net", "thread", "task", "events", "ext2", "virtio-blk"],
    );
    let volume: (&str, &[&str], &[&str]) = (
        "std-volume",
        &["std", "files", "ext2", "virtio-blk"],
        &["net", "virtio-net"],
    );
    for (example, present, absent) in cases.into_iter().chain([look_alike, files, volume]) {
        let mut command = if matches!(example, "look-alike" | "std-files" | "std-volume") {
            unik_for_app(example)
        } else {
            let mut command = unik();
            command.current_dir(root().join("examples").join(example));
            command
        };
        let (message, symbols) = build_json(&mut command, "kvm-x86_64");
        let components = names(&message["components"]);
        for component in present {
            assert!(
                components.iter().any(|c| c == component),
                "{example} lacks {component}: {components:?}"
            );
            assert!(holds(&symbols, component), "{example}: no symbol of {component}");
        }
        for component in absent {
            assert!(
                !components.iter().any(|c| c == component),
                "{example} holds {component}: {components:?}"
            );
            assert!(!holds(&symbols, component), "{example}: a symbol of {component}");
        }
    }
    // On Xen a volume's disk is a vbd: blkfront over xenstore and the grant table; packed
    // files alone bring no disk driver there either.
    for (app, present, absent) in [
        (
            "std-volume",
            &["files", "ext2", "blkfront", "xenstore", "grant-table"][..],
            &["virtio-blk", "netfront", "net"][..],
        ),
        (
            "std-files",
            &["files"][..],
            &["ext2", "blkfront", "xenstore", "grant-table"][..],
        ),
    ] {
        let (message, symbols) = build_json(&mut unik_for_app(app), "xen-x86_64");
        let components = names(&message["components"]);
        for component in present {
            assert!(
                holds(&symbols, component),
                "xen-x86_64: {app} lacks {component}: {components:?}"
            );
        }
        for component in absent {
            assert!(
                !components.iter().any(|c| c == component) && !holds(&symbols, component),
                "xen-x86_64: {app} holds {component}: {components:?}"
            );
        }
    }
}
