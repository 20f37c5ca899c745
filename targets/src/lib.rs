//! Target definitions: what to compile for, how to lay out and check the image, and how
//! to boot it. Each target is a folder beside this crate holding a `target.toml`; the
//! files are embedded when the CLI is built, so `unik` needs no data files at run time.

use serde::{Deserialize, Serialize};
use thiserror::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
pub mod size;
pub mod xl;

pub use size::ByteSize;

/// The target used when neither the command line nor the manifest names one.
pub const DEFAULT_TARGET: &str = "kvm-x86_64";

/// CPU architecture of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Arch {
    /// x86_64.
    #[serde(rename = "x86_64")]
    X86_64,
    /// arm64.
    #[serde(rename = "aarch64")]
    Aarch64,
}

impl Arch {
    /// The name Debian gives the architecture (`amd64`, `arm64`).
    pub fn debian_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    /// The name Rust and the ELF world give it (`x86_64`, `aarch64`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

/// The file format of a target's images (the one vocabulary of the builder, the verifier
/// and the size report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// ELF executable with a Xen PVH entry note.
    PvhElf,
    /// Linux arm64 `Image`: the loadable bytes of a position-independent ELF, from a
    /// 64-byte header on (`Documentation/arch/arm64/booting.rst`).
    Arm64Image,
}

impl ImageFormat {
    /// Whether images are position-independent (linked at 0, relocating themselves).
    pub fn is_position_independent(self) -> bool {
        matches!(self, ImageFormat::Arm64Image)
    }
}

/// How the guest's exit status reaches the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitProtocol {
    /// QEMU's `isa-debug-exit`: status `s` written to the port makes QEMU exit with
    /// `(s << 1) | 1`; a plain QEMU exit (0) means the guest reported nothing.
    IsaDebugExit,
    /// The guest's last console line is `unik: exit status N`; the run ends at the
    /// hypervisor's end markers (see [`Hypervisor::end_markers`]).
    StatusLine,
    /// Arm semihosting `SYS_EXIT`: QEMU (started with `-semihosting`) exits with the
    /// guest's status; a plain exit without it means the guest reported nothing.
    Semihosting,
}

/// Accelerators QEMU can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Accelerator {
    /// Emulation.
    Tcg,
    /// KVM.
    Kvm,
}

fn all_accelerators() -> Vec<Accelerator> {
    vec![Accelerator::Tcg, Accelerator::Kvm]
}

/// A hypervisor that runs inside QEMU and boots the image as its guest.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Hypervisor {
    /// Name for messages, e.g. `Xen 4.17`.
    pub name: String,
    /// Debian package holding it (downloaded and unpacked, never installed); `name:arch`
    /// for another architecture's package.
    pub debian_package: String,
    /// Path of the hypervisor inside the package; `.gz` files are unpacked.
    pub file: String,
    /// Its command line; `{memory_mib}` is replaced by the guest's memory in MiB.
    pub cmdline: String,
    /// The longest guest command line, in bytes, the hypervisor passes on whole.
    pub max_guest_command_line: usize,
    /// Memory QEMU adds for the hypervisor itself.
    pub overhead: ByteSize,
    /// Prefix of the hypervisor's own console lines.
    pub log_prefix: String,
    /// Hypervisor messages that end the run.
    pub end_markers: Vec<String>,
    /// The hypervisor's message as it starts building the guest's domain (the bench times
    /// from it to the guest's first line).
    pub domain_build_marker: String,
    /// How the image reaches the hypervisor.
    pub handoff: Handoff,
    /// A Linux dom0 with the `xl` toolstack that can run the image as a real domU (`unik
    /// run --domu`); none: the target cannot boot that way yet.
    pub xl_host: Option<XlHost>,
}

/// A Linux dom0 assembled from Debian's packages, and how the hypervisor boots it, for
/// images that run as a domU created by `xl` (see `runner::dom0`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct XlHost {
    /// The hypervisor's command line when it boots the dom0.
    pub xen_cmdline: String,
    /// The dom0 kernel's command line.
    pub dom0_cmdline: String,
    /// The dom0's memory (QEMU adds it to the machine's).
    pub dom0_memory: ByteSize,
    /// The Debian package whose dependency names the current kernel package.
    pub kernel_metapackage: String,
    /// Debian packages of the dom0's userland.
    pub packages: Vec<String>,
    /// Where the unpacked packages keep shared libraries.
    pub library_directories: Vec<String>,
    /// The dynamic loader of the dom0's programs (a library file name).
    pub dynamic_loader: String,
    /// The Debian architecture of the dom0's packages when it is not the host's (every
    /// package is then downloaded as `name:architecture`).
    #[serde(default)]
    pub debian_architecture: Option<String>,
    /// A shell command with which the dom0 ends the machine once the domU is gone (QEMU
    /// then exits); after it the dom0 powers itself off, which ends the machine where
    /// the hypervisor halts it.
    #[serde(default)]
    pub end_machine: Option<String>,
    /// Further QEMU arguments for a machine that boots this dom0 (a device the dom0 ends
    /// the machine through).
    #[serde(default)]
    pub qemu_args: Vec<String>,
    /// Where QEMU's loader puts the dom0's initramfs, for a hypervisor that boots from a
    /// device tree (the kernel goes to the handoff's module address; both are described
    /// in `/chosen`).
    #[serde(default)]
    pub ramdisk_address: Option<u64>,
    /// The QEMU device that gives the dom0 a volume's disk image, which it serves to the
    /// domU through blkback (none: volumes cannot be attached to domUs here).
    #[serde(default)]
    pub disk_device: Option<String>,
    /// The dom0 kernel's modules for that device (their dependencies come along).
    #[serde(default)]
    pub disk_modules: Vec<String>,
}

impl XlHost {
    /// A Debian package of the dom0, named for its architecture.
    pub fn package(&self, name: &str) -> String {
        match &self.debian_architecture {
            Some(architecture) if !name.contains(':') => format!("{name}:{architecture}"),
            _ => name.to_string(),
        }
    }
}

/// How QEMU hands the image to the hypervisor.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum Handoff {
    /// As the hypervisor's first boot module, "IMAGE ARGS" (x86 multiboot); the image is
    /// dom0.
    Module {
        /// QEMU option that carries the module.
        image_arg: String,
    },
    /// Through the device tree (arm64): QEMU's loader puts the image at `module_address`,
    /// and `/chosen` describes it as a dom0less domU or as dom0.
    DeviceTree {
        /// Where QEMU's loader puts the image.
        module_address: u64,
        /// Where QEMU's loader puts the image's packed files (its ramdisk module).
        ramdisk_address: u64,
        /// The role the image boots in unless the run asks for another.
        role: Role,
        /// Added to the hypervisor's command line when the image boots as dom0.
        dom0_cmdline: String,
        /// After the log prefix (and Xen's timestamp), what marks a domU's console line.
        domu_marker: String,
    },
}

/// The role of the image under a hypervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum Role {
    /// The control domain.
    #[serde(rename = "dom0")]
    Dom0,
    /// A domain the hypervisor starts at boot beside (or without) dom0: Xen's dom0less.
    #[serde(rename = "domu")]
    DomU,
}

/// The C compiler for a target's std programs (what `cc`-using build scripts get through
/// `CC_<target>`, `AR_<target>` and `CFLAGS_<target>`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CCompiler {
    /// The compiler.
    pub cc: String,
    /// The archiver.
    pub ar: String,
    /// Flags for every C file.
    pub cflags: Vec<String>,
}

/// Memory layout parameters, the values of the linker-script template's placeholders.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Layout {
    /// File name of the template in `templates/linker/`.
    pub template: String,
    /// Address the image is linked at: where it is loaded, or 0 for a position-independent
    /// image (which loaders place themselves, see `load_offset`).
    pub load_address: u64,
    /// For a position-independent image: how far past the RAM base loaders put it.
    #[serde(default)]
    pub load_offset: u64,
    /// The image (including bss and stack) must end at or below this address (for a
    /// position-independent image: its largest size).
    pub max_image_end: u64,
    /// Default stack size in bytes.
    pub stack_size: u64,
}

/// How to boot the target's images.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Machine {
    /// QEMU binary.
    pub qemu: String,
    /// Debian package providing it.
    pub debian_package: String,
    /// `-M` value.
    pub machine: String,
    /// Further QEMU arguments (devices, console).
    pub args: Vec<String>,
    /// Option that names the image.
    pub kernel_arg: String,
    /// Option that passes the command line.
    pub cmdline_arg: String,
    /// Physical address where guest RAM starts.
    pub ram_base: u64,
    /// Guest memory when neither the manifest nor the command line says.
    pub default_memory: ByteSize,
    /// The most guest memory an image can use (what its page tables map).
    pub max_memory: ByteSize,
    /// `-cpu` under KVM.
    pub kvm_cpu: String,
    /// `-cpu` under TCG (QEMU's default when absent).
    pub tcg_cpu: Option<String>,
    /// Accelerators that work for this target, preferred first (default: TCG and KVM).
    #[serde(default = "all_accelerators")]
    pub accelerators: Vec<Accelerator>,
    /// How the exit status comes back.
    pub exit: ExitProtocol,
    /// A hypervisor QEMU boots, which then boots the image.
    pub hypervisor: Option<Hypervisor>,
    /// The QEMU device that gives images with the `net` component their NIC (none: `unik
    /// run` cannot attach one on this target).
    pub nic_device: Option<String>,
    /// The QEMU device that attaches a volume's disk image (none: volumes cannot be
    /// attached on this target yet).
    #[serde(default)]
    pub disk_device: Option<String>,
    /// The guest has no wall clock of its own: `unik run` adds the host's time to its
    /// command line (`unik.time=SECONDS`).
    #[serde(default)]
    pub host_time_on_command_line: bool,
}

/// How an image of a target boots: the one place the runner decides how to start QEMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BootMode {
    /// QEMU loads the image itself (`-kernel`).
    Direct,
    /// The image is the hypervisor's first boot module and boots as its dom0.
    HypervisorModule,
    /// The image is a module the hypervisor's device tree describes, in this role
    /// (a dom0less domU, or dom0).
    DeviceTree(Role),
    /// A Linux dom0 boots under the hypervisor and creates the image's domain with `xl`.
    XlDomU,
}

/// How a volume reaches an image on a target, booted in some [`BootMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeDevice<'a> {
    /// A QEMU disk device the image drives itself (virtio-blk).
    QemuDisk(&'a str),
    /// A QEMU disk device of the Linux dom0, which serves it to the domU as a vbd (the
    /// `.xl`'s `disk`).
    Dom0Disk(&'a str),
    /// None: `unik run` cannot attach volumes to images booted this way.
    None,
}

/// How an image with the `net` component reaches a network on a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkDevice<'a> {
    /// A QEMU NIC device on QEMU's user network (`--publish` forwards host ports).
    QemuNic(&'a str),
    /// A vif on a bridge in a Linux dom0, declared in the `.xl` (only as an `xl` domU).
    XenVif,
    /// None: `unik run` cannot give the image a network on this target.
    None,
}

/// One target.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Target {
    /// Name used on the command line, e.g. `kvm-x86_64`.
    pub name: String,
    /// One line for `unik targets`.
    pub summary: String,
    /// CPU architecture.
    pub arch: Arch,
    /// The Rust target triple images compile for.
    pub rust_target: String,
    /// The library OS platform (value of `--cfg unik_platform`).
    pub platform: String,
    /// Extra `rustc` flags for every crate of the image.
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// The Rust target std applications compile for (Rust's Linux musl target of the same
    /// architecture: std on top of the C library the library OS provides).
    pub std_rust_target: String,
    /// Further `rustc` flags for std applications (their target differs from `rust_target`
    /// in what it assumes of the CPU).
    #[serde(default)]
    pub std_rustflags: Vec<String>,
    /// Image file format.
    pub image_format: ImageFormat,
    /// How C code inside a std program's crates compiles for `std_rust_target`.
    pub c_compiler: CCompiler,
    /// Guest type for a generated `xl` configuration (`pvh`); none: no `.xl` file.
    pub xl_type: Option<String>,
    /// Memory layout.
    pub layout: Layout,
    /// How to boot it.
    pub machine: Machine,
}

/// A target or template that could not be found.
#[derive(Debug, Error)]
pub enum TargetError {
    /// No target of that name.
    #[error("unknown target `{name}`; known targets: {known}. `unik targets` describes them")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// No template of that name.
    #[error("target `{target}` names linker-script template `{template}`, which is not in templates/linker/")]
    MissingTemplate {
        /// Target name.
        target: String,
        /// Template name.
        template: String,
    },
}

fn parse(folder: &str, text: &str) -> Target {
    let target: Target = toml::from_str(text)
        .unwrap_or_else(|e| panic!("targets/{folder}/target.toml is invalid (a build-time bug): {e}"));
    assert_eq!(
        target.name, folder,
        "targets/{folder}/target.toml names itself `{}`",
        target.name
    );
    if let Some(hypervisor) = &target.machine.hypervisor
        && let (Handoff::DeviceTree { .. }, Some(host)) = (&hypervisor.handoff, &hypervisor.xl_host)
    {
        assert!(
            host.ramdisk_address.is_some(),
            "targets/{folder}/target.toml: a dom0 booted from a device tree needs `ramdisk-address` in [machine.hypervisor.xl-host]"
        );
    }
    target
}

/// Every target, in name order.
pub fn all() -> Vec<Target> {
    embedded::TARGET_FILES
        .iter()
        .map(|(folder, text)| parse(folder, text))
        .collect()
}

/// The target called `name`.
pub fn find(name: &str) -> Result<Target, TargetError> {
    all()
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| TargetError::Unknown {
            name: name.to_string(),
            known: all().iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        })
}

/// A linker-script fragment from `templates/linker/` (such as `tls-info.ld`), for a
/// template's placeholder.
pub fn linker_fragment(name: &str) -> Option<&'static str> {
    embedded::LINKER_TEMPLATES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
}

impl Target {
    /// Checks that the guest's command line reaches it whole: a hypervisor may keep only a
    /// fixed number of bytes of it.
    pub fn check_command_line(&self, line: &str) -> Result<(), String> {
        match &self.machine.hypervisor {
            Some(hypervisor) if line.len() > hypervisor.max_guest_command_line => Err(format!(
                "the command line is {} bytes, and {} passes at most {} bytes to a {} guest (it would cut the rest silently): shorten it",
                line.len(),
                hypervisor.name,
                hypervisor.max_guest_command_line,
                self.name
            )),
            _ => Ok(()),
        }
    }

    /// Checks a guest memory size before anything is built: at most what the target's
    /// images can use, and at least where images start in RAM plus the default stack (an
    /// image needs more; its build record says how much). The error says what to write.
    pub fn check_memory(&self, memory: ByteSize) -> Result<(), String> {
        const MIB: u64 = 1 << 20;
        let image_start = if self.image_format.is_position_independent() {
            self.layout.load_offset
        } else {
            self.layout.load_address - self.machine.ram_base
        };
        let floor = ByteSize::new((image_start + self.layout.stack_size).div_ceil(MIB) * MIB);
        if memory < floor {
            let unit_hint = if memory.bytes() > 0 && memory.bytes() < 1024 {
                format!(
                    " (a number without a unit counts bytes: for {0} MiB write \"{0}M\")",
                    memory.bytes()
                )
            } else {
                String::new()
            };
            let amount = if memory.bytes() < 1024 {
                format!("{} bytes", memory.bytes())
            } else {
                memory.to_string()
            };
            return Err(format!(
                "{amount} of memory cannot hold any {} image, which starts {image_start:#x} bytes into RAM: give at least {floor}{unit_hint}",
                self.name
            ));
        }
        if memory > self.machine.max_memory {
            return Err(format!(
                "{memory} is more memory than {} images can use: give at most {}",
                self.name, self.machine.max_memory
            ));
        }
        Ok(())
    }

    /// How the target's images boot unless the run asks for another mode.
    pub fn default_boot_mode(&self) -> BootMode {
        match self.machine.hypervisor.as_ref().map(|h| &h.handoff) {
            None => BootMode::Direct,
            Some(Handoff::Module { .. }) => BootMode::HypervisorModule,
            Some(Handoff::DeviceTree { role, .. }) => BootMode::DeviceTree(*role),
        }
    }

    /// Every way the target's images can boot, the default first.
    pub fn boot_modes(&self) -> Vec<BootMode> {
        let mut modes = vec![self.default_boot_mode()];
        if let Some(Handoff::DeviceTree { role, .. }) = self.machine.hypervisor.as_ref().map(|h| &h.handoff) {
            let other = match role {
                Role::Dom0 => Role::DomU,
                Role::DomU => Role::Dom0,
            };
            modes.push(BootMode::DeviceTree(other));
        }
        if self.xl_host().is_some() {
            modes.push(BootMode::XlDomU);
        }
        modes
    }

    /// The dom0 that runs images of this target as `xl` domUs, if the target has one.
    pub fn xl_host(&self) -> Option<&XlHost> {
        let hypervisor = self.machine.hypervisor.as_ref()?;
        // `xl` needs the guest type of the `.xl` it creates the domain from.
        self.xl_type.as_ref()?;
        hypervisor.xl_host.as_ref()
    }

    /// How an image with the `net` component gets its network here.
    pub fn network_device(&self) -> NetworkDevice<'_> {
        match (&self.machine.nic_device, self.xl_host()) {
            (Some(nic), _) => NetworkDevice::QemuNic(nic),
            (None, Some(_)) => NetworkDevice::XenVif,
            (None, None) => NetworkDevice::None,
        }
    }

    /// How volumes reach an image booted in `mode`.
    pub fn volume_device(&self, mode: BootMode) -> VolumeDevice<'_> {
        match mode {
            BootMode::XlDomU => match self.xl_host().and_then(|host| host.disk_device.as_deref()) {
                Some(device) => VolumeDevice::Dom0Disk(device),
                None => VolumeDevice::None,
            },
            _ => match &self.machine.disk_device {
                Some(device) => VolumeDevice::QemuDisk(device),
                None => VolumeDevice::None,
            },
        }
    }

    /// Whether an image with volumes can run on this target in some boot mode.
    pub fn attaches_volumes(&self) -> bool {
        self.boot_modes()
            .into_iter()
            .any(|mode| self.volume_device(mode) != VolumeDevice::None)
    }

    /// The Rust target an application compiles for here: the std target for a std
    /// application.
    pub fn rust_target_for(&self, uses_std: bool) -> &str {
        if uses_std {
            &self.std_rust_target
        } else {
            &self.rust_target
        }
    }

    /// The text of this target's linker-script template.
    pub fn linker_template(&self) -> Result<&'static str, TargetError> {
        embedded::LINKER_TEMPLATES
            .iter()
            .find(|(name, _)| *name == self.layout.template)
            .map(|(_, text)| *text)
            .ok_or_else(|| TargetError::MissingTemplate {
                target: self.name.clone(),
                template: self.layout.template.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_parses_and_has_its_template() {
        let targets = all();
        assert!(targets.iter().any(|t| t.name == "kvm-x86_64"));
        for target in &targets {
            target.linker_template().unwrap();
            assert!(
                target.layout.load_address < target.layout.max_image_end,
                "{}",
                target.name
            );
            let image_room = target.layout.load_offset + target.layout.max_image_end - target.layout.load_address;
            let room = if target.image_format.is_position_independent() {
                image_room
            } else {
                target.layout.max_image_end - target.machine.ram_base
            };
            assert!(target.machine.default_memory.bytes() > room, "{}", target.name);
            target.check_memory(target.machine.default_memory).unwrap();
        }
    }

    #[test]
    fn kvm_x86_64_boots_a_pvh_elf_on_microvm() {
        let target = find("kvm-x86_64").unwrap();
        assert_eq!(target.rust_target, "x86_64-unknown-none");
        assert_eq!(target.image_format, ImageFormat::PvhElf);
        assert_eq!(target.machine.exit, ExitProtocol::IsaDebugExit);
        assert!(target.machine.machine.starts_with("microvm"));
    }

    #[test]
    fn xen_x86_64_boots_on_xen_inside_qemu_under_tcg() {
        let target = find("xen-x86_64").unwrap();
        assert_eq!(target.machine.exit, ExitProtocol::StatusLine);
        assert_eq!(target.machine.accelerators, [Accelerator::Tcg]);
        let xen = target.machine.hypervisor.unwrap();
        assert!(xen.cmdline.contains("dom0=pvh") && xen.cmdline.contains("{memory_mib}"));
        assert!(matches!(xen.handoff, Handoff::Module { .. }));
        assert_eq!(target.xl_type.as_deref(), Some("pvh"));
    }

    #[test]
    fn arm64_targets_boot_position_independent_images() {
        for name in ["kvm-arm64", "xen-arm64"] {
            let target = find(name).unwrap();
            assert_eq!(target.arch, Arch::Aarch64);
            assert!(target.image_format.is_position_independent(), "{name}");
            assert!(target.rustflags.iter().any(|f| f == "-Crelocation-model=pie"), "{name}");
        }
        assert_eq!(find("kvm-arm64").unwrap().machine.exit, ExitProtocol::Semihosting);
        let xen = find("xen-arm64").unwrap().machine.hypervisor.unwrap();
        assert!(matches!(xen.handoff, Handoff::DeviceTree { role: Role::DomU, .. }));
    }

    #[test]
    fn unknown_target_lists_the_known_ones() {
        let message = find("nope").unwrap_err().to_string();
        assert!(
            message.contains("unknown target `nope`") && message.contains("kvm-x86_64"),
            "{message}"
        );
    }
}
