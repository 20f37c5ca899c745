//! Boots an image under QEMU (directly, or under a hypervisor QEMU boots) and reports
//! how it ended.
//!
//! The QEMU command comes from the target definition. The guest console (QEMU's serial
//! stdio) is streamed to the caller as it arrives: byte for byte for a direct boot; line
//! by line under a hypervisor, whose own log lines are set aside. The exit status is
//! decoded by the target's exit protocol, and a guest that neither ends nor reports is
//! stopped at the timeout.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thiserror::Error;
use unik_targets::{ByteSize, ExitProtocol, Target};
use unik_ui::Shell;

pub mod accel;
pub mod cmdline;
pub mod devicetree;
pub mod dom0;
pub mod hypervisor;
pub mod network;
pub mod plan;
pub mod volume;

pub use accel::Accel;
pub use plan::{BootPlan, BootRequest, RunOptions, prepare};

/// Exit status of `unik run` when the VM ended without reporting a status (a triple
/// fault, a reset). Guests report 0..=127, so this cannot be mistaken for one.
pub const STATUS_NO_REPORT: i32 = 134;
/// Exit status of `unik run` when the timeout stopped the VM.
pub const STATUS_TIMEOUT: i32 = 142;
/// Hypervisor log lines a failure message shows.
const HYPERVISOR_LINES_SHOWN: usize = 6;

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
    /// unik received a signal and stopped the VM.
    Interrupted(unik_ui::supervise::Interruption),
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

impl RunResult {
    /// The exit status `unik run` ends with, and for a run that reported none, why
    /// (with the last console and hypervisor lines).
    pub fn exit_status(&self) -> (i32, Option<String>) {
        let tail = || {
            let mut text = if self.last_lines.is_empty() {
                "The guest printed nothing.".to_string()
            } else {
                format!("Its last console lines:\n  {}", self.last_lines.join("\n  "))
            };
            let log = &self.hypervisor_log;
            let last: Vec<&str> = log[log.len().saturating_sub(HYPERVISOR_LINES_SHOWN)..]
                .iter()
                .map(|l| l.text.as_str())
                .collect();
            if !last.is_empty() {
                text += &format!(
                    "\nThe hypervisor's last lines (all of them with -v):\n  {}",
                    last.join("\n  ")
                );
            }
            text
        };
        match self.outcome {
            Outcome::Exited(status) => (status, None),
            Outcome::NoStatus => (
                STATUS_NO_REPORT,
                Some(format!(
                    "the VM ended without reporting an exit status (a triple fault, a reset, a crashed domain or a hypervisor panic?). {}",
                    tail()
                )),
            ),
            Outcome::Interrupted(interruption) => (
                interruption.exit_status(),
                Some(format!("{interruption}; the VM was stopped")),
            ),
            Outcome::TimedOut(after) => (
                STATUS_TIMEOUT,
                Some(format!(
                    "the VM was still running after {:.1} s and was stopped (--timeout). {}",
                    after.as_secs_f64(),
                    tail()
                )),
            ),
        }
    }
}

/// A VM that could not be run at all.
#[derive(Debug, Error)]
pub enum RunError {
    /// The target cannot boot the image as an `xl` domU.
    #[error("--domu: target {0} does not boot under a dom0 with xl (`unik targets` says which targets do)")]
    NoXlHost(String),
    /// A compiled-in target definition lacks what a boot needs (a unik bug).
    #[error(
        "target {target}: its definition lacks {missing}, which this boot needs (a bug in unik's targets/{target}/target.toml; please report it)"
    )]
    IncompleteTarget {
        /// The target.
        target: String,
        /// What it lacks.
        missing: &'static str,
    },
    /// `--publish` for an image without a NIC.
    #[error(
        "--publish: the image {} has no `net` component (the application never uses unik::net or std::net), so nothing in it could answer on a port; drop --publish",
        .0.display()
    )]
    PublishWithoutNic(PathBuf),
    /// `--publish` to an `xl` domU.
    #[error(
        "--publish: the host cannot reach a domU, which sits on a bridge inside the dom0; run a client in the dom0 instead, with --in-dom0 'curl http://$UNIK_DOMU_ADDRESS:PORT/'"
    )]
    PublishToDomU,
    /// An image with a NIC on a target that gives it no network this way.
    #[error(
        "the image {} has the `net` component, but target {target} gives `unik run` no network device to attach{}",
        image.display(),
        if *as_domu { "; run it as a domU with a vif instead: `unik run --domu`" } else { "" }
    )]
    NoNetworkDevice {
        /// The image.
        image: PathBuf,
        /// The target.
        target: String,
        /// Whether it would have one as an `xl` domU.
        as_domu: bool,
    },
    /// The command line is longer than the target passes on.
    #[error("{0}")]
    CommandLine(String),
    /// `--memory` is out of the target's range.
    #[error("--memory: {0}")]
    Memory(String),
    /// `--memory` below what the image needs.
    #[error(
        "{memory} of memory (--memory) cannot hold the image for {target}: it needs at least {required}; pass a larger --memory"
    )]
    MemoryTooSmall {
        /// Asked for.
        memory: ByteSize,
        /// Needed.
        required: ByteSize,
        /// Target.
        target: String,
    },
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
    /// A `--volume` for a path the image mounts no volume at.
    #[error(
        "--volume …:{guest}: the image mounts no volume there ({}); declare it in the manifest (`volumes = [\"{guest}\"]` under [package.metadata.unik]) or use one of those paths",
        if declared.is_empty() { "it declares none".to_string() } else { format!("it mounts {}", declared.join(", ")) }
    )]
    UnknownVolume {
        /// The path given.
        guest: String,
        /// The image's volumes.
        declared: Vec<String>,
    },
    /// Two `--volume`s for one path.
    #[error("--volume …:{0} is given twice: attach one file per volume")]
    VolumeTwice(String),
    /// A volume of the image without a `--volume`.
    #[error(
        "the image mounts a volume at {0}: attach a disk image for it with --volume FILE:{0} (add :size=64M to have unik make an empty one)"
    )]
    MissingVolume(String),
    /// Volumes on a target (or boot mode) without a disk device for them.
    #[error(
        "the image mounts volumes, but target {target} gives `unik run` no disk device to attach them{}",
        if *as_domu { " as it boots by default (the hypervisor's only guest has no dom0 to serve a disk); run it as a domU instead: `unik run --domu`" } else { "" }
    )]
    NoDiskDevice {
        /// The target.
        target: String,
        /// Whether the image could have its volumes as an `xl` domU.
        as_domu: bool,
    },
    /// A volume file that is missing without `size=`, or not ext2.
    #[error("--volume {}: {problem}", file.display())]
    BadVolumeFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
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
    /// The run's own folder (device tree, dom0 initramfs) could not be made.
    #[error("cannot create the run folder `{}`: {source} (is the temporary folder writable? TMPDIR chooses it)", path.display())]
    RunFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes the run's folder. One of the same name can only be left over from a process that
/// had this one's process ID and was killed before removing it (no live process shares the
/// ID): it is removed first.
fn make_run_folder(path: &std::path::Path) -> Result<(), RunError> {
    let make = || std::fs::create_dir(path);
    let made = match make() {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_dir_all(path).and_then(|()| make())
        }
        other => other,
    };
    made.map_err(|source| RunError::RunFolder {
        path: path.to_path_buf(),
        source,
    })
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
    relay_prefixes: Vec<String>,
}

/// The status a `unik: exit status N` line reports.
pub fn parse_status_line(line: &str) -> Option<i32> {
    line.strip_prefix(unik_boot_abi::EXIT_STATUS_PREFIX)?
        .trim_end()
        .parse()
        .ok()
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
            relay_prefixes: Vec::new(),
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
            let guest_line = match (message, self.relay_prefixes.as_slice()) {
                (None, []) => Some(line.as_str()),
                (None, prefixes) => prefixes.iter().find_map(|prefix| line.strip_prefix(prefix.as_str())),
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

/// Plans and boots `request` ([`prepare`], then [`execute`]).
pub fn run(shell: &Shell, request: &BootRequest<'_>, console: Box<dyn Write + Send>) -> Result<RunResult, RunError> {
    execute(shell, &prepare(request)?, console)
}

/// The run folder: made for one boot, removed with everything in it when the boot ends.
struct RunDir(PathBuf);

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Carries out `plan`: fetches what the cache lacks, makes the run's files, boots QEMU,
/// copies the guest console to `console` as it arrives, and decodes how the run ended.
pub fn execute(shell: &Shell, plan: &BootPlan, console: Box<dyn Write + Send>) -> Result<RunResult, RunError> {
    let target = &plan.definition;
    let machine = &target.machine;
    if !plan.image.is_file() {
        return Err(RunError::ImageMissing(plan.image.clone()));
    }
    if !unik_ui::on_path(&plan.qemu.program) {
        return Err(RunError::QemuMissing {
            binary: plan.qemu.program.clone(),
            package: plan.qemu_package.clone(),
        });
    }
    let mut kit = None;
    for fetch in &plan.fetch {
        match fetch {
            plan::Fetch::Hypervisor { .. } => {
                if let Some(hypervisor) = &machine.hypervisor {
                    hypervisor::ensure(shell, hypervisor, &plan.cache)?;
                }
            }
            plan::Fetch::Dom0Kit { .. } => {
                if let Some(host) = target.xl_host() {
                    kit = Some(dom0::ensure(shell, &plan.cache, target.arch, host)?);
                }
            }
        }
    }
    make_run_folder(&plan.run_dir)?;
    let _run_dir = RunDir(plan.run_dir.clone());
    for preparation in &plan.prepare {
        match preparation {
            plan::Preparation::DeviceTree { .. } => plan::make_device_tree(shell, preparation, plan)?,
            plan::Preparation::Volume { file, size } => volume::ensure(shell, file, *size)?,
            plan::Preparation::Dom0Initramfs {
                path,
                xl_config,
                bridge,
                command,
                ramdisk,
                disks,
            } => {
                let kit = kit.as_ref().ok_or_else(|| RunError::NoXlHost(plan.target.clone()))?;
                let run = dom0::DomURun {
                    image: &plan.image,
                    xl_config,
                    bridge: bridge.as_deref(),
                    command: command.as_deref(),
                    ramdisk: ramdisk.as_deref(),
                    disks,
                };
                dom0::initramfs_with(kit, &run, path)?;
            }
        }
    }
    // The VM dies with unik (even a SIGKILLed one), and in a process group of its own:
    // a terminal's Ctrl-C reaches unik alone, which stops the VM and reports the interruption.
    let mut command = shell.owned_command(&plan.qemu.program);
    command
        .args(&plan.qemu.args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    shell.echo(&command);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        binary: machine.qemu.clone(),
        source,
    })?;
    let supervised = unik_ui::supervise::supervise(&child);

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

    let mut session = Session::new(target, console, started);
    session.relay_prefixes = plan.console.relay_prefixes.clone();
    session.domu_marker = plan.console.domu_marker.clone();
    let deadline = plan.timeout.map(|limit| started + limit);
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
    drop(supervised);
    // A run that ended at the hypervisor's end marker ended there, not when QEMU was stopped.
    let elapsed = ended_at.map_or_else(|| started.elapsed(), |at| at - started);
    let _ = pump.join();
    let stderr = errors.join().unwrap_or_default();

    let outcome = if let Some(interruption) = unik_ui::supervise::interruption() {
        Outcome::Interrupted(interruption)
    } else if timed_out {
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

    fn request(target: &Target) -> BootRequest<'_> {
        BootRequest {
            target,
            image: std::path::Path::new("/images/hello"),
            mode: None,
            memory: ByteSize::new(16 << 20),
            cmdline: "a \"b c\",d".into(),
            accel: accel::Resolved::Tcg,
            timeout: None,
            network: None,
            vif_bridge: None,
            dom0_command: None,
            ramdisk: None,
            volumes: Vec::new(),
            cache: "/cache".into(),
        }
    }

    #[test]
    fn qemu_command_follows_the_target_definition() {
        let target = unik_targets::find("kvm-x86_64").unwrap();
        let mut request = request(&target);
        request.accel = accel::Resolved::Kvm;
        let plan = prepare(&request).unwrap();
        assert_eq!(
            plan.qemu.display(),
            "qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host,-arch-capabilities -m 16384K -nodefaults -no-reboot \
             -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -kernel /images/hello -append 'a \"b c\",d'"
        );
        assert!(plan.fetch.is_empty() && plan.prepare.is_empty());
    }

    #[test]
    fn xen_boots_the_image_as_its_first_module() {
        let target = unik_targets::find("xen-x86_64").unwrap();
        let plan = prepare(&request(&target)).unwrap();
        let line = plan.qemu.display();
        assert!(line.contains(" -m 278528K "), "{line}");
        assert!(
            line.contains(" -kernel /cache/xen-hypervisor-4.17-amd64/xen-4.17-amd64 -append 'dom0=pvh "),
            "{line}"
        );
        assert!(line.contains("dom0_mem=16M,max:16M"), "{line}");
        assert!(line.ends_with(" -initrd '/images/hello a \"b c\",,d'"), "{line}");
        assert!(matches!(plan.fetch[..], [plan::Fetch::Hypervisor { .. }]));
    }

    #[test]
    fn packed_files_go_where_each_loader_takes_a_ramdisk() {
        let files = std::path::Path::new("/images/hello.files.cpio");
        let target = unik_targets::find("kvm-x86_64").unwrap();
        let plan = prepare(&BootRequest {
            ramdisk: Some(files),
            ..request(&target)
        })
        .unwrap();
        assert!(
            plan.qemu.display().ends_with(" -initrd /images/hello.files.cpio"),
            "{}",
            plan.qemu.display()
        );
        assert!(plan.describe().contains("loads        /images/hello.files.cpio"));
        let target = unik_targets::find("xen-x86_64").unwrap();
        let plan = prepare(&BootRequest {
            ramdisk: Some(files),
            ..request(&target)
        })
        .unwrap();
        let line = plan.qemu.display();
        assert!(
            line.ends_with(" -initrd '/images/hello a \"b c\",,d,/images/hello.files.cpio'"),
            "{line}"
        );
        let target = unik_targets::find("xen-arm64").unwrap();
        let plan = prepare(&BootRequest {
            ramdisk: Some(files),
            ..request(&target)
        })
        .unwrap();
        assert!(
            plan.qemu
                .display()
                .contains("loader,file=/images/hello.files.cpio,addr=0x44000000,force-raw=on"),
            "{}",
            plan.qemu.display()
        );
        let plan = prepare(&BootRequest {
            ramdisk: Some(files),
            mode: Some(unik_targets::BootMode::XlDomU),
            ..request(&target)
        })
        .unwrap();
        let Some(plan::Preparation::Dom0Initramfs { xl_config, ramdisk, .. }) = plan.prepare.first() else {
            panic!("no dom0 initramfs: {:?}", plan.prepare);
        };
        assert!(xl_config.contains("ramdisk = \"/domu/files.cpio\""), "{xl_config}");
        assert_eq!(ramdisk.as_deref(), Some(files));
    }

    #[test]
    fn a_mode_the_target_lacks_is_refused() {
        let target = unik_targets::find("kvm-arm64").unwrap();
        let mut request = request(&target);
        request.mode = Some(unik_targets::BootMode::XlDomU);
        assert!(matches!(prepare(&request), Err(RunError::NoXlHost(_))));
    }
}

#[cfg(test)]
mod run_folder_tests {
    #[test]
    fn a_leftover_run_folder_is_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("unik-run-1-0");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("device-tree.dtb"), b"stale").unwrap();
        super::make_run_folder(&path).unwrap();
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        let missing = temp.path().join("no/such/parent");
        let message = super::make_run_folder(&missing).unwrap_err().to_string();
        assert!(message.contains("cannot create the run folder"), "{message}");
    }
}
