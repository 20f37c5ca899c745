//! Boots an image under QEMU (directly, or under a hypervisor QEMU boots) and reports
//! how it ended.
//!
//! The QEMU command comes from the target definition. The guest console (QEMU's serial
//! stdio) is streamed to the caller as it arrives: byte for byte for a direct boot; line
//! by line under a hypervisor, whose own log lines are set aside. The exit status is
//! decoded by the target's exit protocol, and a guest that neither ends nor reports is
//! stopped at the timeout.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thiserror::Error;
use unik_targets::{ByteSize, ExitProtocol, Handoff, Role, Target};
use unik_ui::Shell;

pub mod accel;
pub mod cmdline;
pub mod devicetree;
pub mod dom0;
pub mod hypervisor;
pub mod network;

pub use accel::Accel;

/// What to boot.
#[derive(Clone, Debug)]
pub struct RunRequest<'a> {
    /// Target definition.
    pub target: &'a Target,
    /// Image file.
    pub image: &'a Path,
    /// Guest memory.
    pub memory: ByteSize,
    /// Boot command line.
    pub cmdline: String,
    /// Accelerator (already resolved, see [`accel::resolve`]).
    pub accel: accel::Resolved,
    /// Stop the VM after this long.
    pub timeout: Option<Duration>,
    /// The hypervisor binary, for targets that boot under one (see [`hypervisor::ensure`]).
    pub hypervisor: Option<PathBuf>,
    /// The image's role under the hypervisor, where the target lets it choose (device-tree
    /// handoff); `None`: the target's default.
    pub role: Option<Role>,
    /// A NIC and the ports forwarded to it (for images with the `net` component).
    pub network: Option<network::Network>,
    /// Boot the image as a domU of a Linux dom0 that creates it with `xl` (targets whose
    /// hypervisor takes the image as a module, i.e. xen-x86_64).
    pub xl_domu: Option<XlDomU>,
}

/// What a run as a domU under `xl` needs: the dom0 kit and the `xl` configuration to
/// create the domain from, whose kernel is `/domu/image` (see [`dom0`]).
#[derive(Clone, Debug)]
pub struct XlDomU {
    /// The dom0 kernel and initramfs.
    pub dom0: dom0::Dom0,
    /// The `xl` configuration.
    pub config: String,
    /// The bridge of the domU's vif (the dom0 makes it, with DHCP on it); `None`
    /// without a vif.
    pub bridge: Option<String>,
    /// A shell command the dom0 runs once the domU is created (a client for it); its
    /// exit status ends the run, and the domU is destroyed after it.
    pub dom0_command: Option<String>,
}

/// Xen's command line under a Linux dom0 (PV; `noreboot` would keep QEMU running after
/// the dom0 ends the machine).
const XL_HOST_XEN_CMDLINE: &str = "dom0_mem=256M,max:256M dom0_max_vcpus=1 dom0-iommu=none console=com1 loglvl=all guest_loglvl=all console_timestamps=boot";
/// The dom0 kernel's command line.
const XL_HOST_DOM0_CMDLINE: &str = "console=hvc0 earlyprintk=xen rdinit=/init panic=1 loglevel=4 rodata=off";
/// Memory of that dom0.
const XL_HOST_DOM0_MEMORY: u64 = 256 << 20;

impl RunRequest<'_> {
    /// The role the image boots in under the target's hypervisor (`None`: no hypervisor).
    pub fn role(&self) -> Option<Role> {
        match &self.target.machine.hypervisor.as_ref()?.handoff {
            Handoff::Module { .. } if self.xl_domu.is_some() => Some(Role::DomU),
            Handoff::Module { .. } => Some(Role::Dom0),
            Handoff::DeviceTree { role, .. } => Some(self.role.unwrap_or(*role)),
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest reported this exit status.
    Exited(i32),
    /// The VM ended without the guest reporting a status: a triple fault, a reset, a
    /// crashed domain or a hypervisor panic.
    NoStatus,
    /// The timeout passed and the VM was stopped.
    TimedOut(Duration),
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// The last lines of the console, hypervisor lines included (for failure messages).
    pub last_lines: Vec<String>,
    /// Every hypervisor log line, in order, with when it arrived (empty for direct boots).
    pub hypervisor_log: Vec<LogLine>,
    /// When the guest's first console output arrived, from spawning QEMU.
    pub first_output: Option<Duration>,
    /// Wall time from spawning QEMU to its exit, or to the hypervisor's end marker.
    pub elapsed: Duration,
}

/// A hypervisor console line and when it arrived, from spawning QEMU.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// Time since QEMU was spawned.
    pub at: Duration,
    /// The line, prefix included.
    pub text: String,
}

/// A VM that could not be run at all.
#[derive(Debug, Error)]
pub enum RunError {
    /// QEMU is not installed.
    #[error("`{binary}` was not found on PATH; install it (Debian/Ubuntu: `sudo apt-get install {package}`)")]
    QemuMissing {
        /// The binary.
        binary: String,
        /// Debian package.
        package: String,
    },
    /// The image file does not exist.
    #[error("the image `{0}` does not exist; build it first with `unik build`")]
    ImageMissing(PathBuf),
    /// The image path cannot be passed as a hypervisor module.
    #[error(
        "the image path `{0}` contains a space or a comma, which QEMU's module list cannot carry; build into a target directory without them"
    )]
    UnpassablePath(PathBuf),
    /// The dom0 for an `xl` run could not be made.
    #[error(transparent)]
    Dom0(#[from] dom0::Dom0Error),
    /// A NIC was asked for on a target that has none.
    #[error("target `{0}` has no NIC `unik run` can attach (see `unik targets`)")]
    NoNic(String),
    /// The target needs a hypervisor binary and none was given.
    #[error("target `{0}` boots under a hypervisor, but no hypervisor binary was provided")]
    NoHypervisor(String),
    /// QEMU could not be started.
    #[error("cannot start `{binary}`: {source}")]
    Spawn {
        /// The binary.
        binary: String,
        /// The error.
        source: std::io::Error,
    },
    /// QEMU itself failed (bad option, missing device, ...).
    #[error("QEMU failed (status {status}):\n{stderr}")]
    Qemu {
        /// QEMU's exit status.
        status: i32,
        /// What QEMU printed.
        stderr: String,
    },
    /// Fetching the hypervisor failed.
    #[error(transparent)]
    Hypervisor(#[from] hypervisor::HypervisorError),
    /// The hypervisor's device tree could not be made.
    #[error("cannot make the device tree for {target}: {message}")]
    DeviceTree {
        /// Target.
        target: String,
        /// What went wrong.
        message: String,
    },
}

/// QEMU with the target's machine, accelerator, CPU, `memory` and arguments: everything but
/// what to boot.
fn machine_command(shell: &Shell, request: &RunRequest<'_>, machine_option: &str, memory: ByteSize) -> Command {
    let machine = &request.target.machine;
    let mut command = shell.command(&machine.qemu);
    command.arg("-M").arg(machine_option);
    match request.accel {
        accel::Resolved::Tcg => {
            command.args(["-accel", "tcg"]);
            if let Some(cpu) = &machine.tcg_cpu {
                command.args(["-cpu", cpu]);
            }
        }
        accel::Resolved::Kvm => {
            command.args(["-accel", "kvm", "-cpu", &machine.kvm_cpu]);
        }
    }
    command.args(["-m", &format!("{}K", memory.kib_rounded_up())]);
    command.args(&machine.args);
    command
}

/// Memory QEMU gives the machine: the guest's, plus the hypervisor's own if there is one.
fn machine_memory(request: &RunRequest<'_>) -> ByteSize {
    match &request.target.machine.hypervisor {
        None => request.memory,
        Some(hypervisor) => {
            let memory_mib = request.memory.bytes().div_ceil(1 << 20);
            let dom0 = if request.xl_domu.is_some() {
                XL_HOST_DOM0_MEMORY
            } else {
                0
            };
            ByteSize::new((memory_mib << 20) + hypervisor.overhead.bytes() + dom0)
        }
    }
}

/// The QEMU command booting `request`; `prepared` is the device tree a device-tree handoff
/// passes (see [`prepare_device_tree`]), or the dom0's initramfs of an `xl` run (see
/// [`dom0::initramfs_with`]).
pub fn qemu_command(shell: &Shell, request: &RunRequest<'_>, prepared: Option<&Path>) -> Result<Command, RunError> {
    let machine = &request.target.machine;
    let mut command = machine_command(shell, request, &machine.machine, machine_memory(request));
    if let Some(network) = &request.network {
        let nic = machine
            .nic_device
            .as_ref()
            .ok_or_else(|| RunError::NoNic(request.target.name.clone()))?;
        command.args(network.qemu_args(nic));
    }
    let Some(hypervisor) = &machine.hypervisor else {
        command.arg(&machine.kernel_arg).arg(request.image);
        if !request.cmdline.is_empty() {
            command.arg(&machine.cmdline_arg).arg(&request.cmdline);
        }
        return Ok(command);
    };
    let binary = request
        .hypervisor
        .as_ref()
        .ok_or_else(|| RunError::NoHypervisor(request.target.name.clone()))?;
    let image = request.image.to_string_lossy();
    if image.contains([' ', ',']) {
        return Err(RunError::UnpassablePath(request.image.to_path_buf()));
    }
    command.arg(&machine.kernel_arg).arg(binary);
    match &hypervisor.handoff {
        Handoff::Module { image_arg } if request.xl_domu.is_some() => {
            let (Some(dom0), Some(initramfs)) = (&request.xl_domu, prepared) else {
                return Err(RunError::NoHypervisor(request.target.name.clone()));
            };
            let paths = [dom0.dom0.kernel.as_path(), initramfs];
            if let Some(path) = paths.iter().find(|p| p.to_string_lossy().contains([' ', ','])) {
                return Err(RunError::UnpassablePath(path.to_path_buf()));
            }
            command.arg(&machine.cmdline_arg).arg(XL_HOST_XEN_CMDLINE);
            command.arg(image_arg).arg(format!(
                "{} {XL_HOST_DOM0_CMDLINE},{}",
                paths[0].display(),
                paths[1].display()
            ));
            // The dom0 ends the machine through this device once the domU is gone.
            command.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        }
        Handoff::Module { image_arg } => {
            command.arg(&machine.cmdline_arg).arg(hypervisor_cmdline(request));
            // QEMU separates modules with commas; a comma inside one is written twice.
            let module = if request.cmdline.is_empty() {
                image.into_owned()
            } else {
                format!("{image} {}", request.cmdline.replace(',', ",,"))
            };
            command.arg(image_arg).arg(module);
        }
        Handoff::DeviceTree { module_address, .. } => {
            let tree = prepared.ok_or_else(|| RunError::DeviceTree {
                target: request.target.name.clone(),
                message: "no device tree was prepared".into(),
            })?;
            command.arg("-dtb").arg(tree);
            command.args([
                "-device",
                &format!("loader,file={image},addr={module_address:#x},force-raw=on"),
            ]);
        }
    }
    Ok(command)
}

/// The hypervisor's command line for `request` (empty without a hypervisor).
fn hypervisor_cmdline(request: &RunRequest<'_>) -> String {
    let Some(hypervisor) = &request.target.machine.hypervisor else {
        return String::new();
    };
    let mut line = hypervisor.cmdline.clone();
    if let (Handoff::DeviceTree { dom0_cmdline, .. }, Some(Role::Dom0)) = (&hypervisor.handoff, request.role()) {
        line = format!("{line} {dom0_cmdline}");
    }
    let memory_mib = request.memory.bytes().div_ceil(1 << 20);
    line.replace("{memory_mib}", &memory_mib.to_string())
}

/// For a device-tree handoff: dumps QEMU's own tree for the machine (same options), adds
/// the hypervisor's boot nodes, and writes it into `folder`; `None` for other targets.
pub fn prepare_device_tree(
    shell: &Shell,
    request: &RunRequest<'_>,
    folder: &Path,
) -> Result<Option<PathBuf>, RunError> {
    let Some(hypervisor) = &request.target.machine.hypervisor else {
        return Ok(None);
    };
    let Handoff::DeviceTree { module_address, .. } = &hypervisor.handoff else {
        return Ok(None);
    };
    let failure = |message: String| RunError::DeviceTree {
        target: request.target.name.clone(),
        message,
    };
    let dumped = folder.join("machine.dtb");
    let machine = &request.target.machine;
    let option = format!("{},dumpdtb={}", machine.machine, dumped.display());
    let mut dump = machine_command(shell, request, &option, machine_memory(request));
    dump.stdin(Stdio::null());
    shell.echo(&dump);
    let output = dump.output().map_err(|source| RunError::Spawn {
        binary: machine.qemu.clone(),
        source,
    })?;
    let base = std::fs::read(&dumped).map_err(|e| {
        failure(format!(
            "QEMU did not dump its device tree ({e}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    let module_size = std::fs::metadata(request.image)
        .map_err(|_| RunError::ImageMissing(request.image.to_path_buf()))?
        .len();
    let xen_cmdline = hypervisor_cmdline(request);
    let tree = devicetree::with_xen_boot(
        &base,
        &devicetree::XenBoot {
            xen_cmdline: &xen_cmdline,
            guest_cmdline: &request.cmdline,
            module_address: *module_address,
            module_size,
            memory_kib: request.memory.kib_rounded_up(),
            role: request.role().unwrap_or(Role::DomU),
        },
    )
    .map_err(|e| failure(e.to_string()))?;
    let path = folder.join("xen.dtb");
    std::fs::write(&path, tree).map_err(|e| failure(format!("cannot write `{}`: {e}", path.display())))?;
    Ok(Some(path))
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

/// Console lines kept for failure messages.
const KEPT_LINES: usize = 10;
/// After a hypervisor's end marker, how long QEMU may take to exit by itself.
const END_GRACE: Duration = Duration::from_millis(200);

/// What the reader threads tell the run loop.
enum Event {
    Console(Vec<u8>),
    ConsoleClosed,
}

/// The protocol state of one run: what to print, what was seen.
struct Session<'a> {
    target: &'a Target,
    console: Box<dyn Write + Send>,
    partial: Vec<u8>,
    tail: Vec<String>,
    hypervisor_log: Vec<LogLine>,
    status: Option<i32>,
    ended: bool,
    started: Instant,
    first_output: Option<Duration>,
    /// For a domU whose console the hypervisor prints as its own log lines: the marker
    /// after the log prefix (and timestamp). Its status line also ends the run, as the
    /// hypervisor says nothing when a domU shuts down.
    domu_marker: Option<String>,
    /// For a domU under `xl`: the prefixes with which the dom0 relays the domU's console
    /// and its command's output; the dom0's other lines are log.
    relay_prefixes: &'static [&'static str],
}

/// The status a `unik: exit status N` line reports.
pub fn parse_status_line(line: &str) -> Option<i32> {
    line.strip_prefix("unik: exit status ")?.trim_end().parse().ok()
}

impl<'a> Session<'a> {
    fn new(target: &'a Target, console: Box<dyn Write + Send>, started: Instant) -> Session<'a> {
        Session {
            target,
            console,
            partial: Vec::new(),
            tail: Vec::new(),
            hypervisor_log: Vec::new(),
            status: None,
            ended: false,
            started,
            first_output: None,
            domu_marker: None,
            relay_prefixes: &[],
        }
    }

    /// The domU console text inside hypervisor log message `message`, if it is one.
    fn domu_text<'m>(&self, message: &'m str) -> Option<&'m str> {
        let marker = self.domu_marker.as_deref()?;
        // Xen's `console_timestamps` put `[    1.234567] ` first.
        let message = match message.strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(message, |(_, text)| text),
            None => message,
        };
        message.strip_prefix(marker)
    }

    fn remember(&mut self, line: &str) {
        if self.tail.len() == KEPT_LINES {
            self.tail.remove(0);
        }
        self.tail.push(line.to_string());
    }

    fn console(&mut self, bytes: &[u8]) {
        let Some(hypervisor) = &self.target.machine.hypervisor else {
            self.first_output.get_or_insert_with(|| self.started.elapsed());
            let _ = self.console.write_all(bytes);
            let _ = self.console.flush();
            self.partial.extend_from_slice(bytes);
            while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=end).collect();
                self.remember(String::from_utf8_lossy(&line).trim_end());
            }
            return;
        };
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_string();
            let message = line.strip_prefix(&hypervisor.log_prefix);
            let guest_line = match (message, self.relay_prefixes) {
                (None, []) => Some(line.as_str()),
                (None, prefixes) => prefixes.iter().find_map(|prefix| line.strip_prefix(prefix)),
                (Some(message), _) => self.domu_text(message),
            };
            match guest_line {
                Some(text) => {
                    let text = text.to_string();
                    self.guest_line(&text);
                }
                None => {
                    if hypervisor
                        .end_markers
                        .iter()
                        .any(|marker| message.is_some_and(|m| m.contains(marker.as_str())))
                    {
                        self.ended = true;
                    }
                    self.hypervisor_log.push(LogLine {
                        at: self.started.elapsed(),
                        text: line,
                    });
                }
            }
        }
    }

    /// A console line of the guest under a hypervisor.
    fn guest_line(&mut self, line: &str) {
        if let (ExitProtocol::StatusLine, Some(status)) = (self.target.machine.exit, parse_status_line(line)) {
            self.status = Some(status);
            if self.domu_marker.is_some() || !self.relay_prefixes.is_empty() {
                self.ended = true;
            }
            return;
        }
        self.first_output.get_or_insert_with(|| self.started.elapsed());
        self.remember(line);
        let _ = self.console.write_all(line.as_bytes());
        let _ = self.console.write_all(b"\n");
        let _ = self.console.flush();
    }

    /// Handles a last line that never got its newline.
    fn finish(&mut self) {
        if self.partial.is_empty() {
            return;
        }
        if self.target.machine.hypervisor.is_some() {
            self.console(b"\n");
        } else {
            let rest = std::mem::take(&mut self.partial);
            self.remember(String::from_utf8_lossy(&rest).trim_end());
        }
    }
}

/// A console sink that keeps what the guest printed, for callers that read it afterwards
/// (the bench, tests): pass a clone to [`run`] and read [`CapturedConsole::text`].
#[derive(Clone, Debug, Default)]
pub struct CapturedConsole(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedConsole {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|bytes| bytes.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for CapturedConsole {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Boots the image, copying the guest console to `console` as it arrives.
pub fn run(shell: &Shell, request: &RunRequest<'_>, console: Box<dyn Write + Send>) -> Result<RunResult, RunError> {
    let machine = &request.target.machine;
    if !request.image.is_file() {
        return Err(RunError::ImageMissing(request.image.to_path_buf()));
    }
    if !on_path(&machine.qemu) {
        return Err(RunError::QemuMissing {
            binary: machine.qemu.clone(),
            package: machine.debian_package.clone(),
        });
    }
    // The generated device tree (if any) lives as long as the run.
    let scratch = tempfile::tempdir().map_err(|e| RunError::DeviceTree {
        target: request.target.name.clone(),
        message: format!("cannot create a temporary folder: {e}"),
    })?;
    let prepared = match &request.xl_domu {
        Some(xl) => {
            let initramfs = scratch.path().join("dom0-initramfs.cpio.gz");
            let run = dom0::DomURun {
                image: request.image,
                xl_config: &xl.config,
                bridge: xl.bridge.as_deref(),
                command: xl.dom0_command.as_deref(),
            };
            dom0::initramfs_with(&xl.dom0, &run, &initramfs)?;
            Some(initramfs)
        }
        None => prepare_device_tree(shell, request, scratch.path())?,
    };
    let mut command = qemu_command(shell, request, prepared.as_deref())?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    shell.echo(&command);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        binary: machine.qemu.clone(),
        source,
    })?;

    let (events, received) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let pump = std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            if events.send(Event::Console(buffer[..n].to_vec())).is_err() {
                return;
            }
        }
        let _ = events.send(Event::ConsoleClosed);
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut session = Session::new(request.target, console, started);
    if request.xl_domu.is_some() {
        session.relay_prefixes = &[dom0::DOMU_PREFIX, dom0::COMMAND_PREFIX];
    }
    session.domu_marker = match (&machine.hypervisor, request.role()) {
        (Some(hypervisor), Some(Role::DomU)) => match &hypervisor.handoff {
            Handoff::DeviceTree { domu_marker, .. } => Some(domu_marker.clone()),
            Handoff::Module { .. } => None,
        },
        _ => None,
    };
    let deadline = request.timeout.map(|limit| started + limit);
    let mut timed_out = false;
    let mut ended_at = None;
    loop {
        let now = Instant::now();
        let wait = [deadline, ended_at.map(|at: Instant| at + END_GRACE)]
            .into_iter()
            .flatten()
            .min();
        let event = match wait {
            Some(until) if until <= now => None,
            Some(until) => received.recv_timeout(until - now).ok(),
            None => received.recv().ok(),
        };
        match event {
            Some(Event::Console(bytes)) => {
                session.console(&bytes);
                if session.ended && ended_at.is_none() {
                    ended_at = Some(Instant::now());
                }
            }
            Some(Event::ConsoleClosed) => break,
            // The reader is gone (it always says so first; this is only a safeguard).
            None if wait.is_none() => break,
            None if ended_at.is_some_and(|at| at + END_GRACE <= Instant::now()) => break,
            None => {
                timed_out = deadline.is_some_and(|d| d <= Instant::now());
                if timed_out {
                    break;
                }
            }
        }
    }
    session.finish();
    if ended_at.is_some() || timed_out {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|source| RunError::Spawn {
        binary: machine.qemu.clone(),
        source,
    })?;
    // A run that ended at the hypervisor's end marker ended there, not when QEMU was stopped.
    let elapsed = ended_at.map_or_else(|| started.elapsed(), |at| at - started);
    let _ = pump.join();
    let stderr = errors.join().unwrap_or_default();

    let outcome = if timed_out {
        Outcome::TimedOut(elapsed)
    } else {
        match machine.exit {
            ExitProtocol::StatusLine => session.status.map_or(Outcome::NoStatus, Outcome::Exited),
            ExitProtocol::IsaDebugExit | ExitProtocol::Semihosting => {
                match decode_status(machine.exit, status.code(), &stderr) {
                    Ok(outcome) => outcome,
                    Err(status) => return Err(RunError::Qemu { status, stderr }),
                }
            }
        }
    };
    if outcome == Outcome::NoStatus && !stderr.trim().is_empty() && session.tail.is_empty() {
        return Err(RunError::Qemu {
            status: status.code().unwrap_or(-1),
            stderr,
        });
    }
    Ok(RunResult {
        outcome,
        last_lines: session.tail,
        hypervisor_log: session.hypervisor_log,
        first_output: session.first_output,
        elapsed,
    })
}

/// Turns QEMU's exit status into an [`Outcome`] under the `isa-debug-exit` or semihosting
/// protocol, or `Err(status)` if QEMU itself failed.
pub fn decode_status(protocol: ExitProtocol, code: Option<i32>, stderr: &str) -> Result<Outcome, i32> {
    match (protocol, code) {
        // Killed by a signal (someone else stopped QEMU).
        (_, None) => Ok(Outcome::NoStatus),
        (ExitProtocol::IsaDebugExit, Some(0)) => Ok(Outcome::NoStatus),
        // QEMU reports its own errors with status 1 and a message; a guest status of 0
        // also gives 1, but then QEMU prints no error.
        (ExitProtocol::IsaDebugExit, Some(1)) if stderr.lines().any(is_qemu_error) => Err(1),
        (ExitProtocol::IsaDebugExit, Some(code)) if code & 1 == 1 => Ok(Outcome::Exited(code >> 1)),
        // Semihosting's SYS_EXIT makes QEMU exit with the status itself; QEMU's own
        // errors are status 1 with a message.
        (ExitProtocol::Semihosting, Some(1)) if stderr.lines().any(is_qemu_error) => Err(1),
        (ExitProtocol::Semihosting, Some(code)) => Ok(Outcome::Exited(code)),
        (_, Some(code)) => Err(code),
    }
}

fn is_qemu_error(line: &str) -> bool {
    line.starts_with("qemu-system-") && !line.contains("warning")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isa_debug_exit_statuses_decode() {
        let decode = |code, stderr| decode_status(ExitProtocol::IsaDebugExit, code, stderr);
        assert_eq!(decode(Some(1), ""), Ok(Outcome::Exited(0)));
        assert_eq!(decode(Some(203), ""), Ok(Outcome::Exited(101)));
        assert_eq!(decode(Some(0), ""), Ok(Outcome::NoStatus));
        assert_eq!(decode(None, ""), Ok(Outcome::NoStatus));
        assert_eq!(
            decode(Some(1), "qemu-system-x86_64: -m 1: memory size too small\n"),
            Err(1)
        );
        assert_eq!(decode(Some(2), ""), Err(2));
    }

    #[test]
    fn status_lines_parse() {
        assert_eq!(parse_status_line("unik: exit status 101"), Some(101));
        assert_eq!(parse_status_line("unik: exit status -1\r"), Some(-1));
        assert_eq!(parse_status_line("unik: exit status"), None);
        assert_eq!(parse_status_line("say unik: exit status 3"), None);
    }

    /// A console sink whose bytes the test can read back.

    #[test]
    fn hypervisor_lines_are_set_aside_and_the_status_line_is_consumed() {
        let target = unik_targets::find("xen-x86_64").unwrap();
        let captured = CapturedConsole::default();
        let mut session = Session::new(&target, Box::new(captured.clone()), Instant::now());
        session.console(b"(XEN) [    0.1] Xen version 4.17\nHello, ");
        session.console(b"world!\nunik: exit status 0\n(XEN) [    1.2] Hardware Dom0 halted: halting machine\n");
        assert_eq!(captured.text(), "Hello, world!\n");
        assert_eq!(session.status, Some(0));
        assert!(session.ended);
        assert_eq!(session.hypervisor_log.len(), 2);
    }

    #[test]
    fn direct_boots_pass_bytes_through() {
        let target = unik_targets::find("kvm-x86_64").unwrap();
        let captured = CapturedConsole::default();
        let mut session = Session::new(&target, Box::new(captured.clone()), Instant::now());
        session.console(b"prompt> ");
        assert_eq!(captured.text(), "prompt> ");
        session.console(b"unik: exit status 3\n");
        assert_eq!(session.status, None, "kvm-x86_64 reports through isa-debug-exit only");
    }

    fn request<'a>(target: &'a Target, hypervisor: Option<PathBuf>) -> RunRequest<'a> {
        RunRequest {
            target,
            image: Path::new("/images/hello"),
            memory: ByteSize::new(16 << 20),
            cmdline: "a \"b c\",d".into(),
            accel: accel::Resolved::Tcg,
            timeout: None,
            hypervisor,
            role: None,
            network: None,
            xl_domu: None,
        }
    }

    #[test]
    fn qemu_command_follows_the_target_definition() {
        let target = unik_targets::find("kvm-x86_64").unwrap();
        let mut request = request(&target, None);
        request.accel = accel::Resolved::Kvm;
        let command = qemu_command(&Shell::new(false, true), &request, None).unwrap();
        assert_eq!(
            unik_ui::display_command(&command),
            "qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host,-arch-capabilities -m 16384K -nodefaults -no-reboot \
             -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -kernel /images/hello -append 'a \"b c\",d'"
        );
    }

    #[test]
    fn xen_boots_the_image_as_its_first_module() {
        let target = unik_targets::find("xen-x86_64").unwrap();
        let command = qemu_command(
            &Shell::new(false, true),
            &request(&target, Some("/cache/xen".into())),
            None,
        )
        .unwrap();
        let line = unik_ui::display_command(&command);
        assert!(line.contains(" -m 278528K "), "{line}");
        assert!(line.contains(" -kernel /cache/xen -append 'dom0=pvh "), "{line}");
        assert!(line.contains("dom0_mem=16M,max:16M"), "{line}");
        assert!(line.ends_with(" -initrd '/images/hello a \"b c\",,d'"), "{line}");
        assert!(matches!(
            qemu_command(&Shell::new(false, true), &request(&target, None), None),
            Err(RunError::NoHypervisor(_))
        ));
    }
}
