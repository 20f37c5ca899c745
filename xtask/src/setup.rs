//! Installing prerequisites: Rust targets and the standard library sources with rustup, QEMU, curl and xz with apt-get (from
//! bookworm-backports on Debian 12, where main has an older QEMU), or a precise account
//! of what is missing when this machine does not allow installing.

use crate::run;
use std::path::Path;
use unik_ui::Shell;

/// Rust targets images build for.
const RUST_TARGETS: &[&str] = &["x86_64-unknown-none", "aarch64-unknown-none"];
/// Programs booting and testing need, and their Debian packages: the QEMU binaries the
/// targets boot with, `curl` (the network tests' client), `xz` (unpacks the Linux dom0
/// kernel of `--domu` runs), C compilers and headers, a DNS server.
const PROGRAMS: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("qemu-system-aarch64", "qemu-system-arm"),
    ("curl", "curl"),
    ("xz", "xz-utils"),
    // C code inside std programs' crates: musl-gcc for x86_64, clang and llvm-ar with
    // musl's arm64 headers (musl-dev:arm64, which also brings this wrapper) for arm64
    // (targets/*/target.toml `[c-compiler]`).
    ("musl-gcc", "musl-tools"),
    ("clang", "clang"),
    ("llvm-ar", "llvm"),
    ("aarch64-linux-musl-gcc", "musl-dev:arm64"),
    // The DNS server the resolver tests run on the host's loopback.
    ("dnsmasq", "dnsmasq-base"),
    // Certificates and an HTTPS server for the TLS client test.
    ("openssl", "openssl"),
    // The CycloneDX validator the bill-of-materials tests run lives in a venv.
    ("python3", "python3-venv"),
];
/// The CycloneDX library from PyPI whose JSON-schema validator checks the bills of
/// materials `unik build` writes (pinned: its bundled schemas are what is checked).
const CYCLONEDX_VALIDATOR: &str = "cyclonedx-python-lib[json-validation]==11.12.0";
const BACKPORTS_SOURCE: &str = "/etc/apt/sources.list.d/unik-bookworm-backports.sources";

use unik_ui::on_path;

pub(crate) fn output(shell: &Shell, program: &str, args: &[&str]) -> Option<String> {
    let mut command = shell.command(program);
    command.args(args);
    shell.echo(&command);
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Installs everything missing, or fails naming what is missing and how to get it.
pub fn setup(shell: &Shell) -> Result<(), String> {
    rust_targets(shell)?;
    rust_sources(shell)?;
    programs(shell)?;
    sbom_validator(shell)?;
    hypervisors(shell)
}

/// The Python environment holding the CycloneDX validator (`target/tools/cyclonedx`).
pub fn cyclonedx_environment() -> std::path::PathBuf {
    crate::root().join("target/tools/cyclonedx")
}

/// Installs [`CYCLONEDX_VALIDATOR`] into its own venv unless it is there.
fn sbom_validator(shell: &Shell) -> Result<(), String> {
    let venv = cyclonedx_environment();
    let python = venv.join("bin/python");
    let works = || {
        let mut check = shell.command(&python);
        check.args(["-c", "import cyclonedx.validation.json, jsonschema"]);
        shell.echo(&check);
        check.output().is_ok_and(|output| output.status.success())
    };
    if works() {
        return Ok(());
    }
    shell.status(
        "Installing",
        format!(
            "the CycloneDX validator ({CYCLONEDX_VALIDATOR} from PyPI) into {}",
            venv.display()
        ),
    );
    let mut create = shell.command("python3");
    create.arg("-m").arg("venv").arg(&venv);
    run(shell, &mut create)
        .map_err(|e| format!("{e} (on Debian, `python3 -m venv` needs the python3-venv package)"))?;
    let mut pip = shell.command(venv.join("bin/pip"));
    pip.args(["install", "--quiet", CYCLONEDX_VALIDATOR]);
    run(shell, &mut pip)?;
    if works() {
        Ok(())
    } else {
        Err(format!(
            "{CYCLONEDX_VALIDATOR} is installed in {} but does not import",
            venv.display()
        ))
    }
}

/// Where the tests (and `cargo xtask demo`) keep downloaded hypervisors.
pub fn hypervisor_cache() -> std::path::PathBuf {
    crate::root().join("target/unik-cache")
}

/// Downloads every target's hypervisor into the shared cache (`apt-get download`, no
/// install), refreshing the apt package lists first if they lack the package. For another
/// architecture's package (`name:arm64`) apt must know that architecture: it is added
/// with `dpkg --add-architecture`, which installs nothing.
fn hypervisors(shell: &Shell) -> Result<(), String> {
    let cache = hypervisor_cache();
    for target in unik_targets::all() {
        let Some(hypervisor) = &target.machine.hypervisor else {
            continue;
        };
        if unik_runner::hypervisor::cached_path(hypervisor, &cache).is_file() {
            continue;
        }
        if unik_runner::hypervisor::ensure(shell, hypervisor, &cache).is_ok() {
            continue;
        }
        let Some(prefix) = privilege(shell) else {
            return Err(format!(
                "cannot download {} (Debian package {}): run `sudo apt-get update` and retry, or place the unpacked file at {}",
                hypervisor.name,
                hypervisor.debian_package,
                unik_runner::hypervisor::cached_path(hypervisor, &cache).display()
            ));
        };
        add_foreign_architecture(
            shell,
            &mut privileged(shell, &prefix, "dpkg"),
            &hypervisor.debian_package,
        )?;
        run(shell, privileged(shell, &prefix, "apt-get").args(["update", "-q"]))?;
        unik_runner::hypervisor::ensure(shell, hypervisor, &cache).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Makes apt know the architecture of `package` when it names one (`musl-dev:arm64`);
/// `dpkg` is the (possibly privileged) dpkg command to add it with.
fn add_foreign_architecture(shell: &Shell, dpkg: &mut std::process::Command, package: &str) -> Result<(), String> {
    let Some((_, arch)) = package.split_once(':') else {
        return Ok(());
    };
    let known = output(shell, "dpkg", &["--print-foreign-architectures"]).unwrap_or_default();
    if known.lines().any(|line| line.trim() == arch) {
        return Ok(());
    }
    shell.status("Adding", format!("the {arch} architecture to apt (for {package})"));
    run(shell, dpkg.args(["--add-architecture", arch]))
}

fn rust_targets(shell: &Shell) -> Result<(), String> {
    let installed = output(shell, "rustup", &["target", "list", "--installed"])
        .ok_or("rustup is not available: install Rust with rustup (https://rustup.rs), then rerun".to_string())?;
    let missing: Vec<&str> = RUST_TARGETS
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    shell.status("Installing", format!("Rust targets {}", missing.join(", ")));
    let mut command = shell.command("rustup");
    command.args(["target", "add"]).args(&missing);
    run(shell, &mut command)
}

/// The standard library's sources: std applications build std for the musl targets
/// (which rustup has no prebuilt std for) with `-Zbuild-std`.
fn rust_sources(shell: &Shell) -> Result<(), String> {
    let installed = output(shell, "rustup", &["component", "list", "--installed"])
        .ok_or("rustup is not available: install Rust with rustup (https://rustup.rs), then rerun".to_string())?;
    if installed.lines().any(|line| line.trim().starts_with("rust-src")) {
        return Ok(());
    }
    shell.status("Installing", "the Rust standard library sources (rust-src)");
    let mut command = shell.command("rustup");
    command.args(["component", "add", "rust-src"]);
    run(shell, &mut command)
}

/// `program` run through `prefix` (from [`privilege`]: nothing when root, `sudo -n`).
fn privileged(shell: &Shell, prefix: &[String], program: &str) -> std::process::Command {
    let mut command = shell.command(prefix.first().map_or(program, String::as_str));
    command.args(prefix.iter().skip(1));
    if !prefix.is_empty() {
        command.arg(program);
    }
    command
}

/// How this machine may run apt-get: directly as root, through passwordless sudo, or not.
fn privilege(shell: &Shell) -> Option<Vec<String>> {
    if output(shell, "id", &["-u"]).is_some_and(|uid| uid.trim() == "0") {
        Some(vec![])
    } else if output(shell, "sudo", &["-n", "true"]).is_some() {
        Some(vec!["sudo".into(), "-n".into()])
    } else {
        None
    }
}

fn os_release(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(|v| v.trim_matches('"').to_string())
}

/// The Debian mirror the machine already uses (deb822 or one-line sources).
fn debian_mirror() -> String {
    let deb822 = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let classic = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    deb822
        .lines()
        .filter_map(|l| l.strip_prefix("URIs:"))
        .chain(
            classic
                .lines()
                .filter_map(|l| l.strip_prefix("deb "))
                .map(|l| l.split_whitespace().next().unwrap_or("")),
        )
        .map(str::trim)
        .find(|uri| uri.contains("debian") && !uri.contains("security"))
        .unwrap_or("http://deb.debian.org/debian")
        .to_string()
}

fn programs(shell: &Shell) -> Result<(), String> {
    let missing: Vec<(&str, &str)> = PROGRAMS
        .iter()
        .copied()
        .filter(|(binary, _)| !on_path(binary))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
    let binaries: Vec<&str> = missing.iter().map(|(binary, _)| *binary).collect();
    let apt_available = Path::new("/usr/bin/apt-get").exists();
    let Some(prefix) = privilege(shell).filter(|_| apt_available) else {
        return Err(format!(
            "missing {}: install the Debian/Ubuntu packages {} (e.g. `sudo apt-get install {}`; on Debian 12 \
             prefer `-t bookworm-backports`, QEMU 10), then rerun",
            binaries.join(", "),
            packages.join(", "),
            packages.join(" ")
        ));
    };
    let apt = |args: &[&str]| {
        let mut command = privileged(shell, &prefix, "apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        run(shell, &mut command)
    };
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    if os_release("VERSION_CODENAME").as_deref() == Some("bookworm") {
        if !Path::new(BACKPORTS_SOURCE).exists() {
            let source = format!(
                "Types: deb\nURIs: {}\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
                debian_mirror()
            );
            shell.status(
                "Adding",
                format!("the bookworm-backports apt source ({BACKPORTS_SOURCE})"),
            );
            let mut tee = privileged(shell, &prefix, "tee");
            tee.arg(BACKPORTS_SOURCE)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null());
            shell.echo(&tee);
            let mut child = tee
                .spawn()
                .map_err(|e| format!("cannot write {BACKPORTS_SOURCE}: {e}"))?;
            std::io::Write::write_all(&mut child.stdin.take().expect("piped"), source.as_bytes())
                .map_err(|e| format!("cannot write {BACKPORTS_SOURCE}: {e}"))?;
            child
                .wait()
                .map_err(|e| format!("cannot write {BACKPORTS_SOURCE}: {e}"))?;
        }
        install.extend(["-t", "bookworm-backports"]);
    }
    for package in &packages {
        add_foreign_architecture(shell, &mut privileged(shell, &prefix, "dpkg"), package)?;
    }
    shell.status("Installing", format!("{} with apt-get", packages.join(", ")));
    apt(&["update", "-q"])?;
    install.extend(packages.iter().copied());
    apt(&install)?;
    match binaries.iter().find(|b| !on_path(b)) {
        Some(binary) => Err(format!(
            "{binary} is still missing after installing {}",
            packages.join(", ")
        )),
        None => Ok(()),
    }
}
