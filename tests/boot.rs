//! Boots the examples and test applications under QEMU, directly (kvm-x86_64) and on
//! real Xen inside QEMU (xen-x86_64), with the real `unik` CLI, and checks console output
//! and exit status against `tests/data/boot/`: the same expectations on every target.

mod support;

use serde::Deserialize;
use support::{
    Output, TARGETS, accel, boot_example, build_message, data, image_symbols, run, run_args, unik, unik_for_app,
};

/// A boot case: which example, its arguments, and what it must print and return.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    example: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
}

fn load(case: &str) -> Case {
    let text = std::fs::read_to_string(data(&format!("boot/{case}.toml"))).unwrap();
    toml::from_str(&text).unwrap()
}

/// Boots the case's example on every target and checks status and (if given) output.
fn boot(case: &str) -> Vec<(String, Output)> {
    let spec = load(case);
    let example = spec.example.clone().unwrap_or_else(|| case.to_string());
    let args: Vec<&str> = spec.args.iter().map(String::as_str).collect();
    let mut outputs = Vec::new();
    for target in TARGETS {
        let output = boot_example(&example, target, &args);
        let context = format!(
            "{case} on {target}\nstdout:\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        );
        assert_eq!(output.status, spec.status, "status of {context}");
        if let Some(expected) = &spec.stdout {
            assert_eq!(&output.stdout, expected, "console of {context}");
        }
        outputs.push((target.to_string(), output));
    }
    outputs
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

/// An ordinary `fn main()` program with std: println!, env::args, HashMap (seeded from
/// the entropy source), float formatting, Instant and thread::sleep.
#[test]
fn std_hello_runs_on_every_target() {
    boot("std-hello");
}

/// std threads on the scheduler: 4 x 100,000 Mutex increments, a Condvar handshake,
/// thread::scope and thread-locals, on both architectures' context switches.
#[test]
fn std_threads_count_exactly_and_hand_over() {
    boot("std-threads");
}

/// `SystemTime::now()` is the host's time on every target: the RTC (kvm-x86_64's CMOS
/// clock, kvm-arm64's PL031), Xen's wall clock (xen-x86_64), or the host's time on the
/// command line (xen-arm64, whose dom0less domU has no clock).
#[test]
fn the_wall_clock_is_the_hosts_time_on_every_target() {
    for target in TARGETS {
        let before = unix_seconds();
        let output = run(unik_for_app("wall-clock").args(run_args(target, 60)));
        let after = unix_seconds();
        assert_eq!(output.status, 0, "{target}: {}", output.stderr);
        assert_guest_time_within(target, &output.stdout, before..=after);
    }
}

/// The host's Unix time, in seconds.
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Checks the `unix time: N` the wall-clock app printed against the host's time before
/// and after the run: the build and the boot happen in between, and an RTC or Xen's wall
/// clock for a new domain counts whole seconds.
fn assert_guest_time_within(target: &str, stdout: &str, host: std::ops::RangeInclusive<u64>) {
    let guest: u64 = stdout
        .trim()
        .strip_prefix("unix time: ")
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("{target}: {stdout}"));
    let (before, after) = host.into_inner();
    assert!(
        (before.saturating_sub(2)..=after + 2).contains(&guest),
        "{target}: the guest said {guest}, the host's time was {before}..{after}"
    );
}

/// The C functions the library OS provides behave as the host's C library (glibc) does,
/// errno values included: `tests/data/apps/libc-edges` prints its edge cases on the host,
/// the reference, and in the unikernel, and the outputs must be the same.
#[test]
fn c_functions_behave_as_on_the_hosts_linux() {
    let reference = on_the_host("libc-edges", &[("UNIK_EDGE", "yes".as_ref())]);
    assert!(
        reference.stdout.contains("futex(WAIT, value differs): -1 EAGAIN"),
        "{}",
        reference.stdout
    );
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let output = run(unik_for_app("libc-edges")
            .args(run_args(target, 60))
            .args(["--", "unik.env.UNIK_EDGE=yes"]));
        assert_eq!(output.status, 0, "{target}: {}", output.stderr);
        assert_same_lines(target, &reference.stdout, &output.stdout);
    }
}

/// Runs test application `app` on the host (the reference), built with the host's std.
fn on_the_host(app: &str, env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut host = std::process::Command::new("cargo");
    unik_ui::sanitize(&mut host);
    host.current_dir(data(&format!("apps/{app}")))
        .args(["run", "--quiet", "--release"])
        .env("CARGO_TARGET_DIR", support::root().join(format!("target/{app}-host")))
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null());
    let reference = run(&mut host);
    assert_eq!(reference.status, 0, "{app} on the host: {}", reference.stderr);
    reference
}

/// Asserts that the guest printed the host's lines, showing the ones that differ.
fn assert_same_lines(target: &str, host: &str, guest: &str) {
    let differences: Vec<String> = host
        .lines()
        .zip(guest.lines())
        .filter(|(host, guest)| host != guest)
        .map(|(host, guest)| format!("  host:  {host}\n  guest: {guest}"))
        .collect();
    assert!(
        differences.is_empty() && host.lines().count() == guest.lines().count(),
        "{target} differs from the host:\n{}\n(guest output:\n{guest})",
        differences.join("\n"),
    );
}

/// Copies the folder `from` to `to` (made), files and folders.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What `tests/data/apps/std-files` must print in the guest: the lines the same program
/// prints on the host, over a folder laid out as its manifest packs the files, then the
/// guest-only checks of `data/boot/std-files-guest.out` (a read-only root, a full /tmp).
fn std_files_expected() -> String {
    let app = data("apps/std-files");
    let root = tempfile::tempdir().unwrap();
    copy_tree(&app.join("files/config"), &root.path().join("etc/app"));
    std::fs::create_dir_all(root.path().join("srv")).unwrap();
    std::fs::copy(app.join("files/index.html"), root.path().join("srv/index.html")).unwrap();
    std::fs::create_dir_all(root.path().join("tmp")).unwrap();
    let reference = on_the_host("std-files", &[("FILES_ROOT", root.path().as_os_str())]);
    reference.stdout + &std::fs::read_to_string(data("boot/std-files-guest.out")).unwrap()
}

/// std's `fs` in the guest: packed files (the manifest's `files`, the image's ramdisk) read
/// as on the host, and a RAM /tmp written as on the host, on every target and boot path
/// (QEMU's `-initrd`, Xen's ramdisk module for a PVH dom0 and a dom0less domU); then what
/// only the guest has: a read-only root (`EROFS`), /tmp's limit (`ENOSPC`), `mmap`.
#[test]
fn std_files_work_as_on_the_hosts_linux() {
    let expected = std_files_expected();
    for target in TARGETS {
        let output = run(unik_for_app("std-files").args(run_args(target, 120)));
        assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
        assert_same_lines(target, &expected, &output.stdout);
    }
}

/// C code inside crates compiles with the target's C compiler (musl-gcc, clang for arm64)
/// and runs: `ring`'s digests, HMAC, HKDF, AES-GCM, ChaCha20-Poly1305 and Ed25519 give
/// the published known answers in the guest; std and ring detect the processor's
/// features as on Linux (on arm64 through `getauxval(AT_HWCAP)`, which the library OS
/// answers from the ID registers: QEMU's emulated Cortex-A57 has the crypto extension).
#[test]
fn ring_gives_its_known_answers_in_the_guest() {
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let output = run(unik_for_app("ring-kat").args(run_args(target, 60)));
        assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
        let lines: Vec<&str> = output.stdout.lines().collect();
        assert_eq!(lines.len(), 12, "{target}: {}", output.stdout);
        if target == "kvm-arm64" && !cfg!(target_arch = "aarch64") {
            assert!(
                lines[0].ends_with("neon aes pmull sha2 crc"),
                "the emulated Cortex-A57's features: {}",
                lines[0]
            );
        }
        assert!(
            lines.iter().all(|line| line.starts_with("ok ")),
            "{target}: {}",
            output.stdout
        );
    }
}

/// What unik does not provide fails as an `Err`; exit and panic statuses are std's.
#[test]
fn a_std_program_gets_errors_for_what_is_missing_and_ends_with_its_status() {
    for target in ["kvm-x86_64", "xen-arm64"] {
        let output =
            run(unik_for_app("std-errors")
                .args(run_args(target, 60))
                .args(["--", "unik.env.GREETING=hi", "exit"]));
        assert_eq!(output.status, 3, "{target}: {}\n{}", output.stdout, output.stderr);
        assert_eq!(
            output.stdout,
            std::fs::read_to_string(data("boot/std-errors.out")).unwrap(),
            "{target}"
        );

        let output = run(unik_for_app("std-errors")
            .args(run_args(target, 60))
            .args(["--", "panic"]));
        assert_eq!(output.status, 101, "{target}: {}\n{}", output.stdout, output.stderr);
        assert!(
            output.stdout.contains("panicked at src/main.rs:") && output.stdout.contains("on purpose: 42"),
            "{target}: {}",
            output.stdout
        );
    }
}

/// Runs an e2fsprogs tool on the host (Debian's e2fsprogs, which setup installs).
fn e2fsprogs(program: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let path = ["/usr/sbin", "/sbin"]
        .iter()
        .map(|folder| std::path::Path::new(folder).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{program} is missing: install Debian's e2fsprogs"));
    std::process::Command::new(path).args(args).output().unwrap()
}

/// Programs from crates.io with C code inside, databases, keep their files on a volume
/// across boots: rusqlite with SQLite compiled in, with the rollback journal and with the
/// write-ahead log (whose index is a shared file mapping), and heed with LMDB (the
/// database a shared mapping read while written with `pwrite`). Committed rows stay and a
/// rolled-back one does not, SQLite finds its files sound, and so does the host's
/// `e2fsck`, with the files in SQLite's format.
#[test]
fn databases_with_c_code_keep_their_files_on_a_volume() {
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let dir = tempfile::tempdir().unwrap();
        let volume = dir.path().join("db.img");
        let mut printed = String::new();
        for (note, attach) in [("first", ":size=16M"), ("second", "")] {
            let output = run(unik_for_app("databases").args(run_args(target, 300)).args([
                "--volume",
                &format!("{}:/data{attach}", volume.display()),
                "--",
                note,
            ]));
            assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
            printed.push_str(&output.stdout);
        }
        assert_eq!(
            printed,
            std::fs::read_to_string(data("boot/databases.out")).unwrap(),
            "{target}"
        );
        let checked = e2fsprogs("e2fsck", &["-fn".as_ref(), volume.as_os_str()]);
        assert!(
            checked.status.success(),
            "{target}: e2fsck:\n{}",
            String::from_utf8_lossy(&checked.stdout)
        );
        for database in ["cat /app.db", "cat /wal.db"] {
            let file = e2fsprogs("debugfs", &["-R".as_ref(), database.as_ref(), volume.as_os_str()]);
            assert!(
                file.stdout.starts_with(b"SQLite format 3\0"),
                "{target}: {database}: not SQLite's"
            );
        }
    }
}

/// A volume keeps what a std program wrote (each file synced, then renamed into place)
/// across boots: `unik run --volume FILE:/data:size=8M` makes the ext2 file with mke2fs,
/// the guest writes through virtio-blk (as a Xen domU: blkfront, blkback in the dom0), the
/// host's `e2fsck -fn` finds nothing to fix and
/// `debugfs` reads the files, the next boot reads them back, and a read-only attach gives
/// `EROFS`. Bad volume files are refused before QEMU starts, and stay untouched.
#[test]
fn a_volume_keeps_its_files_across_boots() {
    // A domU's volume comes through the dom0 (blkback) to blkfront.
    for (target, domu) in [("kvm-x86_64", None), ("kvm-arm64", None), ("xen-arm64", Some("--domu"))] {
        let dir = tempfile::tempdir().unwrap();
        let volume = dir.path().join("data.img");
        let attach = |suffix: &str| format!("{}:/data{suffix}", volume.display());
        let output = run(unik_for_app("std-volume").args(run_args(target, 300)).args(domu).args([
            "--volume",
            &attach(":size=8M"),
            "--",
            "write",
            "20",
        ]));
        assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
        assert_eq!(output.stdout, "made /data/keys\nstored 20 keys\n", "{target}");
        let checked = e2fsprogs("e2fsck", &["-fn".as_ref(), volume.as_os_str()]);
        assert!(
            checked.status.success(),
            "{target}: e2fsck:\n{}",
            String::from_utf8_lossy(&checked.stdout)
        );
        let read = e2fsprogs(
            "debugfs",
            &["-R".as_ref(), "cat /keys/key-0003".as_ref(), volume.as_os_str()],
        );
        assert_eq!(String::from_utf8_lossy(&read.stdout), "value 3 xxx", "{target}");

        let output = run(unik_for_app("std-volume").args(run_args(target, 300)).args(domu).args([
            "--volume",
            &attach(""),
            "--",
            "read",
        ]));
        assert_eq!(output.status, 0, "{target}: {}", output.stderr);
        assert_eq!(
            output.stdout,
            std::fs::read_to_string(data("boot/std-volume-read.out")).unwrap(),
            "{target}"
        );
        let output = run(unik_for_app("std-volume").args(run_args(target, 300)).args(domu).args([
            "--volume",
            &attach(":ro"),
            "--",
            "readonly",
        ]));
        assert_eq!(
            output.stdout, "write: ReadOnlyFilesystem: Read-only file system (os error 30)\n20 keys readable\n",
            "{target}: {}",
            output.stderr
        );
    }
    // Bad volume files: a clear error, nothing started, the file as it was.
    let dir = tempfile::tempdir().unwrap();
    let zeroes = dir.path().join("zeroes.img");
    std::fs::write(&zeroes, vec![0; 2 << 20]).unwrap();
    for (volume, says) in [
        (format!("{}:/data", zeroes.display()), "holds no ext2 file system"),
        (
            format!("{}/missing.img:/data", dir.path().display()),
            "does not exist: add :size=64M",
        ),
        (
            format!("{}:/elsewhere", zeroes.display()),
            "the image mounts no volume there",
        ),
    ] {
        let output = run(unik_for_app("std-volume")
            .args(run_args("kvm-x86_64", 60))
            .args(["--volume", &volume, "--", "read"]));
        assert_eq!(output.status, 1, "{volume}: {}", output.stderr);
        assert!(output.stderr.contains(says), "{volume}: {}", output.stderr);
    }
    let output = run(unik_for_app("std-volume")
        .args(run_args("kvm-x86_64", 60))
        .args(["--", "read"]));
    assert!(
        output
            .stderr
            .contains("attach a disk image for it with --volume FILE:/data"),
        "{}",
        output.stderr
    );
    assert!(std::fs::read(&zeroes).unwrap().iter().all(|&byte| byte == 0));
}

/// A small random number generator for the crash test (xorshift; the seed is printed, so
/// a failing run can be repeated with `UNIK_CRASH_SEED`).
struct Random(u64);

impl Random {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// The crash test: a std program stores keys on a volume, printing `acked N` once key N is
/// synced (file and folder); the host kills QEMU with SIGKILL after a random number of
/// acknowledgements, 20 times, each boot first checking that every key acknowledged
/// before is there with its value. The host's `e2fsck -fn` result after each kill is
/// printed (run with `--nocapture` to see it); every acknowledged key must survive.
#[test]
fn synced_writes_survive_killing_the_vm() {
    use std::io::BufRead;
    let seed = std::env::var("UNIK_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| unix_seconds() | 1);
    println!("crash test seed {seed}");
    let mut random = Random(seed);
    for target in ["kvm-x86_64", "kvm-arm64"] {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("crash.img");
        let made = e2fsprogs(
            "mke2fs",
            &[
                "-q".as_ref(),
                "-F".as_ref(),
                "-t".as_ref(),
                "ext2".as_ref(),
                image.as_os_str(),
                "16M".as_ref(),
            ],
        );
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let mut acked = 0u64;
        let mut results = Vec::new();
        for round in 0..20 {
            let kill_after = acked + 1 + random.next(12);
            let mut child = unik_for_app("std-volume")
                .args(run_args(target, 120))
                .args([
                    "--volume",
                    &format!("{}:/data", image.display()),
                    "--",
                    "stream",
                    &acked.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
            let mut verified = false;
            for line in stdout.lines() {
                let line = line.unwrap();
                if line == format!("verified {acked}") {
                    verified = true;
                } else if let Some(index) = line.strip_prefix("acked ") {
                    acked = index.parse::<u64>().unwrap() + 1;
                    if acked >= kill_after {
                        // QEMU is unik's child: SIGKILL it, as a power cut would stop it.
                        let _ = std::process::Command::new("pkill")
                            .args(["-KILL", "-P", &child.id().to_string()])
                            .status();
                    }
                } else if line.starts_with("lost key") {
                    panic!("{target}, round {round}: {line} (seed {seed})");
                }
            }
            let status = child.wait().unwrap();
            assert!(verified, "{target}, round {round}: the volume did not mount ({status})");
            let checked = e2fsprogs("e2fsck", &["-fn".as_ref(), image.as_os_str()]);
            let code = checked.status.code().unwrap_or(-1);
            results.push(code);
            if code != 0 {
                let report = String::from_utf8_lossy(&checked.stdout);
                println!("{target}, round {round}, after key {acked}: e2fsck -fn says (status {code}):\n{report}");
                assert_only_leaks(&report, target, round);
                // Repaired, as after a real crash, so each round's report is its own.
                let repaired = e2fsprogs("e2fsck", &["-fy".as_ref(), image.as_os_str()]);
                assert!(
                    repaired.status.code().is_some_and(|code| code <= 1),
                    "{target}, round {round}: e2fsck -fy could not repair:\n{}",
                    String::from_utf8_lossy(&repaired.stdout)
                );
            }
        }
        println!("{target}: {acked} keys acknowledged over 20 kills; e2fsck -fn statuses {results:?}");
        let output = run(unik_for_app("std-volume").args(run_args(target, 120)).args([
            "--volume",
            &format!("{}:/data", image.display()),
            "--",
            "read",
        ]));
        // Every acknowledged key, and perhaps one stored but not yet acknowledged (temporary
        // files are not counted: a kill may leave one as a second name of its key).
        let count: u64 = output
            .stdout
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            (acked..=acked + 1).contains(&count),
            "{target}: {acked} acknowledged: {}",
            output.stdout
        );
    }
}

/// Checks that an e2fsck report after a kill shows only what leaks (blocks or inodes marked
/// in use that nothing uses, links over-counted, summary counts, an inode without a name),
/// never what loses or shares data: a used block marked free (`+` in the bitmap
/// differences), a link count below the names, blocks claimed twice.
fn assert_only_leaks(report: &str, target: &str, round: usize) {
    for line in report.lines() {
        let dangerous = (line.contains("bitmap differences") && line.contains('+'))
            || line.contains("multiply-claimed")
            || line.contains("has deleted/unused inode")
            || line.split("ref count is ").nth(1).is_some_and(|rest| {
                let numbers: Vec<u32> = rest
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|word| word.parse().ok())
                    .collect();
                matches!(numbers[..], [found, should, ..] if found < should)
            });
        assert!(
            !dangerous,
            "{target}, round {round}: e2fsck found damage, not a leak: {line}\n{report}"
        );
    }
}

/// Each `fsync` reaches the disk as a flush request: QEMU answers one with `fdatasync` on
/// the volume file, which `strace` sees (a guest that only wrote would leave the data in
/// the host's page cache, which survives killing QEMU but not a power cut).
#[test]
fn each_fsync_sends_the_disk_a_flush() {
    // On Xen the flush travels further: blkfront's FLUSH_DISKCACHE, blkback in the dom0,
    // the dom0's virtio disk, QEMU.
    for (target, domu) in [("kvm-x86_64", None), ("xen-x86_64", Some("--domu"))] {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("flush.img");
        let trace = dir.path().join("trace");
        let command = unik_for_app("std-volume");
        let program = command.get_program().to_owned();
        let arguments: Vec<std::ffi::OsString> = command.get_args().map(ToOwned::to_owned).collect();
        let mut traced = std::process::Command::new("strace");
        traced
            .args(["-f", "-e", "trace=fdatasync,fsync", "-o"])
            .arg(&trace)
            .arg(program)
            .args(arguments)
            .args(run_args(target, 300))
            .args(domu)
            .args([
                "--volume",
                &format!("{}:/data:size=8M", image.display()),
                "--",
                "write",
                "10",
            ]);
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => traced.env(key, value),
                None => traced.env_remove(key),
            };
        }
        if let Some(folder) = command.get_current_dir() {
            traced.current_dir(folder);
        }
        let output = run(&mut traced);
        assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
        let calls = std::fs::read_to_string(&trace).unwrap();
        let flushes = calls
            .lines()
            .filter(|line| line.contains("fdatasync(") || line.contains("fsync("))
            .count();
        // Ten keys, each synced twice (the file, then its folder after the rename).
        assert!(flushes >= 20, "{target}: {flushes} flushes reached the host:\n{calls}");
    }
}

#[test]
fn hello_builds_and_boots_with_the_dev_profile() {
    let output = run(unik().current_dir(support::root().join("examples/hello")).args([
        "-q",
        "run",
        "--timeout",
        "60",
        "--accel",
        &accel(),
    ]));
    assert_eq!(
        (output.status, output.stdout.as_str()),
        (0, "Hello, world!\n"),
        "{}",
        output.stderr
    );
}

#[test]
fn alloc_boots_with_the_min_profile_and_says_it_uses_nightly_flags() {
    let expected = load("alloc").stdout.unwrap();
    // -v: the note is said on an image's first build, and always in verbose mode.
    let output = run(unik().current_dir(support::root().join("examples/alloc")).args([
        "-v",
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

/// Boots the `faults` test application on `target` with `fault` as its argument.
fn commit_fault(target: &str, fault: &str) -> Output {
    run(unik_for_app("faults").args(run_args(target, 60)).args(["--", fault]))
}

/// Checks the report of a fault of `kind`: its code, and its address unless the report
/// says `address unknown` (see [`reports_fault_address`]).
fn assert_fault_report(output: &Output, kind: &str) -> (u64, Option<u64>) {
    assert_eq!(
        output.status, 70,
        "a fault must end the VM with EX_SOFTWARE (70)\n{}\n{}",
        output.stdout, output.stderr
    );
    assert!(
        output.stdout.contains(&format!("unik: fatal fault: {kind} (code ")),
        "{kind}: {}",
        output.stdout
    );
    let hex_after = |label: &str| {
        let text = output.stdout.split(label).nth(1).expect("the report has the field");
        u64::from_str_radix(text.get(2..18)?, 16).ok()
    };
    let code = hex_after("(code ").expect("the report has a hex code");
    let address = match output.stdout.contains("address unknown") {
        true => None,
        false => Some(hex_after("address ").expect("the report has a hex address or says it is unknown")),
    };
    (code, address)
}

/// The fault address of a report, which must be known on `target`, or which may say
/// `address unknown` (then `None`) where it cannot be (see [`reports_fault_address`]).
fn checked_address(target: &str, address: Option<u64>, output: &Output) -> Option<u64> {
    if reports_fault_address(target) {
        assert!(
            address.is_some(),
            "{target}: the address must be known\n{}",
            output.stdout
        );
    }
    address
}

fn is_arm64(target: &str) -> bool {
    target.ends_with("-arm64")
}

/// Whether the faulting address (CR2, FAR) is always known on `target`. Under Xen inside
/// QEMU's emulated nested SVM, CR2 reads 0 in the guest even though the fault and its error
/// code are right: xen-x86_64 images report a 0 address as `address unknown`, and any other
/// address exactly; elsewhere it is exact.
fn reports_fault_address(target: &str) -> bool {
    target != "xen-x86_64"
}

/// Where `target`'s images may lie: from the link address to the largest image end.
fn image_range(target: &str) -> std::ops::Range<u64> {
    let layout = unik_targets::find(target).unwrap().layout;
    layout.load_address..layout.max_image_end
}

/// arm64 data aborts: ESR_EL1.ISS bit 6 (WnR) says the access was a write.
const ESR_WRITE: u64 = 1 << 6;

#[test]
fn null_dereference_is_a_reported_page_fault() {
    for target in TARGETS {
        let output = commit_fault(target, "null");
        if is_arm64(target) {
            let (esr, address) = assert_fault_report(&output, "data abort: translation fault");
            assert_eq!(esr & ESR_WRITE, 0, "{target}: a read");
            assert_eq!(address, Some(0), "{target}");
            continue;
        }
        let (_, address) = assert_fault_report(&output, "page fault");
        assert!(
            output.stdout.contains("detail 0x0000000000000000"),
            "{target}: read of a non-present page\n{}",
            output.stdout
        );
        if let Some(address) = checked_address(target, address, &output) {
            assert_eq!(address, 0, "{target}");
        }
    }
}

#[test]
fn writing_to_the_image_text_faults() {
    for target in TARGETS {
        let output = commit_fault(target, "write-text");
        let address = if is_arm64(target) {
            let (esr, address) = assert_fault_report(&output, "data abort: permission fault");
            assert_ne!(esr & ESR_WRITE, 0, "{target}: a write");
            address
        } else {
            let (_, address) = assert_fault_report(&output, "page fault");
            // Error code: present (bit 0) and write (bit 1).
            assert!(
                output.stdout.contains("detail 0x0000000000000003"),
                "{target}: {}",
                output.stdout
            );
            address
        };
        if let Some(address) = checked_address(target, address, &output) {
            assert!(
                image_range(target).contains(&address),
                "{target}: {address:#x} is not in the image"
            );
        }
    }
}

/// A fault without an error code (x86 pushes none for an invalid opcode) is reported at the
/// faulting instruction, as one with an error code is.
#[test]
fn an_undefined_instruction_is_reported_where_it_is() {
    for target in TARGETS {
        let output = commit_fault(target, "undefined-instruction");
        assert_eq!(output.status, 70, "{target}: EX_SOFTWARE\n{}", output.stdout);
        let kind = if is_arm64(target) {
            "undefined instruction"
        } else {
            "invalid opcode"
        };
        // x86's invalid-opcode vector; arm64's exception class 0 in ESR bits 26..32.
        let code = if is_arm64(target) { 0x0200_0000u64 } else { 6 };
        assert!(
            output
                .stdout
                .contains(&format!("unik: fatal fault: {kind} (code {code:#018x})")),
            "{target}: {}",
            output.stdout
        );
        let address = output
            .stdout
            .split("undefined instruction at ")
            .nth(1)
            .and_then(|text| text.get(..18))
            .expect("the app printed the instruction's address");
        assert!(
            output.stdout.contains(&format!("pc {address}")),
            "{target}: the report names the instruction at {address}\n{}",
            output.stdout
        );
    }
}

#[test]
fn executing_rodata_faults() {
    for target in ["kvm-x86_64", "kvm-arm64", "xen-arm64"] {
        let output = commit_fault(target, "execute-rodata");
        if is_arm64(target) {
            let (_, address) = assert_fault_report(&output, "instruction abort: permission fault");
            let address = checked_address(target, address, &output).unwrap();
            assert!(image_range(target).contains(&address), "{target}: {address:#x}");
        } else {
            assert_fault_report(&output, "page fault");
            // Error code: present (bit 0) and instruction fetch (bit 4).
            assert!(output.stdout.contains("detail 0x0000000000000011"), "{}", output.stdout);
        }
    }
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    for target in TARGETS {
        let output = commit_fault(target, "stack-overflow");
        let (_, address) = assert_fault_report(&output, "stack overflow in the main thread");
        if let Some(address) = checked_address(target, address, &output) {
            assert!(
                image_range(target).contains(&address),
                "{target}: {address:#x} is not in the image's stack guard"
            );
        }
    }
}

/// A std thread's heap stack has an unmapped guard page: running into it is reported at
/// once as that thread's stack overflow, by thread number and name, and the C library
/// reports the guard as Linux's does.
#[test]
fn a_thread_stack_overflow_is_reported_with_the_threads_name() {
    for target in TARGETS {
        let output = run(unik_for_app("stack-overflow")
            .args(run_args(target, 120))
            .args(["--", "thread"]));
        assert!(
            output
                .stdout
                .contains("guard of this thread: 4096, of a new attribute object: 4096"),
            "{target}: {}",
            output.stdout
        );
        assert_fault_report(&output, "stack overflow in thread 2 (deep)");
        assert!(
            !output.stdout.contains("ended without a fault"),
            "{target}: {}",
            output.stdout
        );
    }
    // The main thread of a std program: its stack is the image's, below it the guard.
    let output = run(unik_for_app("stack-overflow")
        .args(run_args("xen-x86_64", 120))
        .args(["--", "main"]));
    assert!(
        output.stdout.contains("guard of the main thread: 4096"),
        "{}",
        output.stdout
    );
    assert_fault_report(&output, "stack overflow in the main thread");
}

#[test]
fn a_hang_ends_at_the_timeout_with_a_distinct_status() {
    // Long enough for two of its 200 ms ticks even while the other tests' builds load
    // both cores (a fresh CI checkout builds std for every target meanwhile).
    for (target, seconds) in [
        ("kvm-x86_64", 8),
        ("xen-x86_64", 12),
        ("kvm-arm64", 8),
        ("xen-arm64", 12),
    ] {
        let output = run(unik_for_app("hang").args(run_args(target, seconds)));
        assert_eq!(output.status, 142, "{target}: {}", output.stderr);
        assert!(
            output.stderr.contains("still running after"),
            "{target}: {}",
            output.stderr
        );
        assert!(
            output.stderr.contains("tick "),
            "{target}: the error shows the last console lines:\n{}",
            output.stderr
        );
        assert!(
            output.stdout.starts_with("tick 0\ntick 1\n"),
            "{target}: {}",
            output.stdout
        );
    }
}

/// Builds `examples/hello` for `target`; returns its build message.
fn build_hello(target: &str) -> serde_json::Value {
    build_message(
        unik().current_dir(support::root().join("examples/hello")),
        &["--release", "--target", target],
    )
}

/// The linked ELF (symbols kept) of a build message.
fn linked(message: &serde_json::Value) -> Vec<u8> {
    std::fs::read(format!("{}.elf", message["image"].as_str().unwrap())).unwrap()
}

/// Every port I/O instruction (in, out, ins, outs) in the image's executable segments.
fn port_io_instructions(elf: &[u8]) -> Vec<String> {
    use iced_x86::{Decoder, DecoderOptions, Mnemonic};
    let image = unik_linker::Image::parse(elf).unwrap();
    let mut found = Vec::new();
    for segment in image.loads().filter(|s| s.flags & unik_linker::image::flags::X != 0) {
        let bytes = &elf[segment.offset as usize..(segment.offset + segment.file_size) as usize];
        let mut decoder = Decoder::with_ip(64, bytes, segment.vaddr, DecoderOptions::NONE);
        for instruction in &mut decoder {
            if matches!(
                instruction.mnemonic(),
                Mnemonic::In
                    | Mnemonic::Out
                    | Mnemonic::Insb
                    | Mnemonic::Insw
                    | Mnemonic::Insd
                    | Mnemonic::Outsb
                    | Mnemonic::Outsw
                    | Mnemonic::Outsd
            ) {
                found.push(format!("{:#x}: {:?}", instruction.ip(), instruction.mnemonic()));
            }
        }
    }
    found
}

#[test]
fn the_xen_image_uses_xen_for_console_time_and_exit_and_touches_no_pc_device() {
    // Built at the same time: targets that share a Rust target must not share artifacts.
    let kvm = std::thread::spawn(|| build_hello("kvm-x86_64"));
    let xen = build_hello("xen-x86_64");
    let kvm = kvm.join().unwrap();
    // Positive control: the kvm-x86_64 image drives COM1 and isa-debug-exit with port I/O.
    assert!(
        !port_io_instructions(&linked(&kvm)).is_empty(),
        "the decoder finds the kvm image's port I/O"
    );
    assert_eq!(
        port_io_instructions(&linked(&xen)),
        Vec::<String>::new(),
        "xen-x86_64 has no serial driver and no debug-exit port"
    );

    let kvm_symbols = image_symbols(&kvm);
    let xen_symbols = image_symbols(&xen);
    let has = |symbols: &[String], text: &str| symbols.iter().any(|s| s.contains(text));
    assert!(
        has(&kvm_symbols, "KvmX86_64 as unik_platform_api::Console"),
        "{kvm_symbols:?}"
    );
    assert!(
        has(&xen_symbols, "XenX86_64 as unik_platform_api::Console"),
        "{xen_symbols:?}"
    );
    for foreign in ["KvmX86_64", "Com1", "uart16550", "lapic", "pit::"] {
        assert!(
            !has(&xen_symbols, foreign),
            "the xen image holds `{foreign}`: {xen_symbols:?}"
        );
    }
}

#[test]
fn the_xen_clock_is_xens_pvclock() {
    let message = build_message(
        unik().current_dir(support::root().join("examples/clock")),
        &["--release", "--target", "xen-x86_64"],
    );
    let symbols = image_symbols(&message);
    let has = |text: &str| symbols.iter().any(|s| s.contains(text));
    assert!(has("XenX86_64 as unik_platform_api::Clock"), "{symbols:?}");
    assert!(
        !has("pit::calibrate") && !has("lapic"),
        "no PC timer in the xen image: {symbols:?}"
    );
}

#[test]
fn a_silent_hang_ends_at_the_timeout_and_says_nothing_was_printed() {
    for (target, seconds) in [("kvm-x86_64", 3), ("xen-x86_64", 6), ("kvm-arm64", 3), ("xen-arm64", 6)] {
        let output = run(unik_for_app("hang")
            .args(run_args(target, seconds))
            .args(["--", "silent"]));
        assert_eq!(output.status, 142, "{target}: {}", output.stderr);
        assert_eq!(output.stdout, "", "{target}");
        assert!(
            output.stderr.contains("still running after"),
            "{target}: {}",
            output.stderr
        );
    }
}

#[test]
fn a_triple_fault_ends_without_a_status_and_says_so() {
    for target in ["kvm-x86_64", "xen-x86_64"] {
        let output = commit_fault(target, "triple-fault");
        assert_eq!(output.status, 134, "{target}: {}\n{}", output.stdout, output.stderr);
        assert!(
            output.stderr.contains("ended without reporting an exit status"),
            "{target}: {}",
            output.stderr
        );
        assert!(
            output.stderr.contains("committing fault: triple-fault"),
            "{target}: last lines shown\n{}",
            output.stderr
        );
    }
}

/// Runs `image` through the runner's library API under `target`'s Xen (TCG, 16 MiB, 60 s
/// timeout), in `role` (`None`: the target's default), its console into `console`.
fn run_under_xen(
    target: &str,
    image: &std::path::Path,
    role: Option<unik_targets::Role>,
    console: Box<dyn std::io::Write + Send>,
) -> unik_runner::RunResult {
    let target = unik_targets::find(target).unwrap();
    let shell = unik_ui::Shell::new(false, true);
    let request = unik_runner::BootRequest {
        target: &target,
        image,
        mode: role.map(unik_targets::BootMode::DeviceTree),
        memory: unik_targets::ByteSize::new(16 << 20),
        cmdline: String::new(),
        accel: unik_runner::accel::Resolved::Tcg,
        timeout: Some(std::time::Duration::from_secs(60)),
        network: None,
        vif_bridge: None,
        dom0_command: None,
        ramdisk: None,
        volumes: Vec::new(),
        cache: support::hypervisor_cache(),
    };
    unik_runner::run(&shell, &request, console).unwrap()
}

#[test]
fn a_xen_panic_ends_the_run_at_once_with_xens_last_lines() {
    // A dom0 "kernel" Xen cannot load makes it panic ("Could not construct domain 0").
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("not-an-image");
    std::fs::write(&image, b"this is not an ELF file\n").unwrap();
    let result = run_under_xen("xen-x86_64", &image, None, Box::new(std::io::sink()));
    assert_eq!(result.outcome, unik_runner::Outcome::NoStatus);
    assert!(
        result.elapsed < std::time::Duration::from_secs(30),
        "ended at the panic, not the timeout"
    );
    assert!(
        result.hypervisor_log.iter().any(|l| l.text.contains("Panic on CPU")),
        "{:#?}",
        result.hypervisor_log
    );
}

#[test]
fn hello_also_boots_as_a_xen_arm64_dom0() {
    // The same image as the dom0less domU above, loaded where Xen chooses for a dom0.
    let message = build_hello("xen-arm64");
    let image = std::path::PathBuf::from(message["image"].as_str().unwrap());
    let console = unik_runner::CapturedConsole::default();
    let result = run_under_xen(
        "xen-arm64",
        &image,
        Some(unik_targets::Role::Dom0),
        Box::new(console.clone()),
    );
    assert_eq!(
        result.outcome,
        unik_runner::Outcome::Exited(0),
        "{:#?}",
        result.hypervisor_log
    );
    assert_eq!(console.text(), "Hello, world!\n");
    let log = |text: &str| result.hypervisor_log.iter().any(|l| l.text.contains(text));
    assert!(log("Loading d0 kernel"), "booted as dom0: {:#?}", result.hypervisor_log);
    assert!(log("Hardware Dom0 halted"), "{:#?}", result.hypervisor_log);
}

#[test]
fn kvm_arm64_without_semihosting_prints_the_status_and_powers_off() {
    // QEMU without -semihosting: the exit's `hlt` is undefined, and the image falls back to
    // the status line and PSCI SYSTEM_OFF, after which QEMU exits by itself.
    let message = build_message(
        unik().current_dir(support::root().join("examples/panic")),
        &["--release", "--target", "kvm-arm64"],
    );
    let target = unik_targets::find("kvm-arm64").unwrap();
    let machine = &target.machine;
    let args: Vec<&String> = machine.args.iter().filter(|a| *a != "-semihosting").collect();
    assert_eq!(args.len() + 1, machine.args.len(), "the target passes -semihosting");
    let output = run(std::process::Command::new(&machine.qemu)
        .args(["-M", &machine.machine, "-accel", "tcg", "-m", "16M"])
        .args(["-cpu", machine.tcg_cpu.as_deref().unwrap()])
        .args(args)
        .arg("-kernel")
        .arg(message["image"].as_str().unwrap()));
    assert_eq!(output.status, 0, "QEMU ends at the power-off: {}", output.stderr);
    assert!(
        output
            .stdout
            .ends_with("deliberate panic after 0 arguments\nunik: exit status 101\n"),
        "{}",
        output.stdout
    );
}

/// Every example that ends by itself (no_std and std; the servers are in tests/net.rs) as a
/// real domU, on both Xen architectures: Xen boots a Linux dom0
/// (Debian's kernel, `xl`, `xenstored`, `xenconsoled`), which creates the domain from the
/// `.xl` `unik build` wrote (its kernel path aside) with `xl create -c`; the console comes
/// through the PV ring and xenconsole, and must be exactly what every other target
/// prints, to the last line; a hang ends at the timeout.
#[test]
fn every_example_runs_as_a_domu_under_xl() {
    for target in ["xen-x86_64", "xen-arm64"] {
        examples_run_as_domus_of(target);
    }
}

fn examples_run_as_domus_of(target: &str) {
    let domu = |command: &mut std::process::Command, seconds: u32, args: &[String]| {
        command.args(run_args(target, seconds)).arg("--domu");
        if !args.is_empty() {
            command.arg("--").args(args);
        }
        run(command)
    };
    for case in [
        "hello",
        "alloc",
        "panic",
        "args",
        "args-given",
        "std-hello",
        "std-threads",
    ] {
        let spec = load(case);
        let example = spec.example.clone().unwrap_or_else(|| case.to_string());
        let mut command = unik();
        command.current_dir(support::root().join("examples").join(&example));
        let output = domu(&mut command, 120, &spec.args);
        let context = format!(
            "{case} as a domU on {target}\nstdout:\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        );
        assert_eq!(output.status, spec.status, "{context}");
        if let Some(expected) = &spec.stdout {
            assert_eq!(&output.stdout, expected, "{context}");
        }
    }
    let mut command = unik();
    let output = domu(command.current_dir(support::root().join("examples/clock")), 120, &[]);
    assert_eq!(output.status, 0, "{target}: {}", output.stderr);
    assert!(output.stdout.starts_with("slept for "), "{target}: {}", output.stdout);

    // The wall clock: Xen's, which the dom0 set from the machine's RTC (on arm64 Xen has
    // none of its own), through the shared info page; no `unik.time` on this command line.
    let before = unix_seconds();
    let output = domu(&mut unik_for_app("wall-clock"), 120, &[]);
    let after = unix_seconds();
    assert_eq!(output.status, 0, "{target}: {}", output.stderr);
    assert_guest_time_within(target, &output.stdout, before..=after);

    // xenstore, for real: the domain reads the nodes the toolstack wrote for it.
    let output = domu(&mut unik_for_app("xenstore"), 120, &[]);
    assert_eq!(output.status, 0, "{target}: {}", output.stderr);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{target}: {}", output.stdout);
    assert_eq!(lines[0], "name = xenstore");
    let domid = lines[1].strip_prefix("domid = ").and_then(|id| id.parse::<u32>().ok());
    assert!(domid.is_some_and(|id| id > 0), "{target}: {}", output.stdout);
    assert_eq!(lines[2], "no-such-node: NotFound");

    // Packed files reach an `xl` domU as its `ramdisk`.
    let output = domu(&mut unik_for_app("std-files"), 120, &[]);
    assert_eq!(output.status, 0, "{target}: {}\n{}", output.stdout, output.stderr);
    assert_same_lines(target, &std_files_expected(), &output.stdout);

    let output = domu(&mut unik_for_app("hang"), 40, &[]);
    assert_eq!(output.status, 142, "{target}: {}", output.stderr);
    assert!(
        output.stdout.starts_with("tick 0\ntick 1\n"),
        "{target}: {}",
        output.stdout
    );
}
