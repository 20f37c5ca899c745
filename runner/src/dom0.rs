//! A Linux dom0 with the `xl` toolstack, assembled from Debian's packages (of the
//! target's architecture: amd64 for xen-x86_64, arm64 for xen-arm64), so that a Xen
//! image can run as a real domU: created by `xl create` from its `.xl` configuration,
//! its PV console ring read by `xenconsoled`, with xenstore behind it.
//!
//! The kit (the dom0 kernel and an initramfs with busybox, `xl`, `xenstored`,
//! `xenconsoled`, the vif hotplug scripts, `curl`, their libraries and the Xen and bridge
//! kernel modules) is built once into the cache, in a folder named after the recipe, so
//! a changed recipe builds a new kit. Each run appends a small uncompressed cpio holding
//! the image, its `xl` configuration and what the run asks of the dom0 to the cached
//! initramfs, so a new image never rebuilds the kit.
//!
//! The dom0's `/init` relays the domU's console with a prefix and ends the machine when
//! the domain is gone (the target's `end-machine` command, e.g. `isa-debug-exit` on x86,
//! then a poweroff, which makes Xen halt the machine). For an image with a vif it first
//! makes the bridge the `.xl` names, at [`DOM0_ADDRESS`], with a DHCP server that leases
//! [`DOMU_ADDRESS`] (the only lease) to the domU, through netback and the hotplug
//! scripts `xl` runs. For an image with volumes it names each volume's disk (a virtio
//! disk of the dom0, found by its serial) `/dev/unik-volumeN`, which the `.xl`'s `disk`
//! lines hand to blkback. A run may give a command for the dom0 to run once the domU is
//! created (a client, such as `curl`); its output is relayed with its own prefix, its
//! exit status ends the run, and the domU is destroyed after it.
//!
//! The recipe (package list, module order, `xen-init-dom0`, `xl create -c`, a PV dom0
//! with an uncompressed kernel) is the one `shared/docs/PLATFORMS.md` verified.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use unik_targets::{Arch, XlHost};
use unik_ui::Shell;

/// Client programs for commands run in the dom0, with the packages they depend on
/// (resolved with `apt-cache depends --recurse`).
const CLIENT_PACKAGES: &[&str] = &["curl"];
/// Programs the dom0 runs: (path in the unpacked packages, path in the initramfs).
const PROGRAMS: &[(&str, &str)] = &[
    ("bin/busybox", "bin/busybox"),
    ("bin/bash", "bin/bash"),
    ("usr/lib/xen-4.17/bin/xl", "usr/sbin/xl"),
    ("usr/lib/xen-4.17/bin/xenstored", "usr/sbin/xenstored"),
    ("usr/lib/xen-4.17/bin/xenconsoled", "usr/sbin/xenconsoled"),
    ("usr/lib/xen-4.17/bin/xenconsole", "usr/lib/xen-4.17/bin/xenconsole"),
    ("usr/lib/xen-4.17/bin/xen-init-dom0", "usr/sbin/xen-init-dom0"),
    ("usr/bin/xenstore", "usr/bin/xenstore"),
    ("usr/bin/curl", "usr/bin/curl"),
    // The disk hotplug script locks with it; busybox has none.
    ("usr/bin/flock", "usr/bin/flock"),
];
/// The names under which the multi-call `xenstore` program runs (the hotplug scripts use
/// them).
const XENSTORE_COMMANDS: &[&str] = &["read", "write", "rm", "exists", "list", "ls", "chmod", "watch"];
/// Libraries glibc opens at run time rather than naming in `DT_NEEDED` (`xl` aborts with
/// "libgcc_s.so.1 must be installed for pthread_cancel to work" without it).
const OPENED_LIBRARIES: &[&str] = &["libgcc_s.so.1"];
/// Kernel modules, in load order; the modules each depends on (from its `.modinfo`: the
/// package has no `modules.dep`) are loaded before it. Then the target's `disk-modules`.
const MODULES: &[&str] = &[
    "xen-evtchn",
    "xen-privcmd",
    "xenfs",
    "xen-gntdev",
    "xen-gntalloc",
    "llc",
    "stp",
    "bridge",
    "xen-netback",
    "xen-blkback",
];
/// Where the image is inside the dom0 (the kernel its `.xl` names).
pub const DOMU_IMAGE: &str = "/domu/image";
/// Where the domU's packed files are in the dom0 (its `.xl` names them as its `ramdisk`).
pub const DOMU_RAMDISK: &str = "/domu/files.cpio";

/// The serial numbers of the dom0's disks for volumes start so (then the volume's index):
/// the dom0 finds each disk by it and names it `/dev/<serial>` for the `.xl`.
pub const DISK_SERIAL_PREFIX: &str = "unik-volume";

/// A volume's disk in the dom0, served to the domU as a vbd.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Dom0Disk {
    /// Where the image mounts it.
    pub volume: String,
    /// The disk's serial number in QEMU, by which the dom0 finds it.
    pub serial: String,
    /// Whether the domain may only read it.
    pub read_only: bool,
}

impl Dom0Disk {
    /// The disk as the `.xl` in the dom0 names it.
    pub fn xl_disk(&self) -> unik_targets::xl::XlDisk {
        unik_targets::xl::XlDisk {
            volume: self.volume.clone(),
            target: format!("/dev/{}", self.serial),
            read_only: self.read_only,
        }
    }
}

/// Lines of the domU's console, as the dom0 relays them.
pub const DOMU_PREFIX: &str = "unik-domu: ";
/// Lines of the command run in the dom0, as the dom0 relays them; its exit status comes
/// as a `unik: exit status N` line with this prefix.
pub const COMMAND_PREFIX: &str = "unik-dom0-command: ";
/// The dom0 has started the domU.
pub const READY_LINE: &str = "unik-dom0: creating the domU";
/// The dom0's address on the bridge of a domU with a vif.
pub const DOM0_ADDRESS: &str = "192.168.77.1";
/// The address the dom0's DHCP server leases to the domU (its only lease); commands run
/// in the dom0 find it in `$UNIK_DOMU_ADDRESS`.
pub const DOMU_ADDRESS: &str = "192.168.77.2";

/// The dom0's `/init`.
const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run /tmp /var/lock /var/log/xen/console /var/lib/xen /var/lib/xenstored
mount -t devpts devpts /dev/pts
# What udev would make: the hotplug scripts' locking stats /dev/stdin.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs run /run
mkdir -p /run/xen /run/xenstored
for module in $(cat /lib/modules/order); do insmod /lib/modules/$module.ko; done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid
xen-init-dom0 > /dev/null
xenconsoled --log=guest --log-dir=/var/log/xen/console
if [ -f /domu/disks ]; then
    # Each volume's disk, found by its serial number (waiting for the driver to probe
    # it), named /dev/<serial> for the .xl.
    while IFS= read -r serial; do
        device=
        for attempt in $(seq 100); do
            for block in /sys/block/*; do
                [ "$(cat "$block/serial" 2>/dev/null)" = "$serial" ] && device=/dev/${block##*/}
            done
            [ -n "$device" ] && break
            sleep 0.1
        done
        if [ -n "$device" ]; then
            ln -s "$device" "/dev/$serial"
        else
            echo "unik-dom0: no disk with serial $serial: the volume cannot reach the domU"
        fi
    done < /domu/disks
fi
if [ -f /domu/bridge ]; then
    # The bridge the domU's vif joins, and DHCP on it with one lease: the domU's.
    bridge=$(cat /domu/bridge)
    brctl addbr "$bridge"
    ip link set lo up
    ip addr add @DOM0_ADDRESS@/24 dev "$bridge"
    ip link set "$bridge" up
    printf 'start @DOMU_ADDRESS@\nend @DOMU_ADDRESS@\nmax_leases 1\ninterface %s\nlease_file /run/udhcpd.leases\noption subnet 255.255.255.0\noption lease 86400\n' "$bridge" > /run/udhcpd.conf
    touch /run/udhcpd.leases
    udhcpd -a 100 /run/udhcpd.conf
fi
relay() { while IFS= read -r line; do echo "$1$line"; done; }
echo "@READY@"
if [ -f /domu/command ]; then
    # The console in the background, its input a pipe nobody writes (xenconsole ends at
    # the end of its input); the command in the foreground, then the domU is destroyed.
    mkfifo /run/console-input
    exec 3<>/run/console-input
    xl create -c /domu/domu.xl <&3 | relay "@DOMU_PREFIX@" &
    (cd /tmp && UNIK_DOMU_ADDRESS=@DOMU_ADDRESS@ sh /domu/command < /dev/null; echo "@STATUS_PREFIX@$?") 2>&1 | relay "@COMMAND_PREFIX@"
    for domain in $(xl list | awk 'NR > 2 { print $2 }'); do xl destroy "$domain"; done
    wait
else
    # The domU's console, prefixed; xl's own messages (stderr) are the dom0's.
    xl create -c /domu/domu.xl | relay "@DOMU_PREFIX@"
    echo "unik-dom0: the domU's console closed"
fi
# Wait until the domain is gone, then end the machine.
while [ "$(xl list 2>/dev/null | wc -l)" -gt 2 ]; do sleep 0.2; done
@END_MACHINE@
poweroff -f
"#;

/// The `/init` with the recipe's values in place of its `@NAME@` placeholders.
fn init_script(host: &XlHost) -> String {
    INIT.replace("@END_MACHINE@", host.end_machine.as_deref().unwrap_or(":"))
        .replace("@READY@", READY_LINE)
        .replace("@STATUS_PREFIX@", unik_boot_abi::EXIT_STATUS_PREFIX)
        .replace("@DOMU_PREFIX@", DOMU_PREFIX)
        .replace("@COMMAND_PREFIX@", COMMAND_PREFIX)
        .replace("@DOM0_ADDRESS@", DOM0_ADDRESS)
        .replace("@DOMU_ADDRESS@", DOMU_ADDRESS)
}

/// A name for the recipe (everything that decides the kit's contents), so that a cached
/// kit of another recipe is never used: FNV-1a over its parts.
fn recipe_id(host: &XlHost) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [init_script(host), host.kernel_metapackage.clone()]
        .into_iter()
        .chain(host.debian_architecture.clone())
        .chain(host.packages.iter().cloned())
        .chain(host.library_directories.iter().cloned())
        .chain(host.disk_modules.iter().cloned())
        .chain(
            CLIENT_PACKAGES
                .iter()
                .chain(MODULES)
                .chain(OPENED_LIBRARIES)
                .map(|s| s.to_string()),
        )
        .chain(PROGRAMS.iter().map(|(from, to)| format!("{from}>{to}")))
        .chain(XENSTORE_COMMANDS.iter().map(|s| s.to_string()));
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{:08x}", hash >> 32)
}

/// What the dom0 boots with.
#[derive(Clone, Debug)]
pub struct Dom0 {
    /// The dom0 kernel (uncompressed when `xz` could unpack it).
    pub kernel: PathBuf,
    /// The initramfs with everything but the domU (gzip-compressed cpio).
    pub initramfs: PathBuf,
}

/// Why the dom0 kit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Dom0Error {
    /// A command failed.
    #[error("building the Linux dom0 for `xl` failed: `{command}`{detail}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("building the Linux dom0 for `xl` failed: {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Something the recipe needs is not in the packages.
    #[error("building the Linux dom0 for `xl` failed: {0}")]
    Missing(String),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Dom0Error {
    let path = path.to_path_buf();
    move |source| Dom0Error::Io { action, path, source }
}

fn run(shell: &Shell, command: &mut Command) -> Result<Vec<u8>, Dom0Error> {
    shell.echo(command);
    let line = unik_ui::display_command(command);
    let output = unik_ui::supervise::output(command).map_err(|e| Dom0Error::Command {
        command: line.clone(),
        detail: format!(": {e}"),
    })?;
    if !output.status.success() {
        return Err(Dom0Error::Command {
            command: line,
            detail: format!(": {}", String::from_utf8_lossy(&output.stderr).trim()),
        });
    }
    Ok(output.stdout)
}

/// Where the dom0 kit for `arch` and `host` is (or will be) in `cache`:
/// `<cache>/dom0-<arch>-<recipe>/`.
pub fn kit_paths(cache: &Path, arch: Arch, host: &XlHost) -> Dom0 {
    let folder = cache.join(format!("dom0-{}-{}", arch.name(), recipe_id(host)));
    Dom0 {
        kernel: folder.join("vmlinux"),
        initramfs: folder.join("initramfs.cpio.gz"),
    }
}

/// The dom0 kit in `cache` (see [`kit_paths`]), made there first if need be: `apt-get
/// download` of the packages, `dpkg -x` (nothing is installed), the kernel uncompressed,
/// the initramfs assembled. Kits of other recipes are removed.
pub fn ensure(shell: &Shell, cache: &Path, arch: Arch, host: &XlHost) -> Result<Dom0, Dom0Error> {
    let kit = kit_paths(cache, arch, host);
    if kit.kernel.is_file() && kit.initramfs.is_file() {
        return Ok(kit);
    }
    let folder = kit.kernel.parent().unwrap_or(cache).to_path_buf();
    let name = folder.file_name().unwrap_or_default().to_os_string();
    let prefix = format!("dom0-{}", arch.name());
    // Kits of earlier recipes (the cache is unik's own folder).
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(&prefix) && entry.file_name() != *name;
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    std::fs::create_dir_all(&folder).map_err(io("cannot create", &folder))?;
    let work = tempfile::tempdir_in(&folder).map_err(io("cannot create a folder in", &folder))?;
    shell.status(
        "Assembling",
        format!(
            "a Linux dom0 with xl from Debian's packages (once; cached in {})",
            folder.display()
        ),
    );
    let metapackage = &host.package(&host.kernel_metapackage);
    let depends = run(shell, shell.owned_command("apt-cache").args(["depends", metapackage]))?;
    let kernel_package = String::from_utf8_lossy(&depends)
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Depends: ")?
                .strip_prefix("linux-image-")
                .map(str::to_string)
        })
        .map(|version| format!("linux-image-{version}"))
        .ok_or_else(|| Dom0Error::Missing(format!("`apt-cache depends {metapackage}` names no kernel")))?;
    let client_closure = run(
        shell,
        shell
            .owned_command("apt-cache")
            .args([
                "depends",
                "--recurse",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
            ])
            .args(CLIENT_PACKAGES.iter().map(|name| host.package(name))),
    )?;
    let mut packages: std::collections::BTreeSet<String> =
        host.packages.iter().map(|name| host.package(name)).collect();
    // Package names start a line; dependencies are indented; virtual packages are `<…>`.
    packages.extend(
        String::from_utf8_lossy(&client_closure)
            .lines()
            .filter(|line| !line.starts_with([' ', '<']) && !line.is_empty())
            .map(str::to_string),
    );
    packages.insert(kernel_package);
    let debs = work.path().join("debs");
    std::fs::create_dir_all(&debs).map_err(io("cannot create", &debs))?;
    run(
        shell,
        shell
            .owned_command("apt-get")
            .current_dir(&debs)
            .arg("download")
            .args(&packages),
    )?;
    let stage = work.path().join("stage");
    let entries = std::fs::read_dir(&debs).map_err(io("cannot read", &debs))?;
    for deb in entries.flatten() {
        run(shell, shell.owned_command("dpkg").arg("-x").arg(deb.path()).arg(&stage))?;
    }

    let kernel = unpacked_kernel(shell, &stage)?;
    let mut archive = Cpio::default();
    for directory in [
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        "usr/lib/xen-4.17",
        "usr/lib/xen-4.17/bin",
    ] {
        archive.directory(directory);
    }
    for directory in [
        "proc",
        "sys",
        "dev",
        "run",
        "tmp",
        "var",
        "var/lib",
        "var/log",
        "etc",
        "etc/xen",
        "etc/xen/scripts",
        "domu",
    ] {
        archive.directory(directory);
    }
    archive.symlink("var/run", "/run");
    archive.file("init", 0o755, init_script(host).as_bytes());
    let mut libraries = std::collections::BTreeSet::new();
    let mut interpreter = None;
    for (from, to) in PROGRAMS {
        let data = std::fs::read(stage.join(from)).map_err(io("cannot read", &stage.join(from)))?;
        needed_libraries(host, &data, &stage, &mut libraries)?;
        interpreter = interpreter.or_else(|| program_interpreter(&data));
        archive.file(to, 0o755, &data);
    }
    // The libraries in the packages' own multiarch folder, and the dynamic loader where
    // the programs look for it.
    let library_folder = host
        .library_directories
        .first()
        .ok_or_else(|| Dom0Error::Missing("the target names no library directory".into()))?;
    archive.directory("lib");
    if library_folder != "lib" {
        archive.directory(library_folder);
    }
    for (name, path) in &libraries {
        archive.file(
            &format!("{library_folder}/{name}"),
            0o755,
            &std::fs::read(path).map_err(io("cannot read", path))?,
        );
    }
    if let Some(interpreter) = interpreter {
        let link = interpreter.trim_start_matches('/');
        let target = format!("/{library_folder}/{}", host.dynamic_loader);
        if link != target.trim_start_matches('/') {
            if let Some((folder, _)) = link.rsplit_once('/')
                && folder != "lib"
            {
                archive.directory(folder);
            }
            archive.symlink(link, &target);
        }
    }
    for command in XENSTORE_COMMANDS {
        archive.symlink(&format!("usr/bin/xenstore-{command}"), "xenstore");
    }
    // The hotplug scripts `xl` runs for a vif (vif-bridge and the files it sources).
    let scripts = stage.join("etc/xen/scripts");
    let mut names: Vec<_> = std::fs::read_dir(&scripts)
        .map_err(io("cannot read", &scripts))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let data = std::fs::read(&path).map_err(io("cannot read", &path))?;
        archive.file(&format!("etc/xen/scripts/{name}"), 0o755, &data);
    }
    let xl_conf = stage.join("etc/xen/xl.conf");
    if let Ok(text) = std::fs::read(&xl_conf) {
        archive.file("etc/xen/xl.conf", 0o644, &text);
    }
    archive.directory("lib/modules");
    let wanted = MODULES
        .iter()
        .copied()
        .chain(host.disk_modules.iter().map(String::as_str));
    let modules = modules_in_load_order(&stage, wanted)?;
    for (name, data) in &modules {
        archive.file(&format!("lib/modules/{name}.ko"), 0o644, data);
    }
    let order: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    archive.file("lib/modules/order", 0o644, format!("{}\n", order.join(" ")).as_bytes());
    let mut compressed = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    compressed
        .write_all(&archive.finish())
        .map_err(io("cannot compress", &kit.initramfs))?;
    let compressed = compressed.finish().map_err(io("cannot compress", &kit.initramfs))?;
    let written = |path: &Path, bytes: &[u8]| -> Result<(), Dom0Error> {
        let temporary = work.path().join("out");
        std::fs::write(&temporary, bytes).map_err(io("cannot write", &temporary))?;
        std::fs::rename(&temporary, path).map_err(io("cannot move into place", path))
    };
    written(&kit.kernel, &kernel)?;
    written(&kit.initramfs, &compressed)?;
    Ok(kit)
}

/// The kernel of the unpacked packages, uncompressed (Xen unpacking xz under TCG costs
/// seconds per boot); the bzImage itself when `xz` is not there to unpack it.
fn unpacked_kernel(shell: &Shell, stage: &Path) -> Result<Vec<u8>, Dom0Error> {
    let boot = stage.join("boot");
    let image = std::fs::read_dir(&boot)
        .map_err(io("cannot read", &boot))?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or_else(|| Dom0Error::Missing("the kernel package holds no boot/vmlinuz-*".into()))?;
    let bz_image = std::fs::read(&image).map_err(io("cannot read", &image))?;
    // An arm64 Image (magic `ARM\x64` at 0x38) is uncompressed already.
    if bz_image.get(0x38..0x3c) == Some(b"ARM\x64") {
        return Ok(bz_image);
    }
    const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
    let Some(start) = bz_image.windows(XZ_MAGIC.len()).position(|window| window == XZ_MAGIC) else {
        return Ok(bz_image);
    };
    let payload = stage.join("payload.xz");
    std::fs::write(&payload, &bz_image[start..]).map_err(io("cannot write", &payload))?;
    let mut command = shell.owned_command("xz");
    command
        .args(["--decompress", "--stdout", "--single-stream"])
        .arg(&payload);
    match run(shell, &mut command) {
        Ok(vmlinux) if vmlinux.starts_with(b"\x7fELF") => Ok(vmlinux),
        _ => Ok(bz_image),
    }
}

/// The modules `wanted` and those they depend on, each once, each after its
/// dependencies: (file name without `.ko`, contents).
fn modules_in_load_order<'a>(
    stage: &Path,
    wanted: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, Vec<u8>)>, Dom0Error> {
    fn visit(
        stage: &Path,
        name: &str,
        out: &mut Vec<(String, Vec<u8>)>,
        path: &mut Vec<String>,
    ) -> Result<(), Dom0Error> {
        // The kernel treats `-` and `_` in module names alike; `depends=` uses `_`.
        let key = name.replace('-', "_");
        if out.iter().any(|(done, _)| done.replace('-', "_") == key) {
            return Ok(());
        }
        if path.contains(&key) {
            return Err(Dom0Error::Missing(format!(
                "kernel modules depend on each other in a cycle: {}",
                path.join(" → ")
            )));
        }
        let file = find_module(stage, name)?;
        let data = std::fs::read(&file).map_err(io("cannot read", &file))?;
        path.push(key);
        for dependency in module_dependencies(&data) {
            visit(stage, &dependency, out, path)?;
        }
        path.pop();
        let stem = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        out.push((stem, data));
        Ok(())
    }
    let mut out = Vec::new();
    for name in wanted {
        visit(stage, name, &mut out, &mut Vec::new())?;
    }
    Ok(out)
}

/// The modules a kernel module needs loaded first: its `.modinfo` section's `depends=`.
fn module_dependencies(module: &[u8]) -> Vec<String> {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(module) else {
        return Vec::new();
    };
    let Some(info) = file.section_by_name(".modinfo").and_then(|section| section.data().ok()) else {
        return Vec::new();
    };
    info.split(|&b| b == 0)
        .filter_map(|entry| entry.strip_prefix(b"depends="))
        .flat_map(|list| {
            String::from_utf8_lossy(list)
                .split(',')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Where module `name` is in the unpacked kernel package (`-` and `_` alike).
fn find_module(stage: &Path, name: &str) -> Result<PathBuf, Dom0Error> {
    fn search(dir: &Path, file: &str) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(found) = search(&path, file) {
                    return Some(found);
                }
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().replace('-', "_") == file)
            {
                return Some(path);
            }
        }
        None
    }
    search(&stage.join("lib/modules"), &format!("{}.ko", name.replace('-', "_")))
        .ok_or_else(|| Dom0Error::Missing(format!("no kernel module {name}.ko in the kernel package")))
}

/// Adds the shared libraries `elf` needs (and theirs, and the dynamic loader) to `found`,
/// by file name, from the unpacked packages.
fn needed_libraries(
    host: &XlHost,
    elf: &[u8],
    stage: &Path,
    found: &mut std::collections::BTreeSet<(String, PathBuf)>,
) -> Result<(), Dom0Error> {
    let mut pending: Vec<String> = dynamic_needs(elf);
    if !pending.is_empty() {
        pending.push(host.dynamic_loader.clone());
        pending.extend(OPENED_LIBRARIES.iter().map(|name| name.to_string()));
    }
    while let Some(name) = pending.pop() {
        if found.iter().any(|(known, _)| *known == name) {
            continue;
        }
        let path = host
            .library_directories
            .iter()
            .map(|dir| stage.join(dir).join(&name))
            .find(|path| path.exists())
            .ok_or_else(|| Dom0Error::Missing(format!("no {name} in the packages (a program of the dom0 needs it)")))?;
        let path = path.canonicalize().map_err(io("cannot resolve", &path))?;
        let data = std::fs::read(&path).map_err(io("cannot read", &path))?;
        pending.extend(dynamic_needs(&data));
        found.insert((name, path));
    }
    Ok(())
}

/// The program interpreter (`PT_INTERP`) of a dynamically linked ELF program.
fn program_interpreter(elf: &[u8]) -> Option<String> {
    use object::read::elf::{ElfFile64, ProgramHeader};
    let file = ElfFile64::<object::Endianness>::parse(elf).ok()?;
    let endian = file.endian();
    file.elf_program_headers()
        .iter()
        .find_map(|header| header.interpreter(endian, elf).ok().flatten())
        .map(|path| String::from_utf8_lossy(path).into_owned())
}

/// The `DT_NEEDED` names of an ELF file (none for a static one, or for no ELF at all).
fn dynamic_needs(elf: &[u8]) -> Vec<String> {
    use object::read::elf::{Dyn, ElfFile64};
    let Ok(file) = ElfFile64::<object::Endianness>::parse(elf) else {
        return Vec::new();
    };
    let endian = file.endian();
    let sections = file.elf_section_table();
    let Ok(Some((entries, strings_index))) = sections.dynamic(endian, elf) else {
        return Vec::new();
    };
    let Ok(strings) = sections.strings(endian, elf, strings_index) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|entry| entry.d_tag(endian) == object::elf::DT_NEEDED)
        .filter_map(|entry| entry.string(endian, strings).ok())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect()
}

/// A cpio archive in the `newc` format the Linux initramfs unpacker reads (written by the
/// `cpio` crate).
#[derive(Default)]
pub struct Cpio {
    bytes: Vec<u8>,
    inode: u32,
}

impl Cpio {
    fn entry(&mut self, builder: cpio::NewcBuilder, data: &[u8]) {
        self.inode += 1;
        let mut writer = builder
            .ino(self.inode)
            .nlink(1)
            .write(&mut self.bytes, data.len() as u32);
        writer.write_all(data).expect("writing to memory cannot fail");
        writer.finish().expect("writing to memory cannot fail");
    }

    /// A directory.
    pub fn directory(&mut self, name: &str) {
        self.entry(cpio::NewcBuilder::new(name).mode(0o040755), &[]);
    }

    /// A regular file with permissions `permissions`.
    pub fn file(&mut self, name: &str, permissions: u32, data: &[u8]) {
        self.entry(cpio::NewcBuilder::new(name).mode(0o100000 | permissions), data);
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(cpio::NewcBuilder::new(name).mode(0o120777), target.as_bytes());
    }

    /// The archive, with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        cpio::newc::trailer(&mut self.bytes).expect("writing to memory cannot fail");
        self.bytes
    }
}

/// What one run puts into the dom0 besides the kit.
#[derive(Clone, Copy, Debug)]
pub struct DomURun<'a> {
    /// The image.
    pub image: &'a Path,
    /// Its `xl` configuration, which must name the kernel `/domu/image`.
    pub xl_config: &'a str,
    /// The bridge its vif joins, which the dom0 makes; `None` without a vif.
    pub bridge: Option<&'a str>,
    /// A shell command the dom0 runs once the domU is created.
    pub command: Option<&'a str>,
    /// The image's packed files, which its `.xl` names as [`DOMU_RAMDISK`].
    pub ramdisk: Option<&'a Path>,
    /// The volumes' disks, which the dom0 finds and names for the `.xl`.
    pub disks: &'a [Dom0Disk],
}

/// The initramfs for one run: the cached one, padded, then a cpio with what `run` holds.
pub fn initramfs_with(dom0: &Dom0, run: &DomURun<'_>, into: &Path) -> Result<(), Dom0Error> {
    let mut bytes = std::fs::read(&dom0.initramfs).map_err(io("cannot read", &dom0.initramfs))?;
    bytes.resize(bytes.len().next_multiple_of(512), 0);
    let mut overlay = Cpio::default();
    overlay.file(
        "domu/image",
        0o644,
        &std::fs::read(run.image).map_err(io("cannot read", run.image))?,
    );
    overlay.file("domu/domu.xl", 0o644, run.xl_config.as_bytes());
    if let Some(files) = run.ramdisk {
        let name = DOMU_RAMDISK.trim_start_matches('/');
        overlay.file(name, 0o644, &std::fs::read(files).map_err(io("cannot read", files))?);
    }
    if let Some(bridge) = run.bridge {
        overlay.file("domu/bridge", 0o644, bridge.as_bytes());
    }
    if let Some(command) = run.command {
        overlay.file("domu/command", 0o644, format!("{command}\n").as_bytes());
    }
    if !run.disks.is_empty() {
        let serials: String = run.disks.iter().map(|disk| format!("{}\n", disk.serial)).collect();
        overlay.file("domu/disks", 0o644, serials.as_bytes());
    }
    bytes.extend_from_slice(&overlay.finish());
    std::fs::write(into, bytes).map_err(io("cannot write", into))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_entries_are_newc_and_aligned() {
        let mut archive = Cpio::default();
        archive.file("a", 0o644, b"xyz");
        archive.symlink("l", "/t");
        let bytes = archive.finish();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(&bytes[110..112], b"a\0");
        // Header 110 + name 2 = 112 (aligned), then the data, padded to 116.
        assert_eq!(&bytes[112..115], b"xyz");
        assert_eq!(bytes[115], 0);
        assert!(bytes.len().is_multiple_of(4));
        assert!(bytes.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn the_init_script_has_every_placeholder_filled_and_the_recipe_id_follows_it() {
        let target = unik_targets::find("xen-x86_64").unwrap();
        let host = target.xl_host().unwrap();
        let init = init_script(host);
        assert!(!init.contains('@'), "{init}");
        assert!(init.contains(&format!("UNIK_DOMU_ADDRESS={DOMU_ADDRESS} sh /domu/command")));
        assert!(init.contains("insmod /lib/modules/$module.ko"));
        assert!(
            init.contains("of=/dev/port"),
            "x86's dom0 ends QEMU through isa-debug-exit"
        );
        let arm_target = unik_targets::find("xen-arm64").unwrap();
        let arm = arm_target.xl_host().unwrap();
        assert!(!init_script(arm).contains("/dev/port"));
        assert_ne!(recipe_id(arm), recipe_id(host));
        let id = recipe_id(host);
        assert_eq!(id.len(), 8);
        assert_eq!(id, recipe_id(host), "the same recipe, the same kit");
    }

    #[test]
    fn dynamic_needs_of_a_host_program() {
        // This test binary is a dynamically linked ELF of the host: it needs libc.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(
            dynamic_needs(&me).iter().any(|name| name.starts_with("libc.so")),
            "{:?}",
            dynamic_needs(&me)
        );
        assert!(dynamic_needs(b"not an elf").is_empty());
        assert!(program_interpreter(&me).is_some_and(|path| path.starts_with('/')));
    }
}
