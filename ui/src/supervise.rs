//! Nothing unik starts outlives it: the processes it runs die with it, and a signal to
//! unik stops them before unik reports the interruption.
//!
//! Two mechanisms, for two ways unik can end:
//!
//! - **Caught signals** (SIGINT, SIGTERM, SIGHUP, SIGQUIT): [`catch_signals`] installs one
//!   handler thread for the process. A signal stops every child registered with
//!   [`supervise`] (a VM, a cargo build) and is remembered; the code waiting for that child
//!   sees it end, returns, and the CLI turns [`interruption`] into status 128 + the signal
//!   number, as shells do. With no child registered, unik exits at once with that status.
//! - **unik's own death, SIGKILL included**: [`Shell::owned_command`](crate::Shell::owned_command)
//!   starts a program through util-linux's `setpriv --pdeathsig KILL`, so the kernel kills
//!   it when the thread that started it ends. (The host crates forbid `unsafe`, which rules
//!   out a `pre_exec` calling `prctl` ourselves.) The death signal follows the *thread*
//!   that spawned the child, so such a child must be started by a thread that waits for it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// The signals that end unik (after it has stopped its children).
const CAUGHT: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

/// The signal that interrupted unik, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The children to stop when a signal arrives: registration number and process.
static CHILDREN: Mutex<Vec<(u64, rustix::process::Pid)>> = Mutex::new(Vec::new());
static NEXT_REGISTRATION: AtomicU64 = AtomicU64::new(0);

/// A signal that interrupted unik.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interruption {
    /// The signal's number.
    pub signal: i32,
}

impl Interruption {
    /// The exit status a shell gives a process ended by this signal: 128 + its number.
    pub fn exit_status(self) -> i32 {
        128 + self.signal
    }

    /// The signal's name, `SIGINT`.
    pub fn name(self) -> String {
        signal_hook::low_level::signal_name(self.signal)
            .map_or_else(|| format!("signal {}", self.signal), str::to_string)
    }
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", self.name())
    }
}

/// Installs the handler for SIGINT, SIGTERM, SIGHUP and SIGQUIT (once per process, by the
/// CLI's `main`). A signal that was ignored when unik started (a background job of a
/// non-interactive shell ignores SIGINT) is caught too: unik then stops its VM like for
/// any other.
pub fn catch_signals() -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new(CAUGHT)?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            stop_children(signal);
        }
    })?;
    Ok(())
}

/// Records `signal` and stops every registered child; exits at once if there is none.
fn stop_children(signal: i32) {
    RECEIVED.store(signal, Ordering::SeqCst);
    let children = CHILDREN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if children.is_empty() {
        std::process::exit(Interruption { signal }.exit_status());
    }
    for &(_, pid) in children.iter() {
        // A child that already ended (and whose waiter will unregister it) gives ESRCH.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// The signal that interrupted unik, if one did.
pub fn interruption() -> Option<Interruption> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(Interruption { signal }),
    }
}

/// Keeps a child registered to be stopped on a signal; unregisters it when dropped. Drop
/// it only after the child has been waited for.
#[derive(Debug)]
#[must_use = "the child is supervised only while this lives"]
pub struct Supervised(u64);

/// Registers `child` to be killed when unik receives a signal. If one already arrived, the
/// child is killed at once (it started too late to be stopped with the others).
pub fn supervise(child: &std::process::Child) -> Supervised {
    let registration = NEXT_REGISTRATION.fetch_add(1, Ordering::Relaxed);
    let pid = rustix::process::Pid::from_child(child);
    let mut children = CHILDREN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    children.push((registration, pid));
    if interruption().is_some() {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
    Supervised(registration)
}

/// Runs `command` to completion like [`std::process::Command::output`] (stdout and stderr
/// captured), supervised: a signal to unik stops it, and the caller sees it fail. Build the
/// command with [`crate::Shell::owned_command`] so that it also ends with unik.
pub fn output(command: &mut std::process::Command) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let _supervised = supervise(&child);
    child.wait_with_output()
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let mut children = CHILDREN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        children.retain(|&(registration, _)| registration != self.0);
    }
}

/// The program that starts another with a parent-death signal (util-linux, on every
/// Debian system), if it is installed.
pub(crate) const DEATH_SIGNAL_WRAPPER: &str = "setpriv";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interruptions_exit_like_a_shell_reports_them() {
        let interrupt = Interruption {
            signal: signal_hook::consts::SIGINT,
        };
        assert_eq!(interrupt.exit_status(), 130);
        assert_eq!(interrupt.to_string(), "interrupted by SIGINT");
        let terminate = Interruption {
            signal: signal_hook::consts::SIGTERM,
        };
        assert_eq!(terminate.exit_status(), 143);
    }

    #[test]
    fn supervised_output_is_captured() {
        let output = output(std::process::Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"])).unwrap();
        assert_eq!(
            (output.stdout.as_slice(), output.stderr.as_slice()),
            (&b"out\n"[..], &b"err\n"[..])
        );
        assert_eq!(output.status.code(), Some(3));
    }

    #[test]
    fn a_supervised_child_is_unregistered_when_dropped() {
        let mut child = std::process::Command::new("true").spawn().expect("`true` runs");
        let supervised = supervise(&child);
        let registered = |id| CHILDREN.lock().unwrap().iter().any(|&(r, _)| r == id);
        assert!(registered(supervised.0));
        let _ = child.wait();
        let id = supervised.0;
        drop(supervised);
        assert!(!registered(id));
    }
}
