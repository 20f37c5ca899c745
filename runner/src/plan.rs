//! What a boot will do, as plain data: [`prepare`] turns a [`BootRequest`] into a
//! [`BootPlan`] (the QEMU command, the files to fetch and make first, how to read the
//! console) without touching the machine; [`crate::execute`] carries it out; `unik run
//! --dry-run` prints it.

use crate::network::{Network, PortForward};
use crate::volume::VolumeOption;
use crate::{RunError, accel, devicetree, dom0, hypervisor};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use unik_linker::record::{BuildRecord, Device};
use unik_targets::{BootMode, ByteSize, Handoff, NetworkDevice, Role, Target, VolumeDevice, xl};

/// What to boot, and how.
#[derive(Clone, Debug)]
pub struct BootRequest<'a> {
    /// Target definition.
    pub target: &'a Target,
    /// Image file.
    pub image: &'a Path,
    /// How it boots; `None`: the target's default.
    pub mode: Option<BootMode>,
    /// Guest memory.
    pub memory: ByteSize,
    /// Boot command line.
    pub cmdline: String,
    /// Accelerator (already resolved, see [`accel::resolve`]).
    pub accel: accel::Resolved,
    /// Stop the VM after this long.
    pub timeout: Option<Duration>,
    /// A NIC on QEMU's user network and the ports forwarded to it.
    pub network: Option<Network>,
    /// For an `xl` domU: the bridge of its vif (which the dom0 makes), if it has one.
    pub vif_bridge: Option<String>,
    /// For an `xl` domU: a shell command the dom0 runs once the domU exists.
    pub dom0_command: Option<String>,
    /// The packed files the image boots with as its initial ramdisk.
    pub ramdisk: Option<&'a Path>,
    /// The disk images of the image's volumes, in the order it mounts them.
    pub volumes: Vec<VolumeOption>,
    /// Where hypervisors and the dom0 kit are cached.
    pub cache: PathBuf,
}

/// What `unik run` asks beyond the image: the options a user gives.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Boot as an `xl` domU of a Linux dom0 (`--domu`).
    pub domu: bool,
    /// Guest memory (`--memory`); `None`: the build record's.
    pub memory: Option<ByteSize>,
    /// Boot command line.
    pub cmdline: String,
    /// Ports to forward (`--publish`).
    pub publish: Vec<PortForward>,
    /// A command for the dom0 (`--in-dom0`).
    pub dom0_command: Option<String>,
    /// Stop the VM after this long.
    pub timeout: Option<Duration>,
    /// Disk images for the image's volumes (`--volume`).
    pub volumes: Vec<VolumeOption>,
}

impl RunOptions {
    /// Checks what can be checked before the image exists: the memory against `target`'s
    /// range, the command line against what its hypervisor passes on, and whether the
    /// boot can attach disks for the `volumes` the manifest declares. The image's own
    /// need is checked against its record in [`BootRequest::for_image`].
    pub fn check(&self, target: &Target, volumes: &[String]) -> Result<(), RunError> {
        if let Some(memory) = self.memory {
            target.check_memory(memory).map_err(RunError::Memory)?;
        }
        target
            .check_command_line(&self.cmdline)
            .map_err(RunError::CommandLine)?;
        let mode = self.boot_mode(target)?;
        if !volumes.is_empty() && target.volume_device(mode) == VolumeDevice::None {
            return Err(RunError::NoDiskDevice {
                target: target.name.clone(),
                as_domu: target.volume_device(BootMode::XlDomU) != VolumeDevice::None,
            });
        }
        Ok(())
    }

    /// How the image boots on `target`: as an `xl` domU if asked, else the default.
    fn boot_mode(&self, target: &Target) -> Result<BootMode, RunError> {
        if !self.domu {
            return Ok(target.default_boot_mode());
        }
        if !target.boot_modes().contains(&BootMode::XlDomU) {
            return Err(RunError::NoXlHost(target.name.clone()));
        }
        Ok(BootMode::XlDomU)
    }
}

impl<'a> BootRequest<'a> {
    /// The request that boots the image `record` describes as `options` ask, checked
    /// against what the image needs (memory, a network device) and what `target` can do.
    pub fn for_image(
        target: &'a Target,
        record: &'a BuildRecord,
        options: RunOptions,
        accel: accel::Resolved,
        cache: PathBuf,
    ) -> Result<BootRequest<'a>, RunError> {
        let image = record.image.as_path();
        options.check(target, &record.volumes)?;
        let memory = match options.memory {
            Some(memory) if memory.bytes() < record.memory_required => {
                return Err(RunError::MemoryTooSmall {
                    memory,
                    required: ByteSize::new(record.memory_required),
                    target: target.name.clone(),
                });
            }
            Some(memory) => memory,
            None => ByteSize::new(record.memory),
        };
        let mode = options.boot_mode(target)?;
        let has_nic = record.needs(Device::Nic);
        if !options.publish.is_empty() {
            if !has_nic {
                return Err(RunError::PublishWithoutNic(image.to_path_buf()));
            }
            if mode == BootMode::XlDomU {
                return Err(RunError::PublishToDomU);
            }
        }
        let network = match (has_nic, mode, target.network_device()) {
            (false, ..) | (true, BootMode::XlDomU, _) => None,
            (true, _, NetworkDevice::QemuNic(_)) => Some(Network {
                publish: options.publish,
            }),
            (true, _, device) => {
                return Err(RunError::NoNetworkDevice {
                    image: image.to_path_buf(),
                    target: target.name.clone(),
                    as_domu: device == NetworkDevice::XenVif,
                });
            }
        };
        let volumes = volumes_in_order(record, options.volumes)?;
        Ok(BootRequest {
            target,
            image,
            mode: Some(mode),
            memory,
            cmdline: options.cmdline,
            accel,
            timeout: options.timeout,
            network,
            vif_bridge: record.vif_bridge.clone().filter(|_| mode == BootMode::XlDomU),
            dom0_command: options.dom0_command,
            ramdisk: record.files.as_ref().map(|files| files.archive.as_path()),
            volumes,
            cache,
        })
    }
}

/// The `--volume`s given, checked against the image's volumes and put in their order.
fn volumes_in_order(record: &BuildRecord, mut given: Vec<VolumeOption>) -> Result<Vec<VolumeOption>, RunError> {
    for (index, option) in given.iter().enumerate() {
        if !record.volumes.contains(&option.guest) {
            return Err(RunError::UnknownVolume {
                guest: option.guest.clone(),
                declared: record.volumes.clone(),
            });
        }
        if given[..index].iter().any(|earlier| earlier.guest == option.guest) {
            return Err(RunError::VolumeTwice(option.guest.clone()));
        }
    }
    record
        .volumes
        .iter()
        .map(|guest| {
            let at = given.iter().position(|option| &option.guest == guest);
            at.map(|at| given.remove(at))
                .ok_or_else(|| RunError::MissingVolume(guest.clone()))
        })
        .collect()
}

/// A command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommandLine {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

impl CommandLine {
    /// As a shell would read it.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|word| unik_ui::shell_word(word))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Something a boot needs that is made once into the cache (downloaded on first use).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Fetch {
    /// The hypervisor from its Debian package.
    Hypervisor {
        /// The package.
        package: String,
        /// Where the binary is cached.
        path: PathBuf,
    },
    /// The Linux dom0 with `xl`, from Debian's packages.
    Dom0Kit {
        /// Its kernel.
        kernel: PathBuf,
        /// Its initramfs.
        initramfs: PathBuf,
    },
}

/// A file a boot makes in its run folder before QEMU starts.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Preparation {
    /// QEMU's own device tree for the machine, dumped with `dump`, with the hypervisor's
    /// boot nodes added.
    DeviceTree {
        /// The dump command.
        dump: CommandLine,
        /// Where the dump goes.
        dumped: PathBuf,
        /// The tree QEMU boots with.
        path: PathBuf,
        /// The hypervisor's command line in `/chosen`.
        xen_cmdline: String,
        /// The kernel module: the image, or a Linux dom0's kernel.
        kernel: PathBuf,
        /// Where QEMU's loader puts the kernel.
        module_address: u64,
        /// The kernel's command line; `None`: the image's (with the host's time when the
        /// plan adds it).
        kernel_cmdline: Option<String>,
        /// A dom0's initramfs and where QEMU's loader puts it.
        ramdisk: Option<(PathBuf, u64)>,
        /// The kernel's role.
        role: Role,
    },
    /// A volume's disk image: made and formatted with `mke2fs` if missing and a size is
    /// given, then checked to hold ext2.
    Volume {
        /// The file.
        file: PathBuf,
        /// Its size if it is to be made.
        size: Option<ByteSize>,
    },
    /// The dom0's initramfs with the image, its `.xl` and the run's requests appended.
    Dom0Initramfs {
        /// Where it goes.
        path: PathBuf,
        /// The `.xl` the dom0 creates the domain from.
        xl_config: String,
        /// The vif's bridge, which the dom0 makes.
        bridge: Option<String>,
        /// The command the dom0 runs.
        command: Option<String>,
        /// The image's packed files, its ramdisk.
        ramdisk: Option<PathBuf>,
        /// The volumes' disks, which the dom0 names for the `.xl`.
        disks: Vec<dom0::Dom0Disk>,
    },
}

/// How the runner reads the console of this boot.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConsoleReading {
    /// Lines the dom0 relays with these prefixes are the guest's (an `xl` domU); the
    /// dom0's other lines are log.
    pub relay_prefixes: Vec<String>,
    /// After the hypervisor's log prefix, what marks a dom0less domU's console line.
    pub domu_marker: Option<String>,
}

/// Everything a boot will do.
#[derive(Clone, Debug, Serialize)]
pub struct BootPlan {
    /// Target name.
    pub target: String,
    /// How the image boots.
    pub mode: BootMode,
    /// The image.
    pub image: PathBuf,
    /// Guest memory.
    pub memory: ByteSize,
    /// The accelerator.
    pub accel: &'static str,
    /// The guest's command line.
    pub cmdline: String,
    /// Whether the run adds the host's time to the guest's command line
    /// (`unik.time=SECONDS`, for a guest without a wall clock).
    pub host_time: bool,
    /// The image's packed files, which it boots with as its ramdisk.
    pub files: Option<PathBuf>,
    /// The timeout.
    #[serde(skip)]
    pub timeout: Option<Duration>,
    /// What is fetched into the cache first (if it is not there yet).
    pub fetch: Vec<Fetch>,
    /// Where fetched things are cached.
    pub cache: PathBuf,
    /// The run's own folder, made before and removed after the boot.
    pub run_dir: PathBuf,
    /// Files made in the run folder before QEMU starts.
    pub prepare: Vec<Preparation>,
    /// The QEMU command.
    pub qemu: CommandLine,
    /// The Debian package that has QEMU.
    pub qemu_package: String,
    /// How the console is read.
    pub console: ConsoleReading,
    /// The target, for the console protocol.
    #[serde(skip)]
    pub definition: Target,
}

/// A folder for one run's files (not made yet): unique among the live processes of this
/// machine (a dead one's leftover is replaced when the run starts).
fn run_dir() -> PathBuf {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("unik-run-{}-{run}", std::process::id()))
}

/// QEMU's memory for the machine: the guest's, plus the hypervisor's own and a dom0's.
fn machine_memory(request: &BootRequest<'_>, mode: BootMode) -> ByteSize {
    let Some(hypervisor) = &request.target.machine.hypervisor else {
        return request.memory;
    };
    let memory_mib = request.memory.bytes().div_ceil(1 << 20);
    let dom0 = match (mode, request.target.xl_host()) {
        (BootMode::XlDomU, Some(host)) => host.dom0_memory.bytes(),
        _ => 0,
    };
    ByteSize::new((memory_mib << 20) + hypervisor.overhead.bytes() + dom0)
}

/// QEMU with the target's machine (`machine_option`), accelerator, CPU, memory and
/// arguments: everything but what to boot.
fn machine_args(request: &BootRequest<'_>, machine_option: &str, memory: ByteSize) -> Vec<String> {
    let machine = &request.target.machine;
    let mut args = vec!["-M".to_string(), machine_option.to_string()];
    match request.accel {
        accel::Resolved::Tcg => {
            args.extend(["-accel".into(), "tcg".into()]);
            if let Some(cpu) = &machine.tcg_cpu {
                args.extend(["-cpu".into(), cpu.clone()]);
            }
        }
        accel::Resolved::Kvm => args.extend(["-accel".into(), "kvm".into(), "-cpu".into(), machine.kvm_cpu.clone()]),
    }
    args.extend(["-m".into(), format!("{}K", memory.kib_rounded_up())]);
    args.extend(machine.args.iter().cloned());
    args
}

/// A path QEMU's module list can carry (no space, no comma).
fn passable(path: &Path) -> Result<String, RunError> {
    let text = path.to_string_lossy();
    if text.contains([' ', ',']) {
        return Err(RunError::UnpassablePath(path.to_path_buf()));
    }
    Ok(text.into_owned())
}

/// The hypervisor's command line for a module or device-tree boot in `role`.
fn hypervisor_cmdline(request: &BootRequest<'_>, role: Option<Role>) -> String {
    let Some(hypervisor) = &request.target.machine.hypervisor else {
        return String::new();
    };
    let mut line = hypervisor.cmdline.clone();
    if let (Handoff::DeviceTree { dom0_cmdline, .. }, Some(Role::Dom0)) = (&hypervisor.handoff, role) {
        line = format!("{line} {dom0_cmdline}");
    }
    let memory_mib = request.memory.bytes().div_ceil(1 << 20);
    line.replace("{memory_mib}", &memory_mib.to_string())
}

/// The modules a device-tree boot loads, as `/chosen` describes them.
struct Modules {
    /// The kernel module: the image, or a Linux dom0's kernel.
    kernel: PathBuf,
    /// Where QEMU's loader puts it.
    module_address: u64,
    /// Its command line; `None`: the image's.
    kernel_cmdline: Option<String>,
    /// The kernel's ramdisk (a dom0's initramfs, the image's packed files) and where
    /// QEMU's loader puts it.
    ramdisk: Option<(PathBuf, u64)>,
}

/// A boot from a device tree, in `run_dir`: the preparation that dumps the machine's own
/// tree and adds Xen's boot nodes (`xen_cmdline`, the `modules` in `role`), and QEMU's
/// arguments that boot with that tree and load the modules.
fn device_tree_boot(
    request: &BootRequest<'_>,
    mode: BootMode,
    run_dir: &Path,
    xen_cmdline: String,
    modules: Modules,
    role: Role,
) -> Result<(Preparation, Vec<String>), RunError> {
    let machine = &request.target.machine;
    let dumped = run_dir.join("machine.dtb");
    let option = format!("{},dumpdtb={}", machine.machine, dumped.display());
    let dump = CommandLine {
        program: machine.qemu.clone(),
        args: machine_args(request, &option, machine_memory(request, mode)),
    };
    let path = run_dir.join("xen.dtb");
    let mut args = vec!["-dtb".to_string(), path.display().to_string()];
    let loaded = std::iter::once((&modules.kernel, modules.module_address))
        .chain(modules.ramdisk.as_ref().map(|(file, address)| (file, *address)));
    for (file, address) in loaded {
        args.extend([
            "-device".into(),
            format!("loader,file={},addr={address:#x},force-raw=on", passable(file)?),
        ]);
    }
    let preparation = Preparation::DeviceTree {
        dump,
        dumped,
        path,
        xen_cmdline,
        kernel: modules.kernel,
        module_address: modules.module_address,
        kernel_cmdline: modules.kernel_cmdline,
        ramdisk: modules.ramdisk,
        role,
    };
    Ok((preparation, args))
}

/// Decides everything `request` will do. Reads nothing from the machine: what the boot
/// needs from the cache is listed in [`BootPlan::fetch`], and made by [`crate::execute`].
pub fn prepare(request: &BootRequest<'_>) -> Result<BootPlan, RunError> {
    let target = request.target;
    let machine = &target.machine;
    let mode = request.mode.unwrap_or_else(|| target.default_boot_mode());
    if !target.boot_modes().contains(&mode) {
        return Err(RunError::NoXlHost(target.name.clone()));
    }
    let run_dir = run_dir();
    let mut args = machine_args(request, &machine.machine, machine_memory(request, mode));
    if let Some(network) = &request.network {
        let NetworkDevice::QemuNic(nic) = target.network_device() else {
            return Err(RunError::NoNic(target.name.clone()));
        };
        args.extend(network.qemu_args(nic));
    }
    let mut preparations = Vec::new();
    // A volume of an `xl` domU is a disk of the dom0, found there by its serial.
    let mut dom0_disks = Vec::new();
    for (index, volume) in request.volumes.iter().enumerate() {
        let device = match target.volume_device(mode) {
            VolumeDevice::QemuDisk(device) => device.to_string(),
            VolumeDevice::Dom0Disk(device) => {
                let serial = format!("{}{index}", dom0::DISK_SERIAL_PREFIX);
                let device = format!("{device},serial={serial}");
                dom0_disks.push(dom0::Dom0Disk {
                    volume: volume.guest.clone(),
                    serial,
                    read_only: volume.read_only,
                });
                device
            }
            VolumeDevice::None => {
                return Err(RunError::NoDiskDevice {
                    target: target.name.clone(),
                    as_domu: false,
                });
            }
        };
        let read_only = if volume.read_only { ",readonly=on" } else { "" };
        args.extend([
            "-drive".into(),
            format!(
                "file={},format=raw,if=none,id=volume{index}{read_only}",
                passable(&volume.file)?
            ),
            "-device".into(),
            format!("{device},drive=volume{index}"),
        ]);
        preparations.push(Preparation::Volume {
            file: volume.file.clone(),
            size: volume.size,
        });
    }
    let mut fetch = Vec::new();
    let mut console = ConsoleReading::default();
    let image = passable(request.image)?;
    let hypervisor = match &machine.hypervisor {
        Some(hypervisor) => {
            let path = hypervisor::cached_path(hypervisor, &request.cache);
            fetch.push(Fetch::Hypervisor {
                package: hypervisor.debian_package.clone(),
                path: path.clone(),
            });
            args.extend([machine.kernel_arg.clone(), passable(&path)?]);
            Some(hypervisor)
        }
        None => None,
    };
    match (mode, hypervisor) {
        (BootMode::Direct, _) | (_, None) => {
            args.extend([machine.kernel_arg.clone(), image]);
            if !request.cmdline.is_empty() {
                args.extend([machine.cmdline_arg.clone(), request.cmdline.clone()]);
            }
            if let Some(files) = request.ramdisk {
                args.extend(["-initrd".into(), passable(files)?]);
            }
        }
        (BootMode::HypervisorModule, Some(hypervisor)) => {
            let Handoff::Module { image_arg } = &hypervisor.handoff else {
                return Err(RunError::NoXlHost(target.name.clone()));
            };
            args.extend([
                machine.cmdline_arg.clone(),
                hypervisor_cmdline(request, Some(Role::Dom0)),
            ]);
            // QEMU separates modules with commas; a comma inside one is written twice.
            let mut modules = if request.cmdline.is_empty() {
                image
            } else {
                format!("{image} {}", request.cmdline.replace(',', ",,"))
            };
            // The module after the image is its ramdisk.
            if let Some(files) = request.ramdisk {
                modules = format!("{modules},{}", passable(files)?);
            }
            args.extend([image_arg.clone(), modules]);
        }
        (BootMode::DeviceTree(role), Some(hypervisor)) => {
            let Handoff::DeviceTree {
                module_address,
                ramdisk_address,
                domu_marker,
                ..
            } = &hypervisor.handoff
            else {
                return Err(RunError::NoXlHost(target.name.clone()));
            };
            let modules = Modules {
                kernel: request.image.to_path_buf(),
                module_address: *module_address,
                kernel_cmdline: None,
                ramdisk: request.ramdisk.map(|files| (files.to_path_buf(), *ramdisk_address)),
            };
            let xen_cmdline = hypervisor_cmdline(request, Some(role));
            let (preparation, tree_args) = device_tree_boot(request, mode, &run_dir, xen_cmdline, modules, role)?;
            preparations.push(preparation);
            args.extend(tree_args);
            if role == Role::DomU {
                console.domu_marker = Some(domu_marker.clone());
            }
        }
        (BootMode::XlDomU, Some(hypervisor)) => {
            let (Some(host), Some(guest_type)) = (target.xl_host(), &target.xl_type) else {
                return Err(RunError::NoXlHost(target.name.clone()));
            };
            let kit = dom0::kit_paths(&request.cache, target.arch, host);
            fetch.push(Fetch::Dom0Kit {
                kernel: kit.kernel.clone(),
                initramfs: kit.initramfs.clone(),
            });
            let initramfs = run_dir.join("dom0-initramfs.cpio.gz");
            // The configuration `unik build` writes, with the dom0's paths and this run's
            // command line.
            let xl_config = xl::render(&xl::XlConfig {
                name: &image_name(request.image),
                guest_type,
                kernel: Path::new(dom0::DOMU_IMAGE),
                memory_mib: request.memory.bytes().div_ceil(1 << 20),
                cmdline: &request.cmdline,
                target: &target.name,
                vif_bridge: request.vif_bridge.as_deref(),
                ramdisk: request.ramdisk.map(|_| Path::new(dom0::DOMU_RAMDISK)),
                disks: &dom0_disks.iter().map(dom0::Dom0Disk::xl_disk).collect::<Vec<_>>(),
            });
            preparations.push(Preparation::Dom0Initramfs {
                path: initramfs.clone(),
                xl_config,
                bridge: request.vif_bridge.clone(),
                command: request.dom0_command.clone(),
                ramdisk: request.ramdisk.map(Path::to_path_buf),
                disks: dom0_disks.clone(),
            });
            match &hypervisor.handoff {
                Handoff::Module { image_arg } => {
                    args.extend([machine.cmdline_arg.clone(), host.xen_cmdline.clone()]);
                    args.extend([
                        image_arg.clone(),
                        format!(
                            "{} {},{}",
                            passable(&kit.kernel)?,
                            host.dom0_cmdline,
                            initramfs.display()
                        ),
                    ]);
                }
                Handoff::DeviceTree { module_address, .. } => {
                    let Some(ramdisk_address) = host.ramdisk_address else {
                        return Err(RunError::IncompleteTarget {
                            target: target.name.clone(),
                            missing: "ramdisk-address in [machine.hypervisor.xl-host]",
                        });
                    };
                    let modules = Modules {
                        kernel: kit.kernel.clone(),
                        module_address: *module_address,
                        kernel_cmdline: Some(host.dom0_cmdline.clone()),
                        ramdisk: Some((initramfs.clone(), ramdisk_address)),
                    };
                    let xen_cmdline = host.xen_cmdline.clone();
                    let (preparation, tree_args) =
                        device_tree_boot(request, mode, &run_dir, xen_cmdline, modules, Role::Dom0)?;
                    preparations.push(preparation);
                    args.extend(tree_args);
                }
            }
            args.extend(host.qemu_args.iter().cloned());
            console.relay_prefixes = vec![dom0::DOMU_PREFIX.into(), dom0::COMMAND_PREFIX.into()];
        }
    }
    Ok(BootPlan {
        target: target.name.clone(),
        mode,
        image: request.image.to_path_buf(),
        memory: request.memory,
        accel: request.accel.name(),
        cmdline: request.cmdline.clone(),
        // The time goes on a command line the run writes for the image itself; an `xl`
        // domU's is in its `.xl`, written before the run.
        host_time: machine.host_time_on_command_line && mode != BootMode::XlDomU,
        files: request.ramdisk.map(Path::to_path_buf),
        timeout: request.timeout,
        fetch,
        cache: request.cache.clone(),
        run_dir,
        prepare: preparations,
        qemu: CommandLine {
            program: machine.qemu.clone(),
            args,
        },
        qemu_package: machine.debian_package.clone(),
        console,
        definition: target.clone(),
    })
}

/// The domain name of an image: its file name.
fn image_name(image: &Path) -> String {
    image
        .file_name()
        .map_or_else(|| "unik".to_string(), |name| name.to_string_lossy().into_owned())
}

impl BootPlan {
    /// The guest's command line as the run gives it: with the host's time when the plan
    /// says so.
    pub fn guest_cmdline(&self) -> String {
        if !self.host_time {
            return self.cmdline.clone();
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let time = format!("unik.time={}.{:09}", now.as_secs(), now.subsec_nanos());
        if self.cmdline.is_empty() {
            time
        } else {
            format!("{} {time}", self.cmdline)
        }
    }

    /// One line for the `Running` status: the image, where and how it boots.
    pub fn summary(&self) -> String {
        let under = match (&self.definition.machine.hypervisor, self.mode) {
            (None, _) => String::new(),
            (Some(hypervisor), BootMode::XlDomU) => format!(" under {} {}", hypervisor.name, mode_name(self.mode)),
            (Some(hypervisor), _) => format!(" under {}", hypervisor.name),
        };
        format!(
            "{} on {}{under} ({}, {} memory)",
            self.image.display(),
            self.target,
            self.accel,
            self.memory
        )
    }

    /// The plan for people: what `unik run --dry-run` prints.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "boot {} on {} ({}, {} memory, {})\n",
            self.image.display(),
            self.target,
            mode_name(self.mode),
            self.memory,
            self.accel
        );
        for fetch in &self.fetch {
            match fetch {
                Fetch::Hypervisor { package, path } => {
                    out += &format!("  fetches      {} (Debian's {package}, once)\n", path.display())
                }
                Fetch::Dom0Kit { kernel, initramfs } => {
                    out += &format!(
                        "  fetches      {} and {} (a Linux dom0 from Debian's packages, once)\n",
                        kernel.display(),
                        initramfs.display()
                    )
                }
            }
        }
        for preparation in &self.prepare {
            match preparation {
                Preparation::DeviceTree {
                    dump,
                    path,
                    role,
                    kernel_cmdline,
                    ..
                } => {
                    out += &format!(
                        "  runs         {}\n  writes       {} (QEMU's device tree with Xen's boot nodes, {})\n",
                        dump.display(),
                        path.display(),
                        match (role, kernel_cmdline) {
                            (Role::Dom0, Some(_)) => "the Linux dom0 with its initramfs",
                            (Role::Dom0, None) => "the image as dom0",
                            (Role::DomU, _) => "the image as a dom0less domU",
                        }
                    )
                }
                Preparation::Volume { file, size } => {
                    out += &match size {
                        Some(size) => format!(
                            "  volume       {} (made with mke2fs, {size}, if it does not exist)\n",
                            file.display()
                        ),
                        None => format!("  volume       {}\n", file.display()),
                    }
                }
                Preparation::Dom0Initramfs {
                    path,
                    xl_config,
                    bridge,
                    command,
                    ramdisk: _,
                    disks,
                } => {
                    out += &format!(
                        "  writes       {} (the dom0's initramfs with the image and this .xl:)\n",
                        path.display()
                    );
                    for line in xl_config.lines().filter(|line| !line.starts_with('#')) {
                        out += &format!("                 {line}\n");
                    }
                    if let Some(bridge) = bridge {
                        out += &format!("  in the dom0  makes bridge {bridge} with a DHCP server for the domU's vif\n");
                    }
                    for disk in disks {
                        out += &format!(
                            "  in the dom0  names the disk with serial {} /dev/{} (volume {})\n",
                            disk.serial, disk.serial, disk.volume
                        );
                    }
                    if let Some(command) = command {
                        out += &format!("  in the dom0  runs `{command}` once the domU exists\n");
                    }
                }
            }
        }
        if let Some(files) = &self.files {
            out += &format!(
                "  loads        {} (the image's packed files, as its ramdisk)\n",
                files.display()
            );
        }
        if self.host_time {
            out += "  adds         unik.time=<the host's time> to the guest's command line\n";
        }
        out += &format!("  runs         {}\n", self.qemu.display());
        if let Some(timeout) = self.timeout {
            out += &format!("  stops it     after {:.1} s\n", timeout.as_secs_f64());
        }
        out
    }
}

/// How `mode` is said in messages.
pub fn mode_name(mode: BootMode) -> &'static str {
    match mode {
        BootMode::Direct => "direct boot",
        BootMode::HypervisorModule => "as the hypervisor's dom0",
        BootMode::DeviceTree(Role::DomU) => "as a dom0less domU",
        BootMode::DeviceTree(Role::Dom0) => "as the hypervisor's dom0",
        BootMode::XlDomU => "as a domU of a Linux dom0 (xl)",
    }
}

/// Makes the device tree a [`Preparation::DeviceTree`] describes (`image`: the module).
pub(crate) fn make_device_tree(
    shell: &unik_ui::Shell,
    preparation: &Preparation,
    plan: &BootPlan,
) -> Result<(), RunError> {
    let Preparation::DeviceTree {
        dump,
        dumped,
        path,
        xen_cmdline,
        kernel,
        module_address,
        kernel_cmdline,
        ramdisk,
        role,
    } = preparation
    else {
        return Ok(());
    };
    let failure = |message: String| RunError::DeviceTree {
        target: plan.target.clone(),
        message,
    };
    let mut command = shell.command(&dump.program);
    command.args(&dump.args).stdin(std::process::Stdio::null());
    shell.echo(&command);
    let output = command.output().map_err(|source| RunError::Spawn {
        binary: dump.program.clone(),
        source,
    })?;
    let base = std::fs::read(dumped).map_err(|e| {
        failure(format!(
            "QEMU did not dump its device tree ({e}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    let size = |file: &Path| {
        std::fs::metadata(file)
            .map(|metadata| metadata.len())
            .map_err(|e| failure(format!("cannot read `{}`: {e}", file.display())))
    };
    let module_size = size(kernel)?;
    let ramdisk = match ramdisk {
        Some((file, address)) => {
            let ramdisk_size = size(file)?;
            if module_address + module_size > *address {
                return Err(failure(format!(
                    "the kernel `{}` ({module_size} bytes at {module_address:#x}) overlaps the initramfs at {address:#x}: move `ramdisk-address` up in the target's definition",
                    kernel.display()
                )));
            }
            // QEMU puts the device tree at RAM base + 128 MiB when the machine has 256 MiB
            // or more (a hypervisor's machine always has): the ramdisk must end below it.
            let tree_address = plan.definition.machine.ram_base + (128 << 20);
            if address + ramdisk_size > tree_address {
                return Err(failure(format!(
                    "`{}` ({ramdisk_size} bytes at {address:#x}) runs into the device tree at {tree_address:#x}: it can hold {} bytes",
                    file.display(),
                    tree_address.saturating_sub(*address)
                )));
            }
            Some((*address, ramdisk_size))
        }
        None => None,
    };
    let guest_cmdline = kernel_cmdline.clone().unwrap_or_else(|| plan.guest_cmdline());
    let tree = devicetree::with_xen_boot(
        &base,
        &devicetree::XenBoot {
            xen_cmdline,
            guest_cmdline: &guest_cmdline,
            module_address: *module_address,
            module_size,
            ramdisk,
            memory_kib: plan.memory.kib_rounded_up(),
            role: *role,
        },
    )
    .map_err(|e| failure(e.to_string()))?;
    std::fs::write(path, tree).map_err(|e| failure(format!("cannot write `{}`: {e}", path.display())))
}
