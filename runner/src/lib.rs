//! Boots an image under QEMU and reports how it ended.
//!
//! The QEMU command comes from the target definition; the guest console (QEMU's serial
//! stdio) is streamed to the caller as it arrives; the guest's exit status is decoded
//! according to the target's exit protocol. A guest that neither exits nor reports is
//! stopped at the timeout.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thiserror::Error;
use unik_targets::{ByteSize, ExitProtocol, Target};
use unik_ui::Shell;

pub mod accel;
pub mod cmdline;

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
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest reported this exit status.
    Exited(i32),
    /// QEMU ended without the guest reporting a status: a triple fault, a reset, or a
    /// guest that halted.
    NoStatus,
    /// The timeout passed and the VM was stopped.
    TimedOut(Duration),
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// The last lines the guest printed (for failure messages).
    pub last_lines: Vec<String>,
    /// Wall time from spawning QEMU to its exit.
    pub elapsed: Duration,
}

/// A VM that could not be run at all.
#[derive(Debug, Error)]
pub enum RunError {
    /// QEMU is not installed.
    #[error(
        "`{binary}` was not found on PATH; install it (Debian/Ubuntu: `sudo apt-get install {package}`)"
    )]
    QemuMissing {
        /// The binary.
        binary: String,
        /// Debian package.
        package: String,
    },
    /// The image file does not exist.
    #[error("the image `{0}` does not exist; build it first with `unik build`")]
    ImageMissing(PathBuf),
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
}

/// The QEMU command booting `request`.
pub fn qemu_command(shell: &Shell, request: &RunRequest<'_>) -> Command {
    let machine = &request.target.machine;
    let mut command = shell.command(&machine.qemu);
    command.arg("-M").arg(&machine.machine);
    match request.accel {
        accel::Resolved::Tcg => command.args(["-accel", "tcg"]),
        accel::Resolved::Kvm => command.args(["-accel", "kvm", "-cpu", &machine.kvm_cpu]),
    };
    command.args(["-m", &format!("{}K", request.memory.kib_rounded_up())]);
    command.args(&machine.args);
    command.arg(&machine.kernel_arg).arg(request.image);
    if !request.cmdline.is_empty() {
        command.arg(&machine.cmdline_arg).arg(&request.cmdline);
    }
    command
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

/// The guest's console text kept for failure messages.
const KEPT_CONSOLE_BYTES: usize = 4096;

/// Boots the image, copying the guest console to `console` as it arrives.
pub fn run(
    shell: &Shell,
    request: &RunRequest<'_>,
    mut console: Box<dyn Write + Send>,
) -> Result<RunResult, RunError> {
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
    let mut command = qemu_command(shell, request);
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

    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (done, finished) = mpsc::channel();
    let pump = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            let _ = console.write_all(&buffer[..n]);
            let _ = console.flush();
            kept.extend_from_slice(&buffer[..n]);
            if kept.len() > 2 * KEPT_CONSOLE_BYTES {
                kept.drain(..kept.len() - KEPT_CONSOLE_BYTES);
            }
        }
        let _ = done.send(());
        kept
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let timed_out = match request.timeout {
        Some(limit) => finished.recv_timeout(limit).is_err(),
        None => finished.recv().is_err(),
    };
    if timed_out {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|source| RunError::Spawn {
        binary: machine.qemu.clone(),
        source,
    })?;
    let elapsed = started.elapsed();
    let kept = pump.join().unwrap_or_default();
    let stderr = errors.join().unwrap_or_default();
    let last_lines = last_lines(&kept, 10);

    let outcome = if timed_out {
        Outcome::TimedOut(elapsed)
    } else {
        match decode_status(machine.exit, status.code(), &stderr) {
            Ok(outcome) => outcome,
            Err(status) => return Err(RunError::Qemu { status, stderr }),
        }
    };
    Ok(RunResult {
        outcome,
        last_lines,
        elapsed,
    })
}

/// Turns QEMU's exit status into an [`Outcome`], or `Err(status)` if QEMU itself failed.
pub fn decode_status(
    protocol: ExitProtocol,
    code: Option<i32>,
    stderr: &str,
) -> Result<Outcome, i32> {
    match (protocol, code) {
        // Killed by a signal (someone else stopped QEMU).
        (_, None) => Ok(Outcome::NoStatus),
        (ExitProtocol::IsaDebugExit, Some(0)) => Ok(Outcome::NoStatus),
        // QEMU reports its own errors with status 1 and a message; a guest status of 0
        // also gives 1, but then QEMU prints no error.
        (ExitProtocol::IsaDebugExit, Some(1)) if stderr.lines().any(is_qemu_error) => Err(1),
        (ExitProtocol::IsaDebugExit, Some(code)) if code & 1 == 1 => Ok(Outcome::Exited(code >> 1)),
        (ExitProtocol::IsaDebugExit, Some(code)) => Err(code),
    }
}

fn is_qemu_error(line: &str) -> bool {
    line.starts_with("qemu-system-") && !line.contains("warning")
}

fn last_lines(bytes: &[u8], count: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
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
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), ["b", "c"]);
        assert!(last_lines(b"", 2).is_empty());
    }

    #[test]
    fn qemu_command_follows_the_target_definition() {
        let target = unik_targets::find("kvm-x86_64").unwrap();
        let request = RunRequest {
            target: &target,
            image: Path::new("/images/hello"),
            memory: ByteSize::new(16 << 20),
            cmdline: "a \"b c\"".into(),
            accel: accel::Resolved::Kvm,
            timeout: None,
        };
        let line = unik_ui::display_command(&qemu_command(&Shell::new(false, true), &request));
        assert_eq!(
            line,
            "qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host,-arch-capabilities -m 16384K -nodefaults -no-reboot \
             -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -kernel /images/hello -append 'a \"b c\"'"
        );
    }
}
