//! The user-facing side of every command: cargo-style status lines and warnings on
//! stderr, the echo of each subprocess in verbose mode, and the clean environment that
//! nested tools run in.
//!
//! Every process unik starts is created with [`Shell::command`] (or, for one that must die
//! with unik, [`Shell::owned_command`]), so none escapes the echo or inherits the outer
//! cargo's environment. [`supervise`] stops them when unik is signalled.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::process::Command;

pub mod supervise;

/// Where status goes, and how much of it.
#[derive(Clone, Debug)]
pub struct Shell {
    verbose: bool,
    quiet: bool,
    terminal: bool,
    color: bool,
}

impl Shell {
    /// A shell writing to stderr; colour only when stderr is a terminal.
    pub fn new(verbose: bool, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal() && !quiet;
        let color = terminal && std::env::var_os("NO_COLOR").is_none();
        Shell {
            verbose,
            quiet,
            terminal,
            color,
        }
    }

    /// Whether `-v` was given.
    pub fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// Whether `-q` was given.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Whether stderr is a terminal (and `-q` was not given): progress displays are wanted.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Whether stderr is a terminal that takes colour.
    pub fn is_color(&self) -> bool {
        self.color
    }

    fn styled(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A status line: `{verb:>12} {message}`, the verb in bold green on a terminal.
    pub fn status(&self, verb: &str, message: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(
                std::io::stderr(),
                "{} {}",
                self.styled("1;32", &format!("{verb:>12}")),
                message.as_ref()
            );
        }
    }

    /// `warning: message`.
    pub fn warn(&self, message: impl AsRef<str>) {
        let _ = writeln!(
            std::io::stderr(),
            "{}: {}",
            self.styled("1;33", "warning"),
            message.as_ref()
        );
    }

    /// Text another tool wrote for people (a compiler's rendered diagnostics), passed to
    /// stderr as it is; a closed stderr is ignored.
    pub fn diagnostic(&self, text: &str) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    /// `note: message`.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(
                std::io::stderr(),
                "{}: {}",
                self.styled("1;36", "note"),
                message.as_ref()
            );
        }
    }

    /// `error: message` (the CLI's last word before a non-zero exit).
    pub fn error(&self, message: impl AsRef<str>) {
        let _ = writeln!(
            std::io::stderr(),
            "{}: {}",
            self.styled("1;31", "error"),
            message.as_ref()
        );
    }

    /// A command for `program` with the outer cargo's environment removed (see
    /// [`sanitize`]). Call [`Shell::echo`] before running it.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        sanitize(&mut command);
        command
    }

    /// A process that takes unik's place in its caller's environment, unchanged: rustc,
    /// when cargo runs unik as its wrapper (`builder::identity`). Cargo set that
    /// environment for this one compilation (`CARGO_PKG_*`, `OUT_DIR`), so nothing is
    /// stripped, and nothing is echoed (rustc's output is cargo's to show).
    pub fn inherited_command(program: impl AsRef<OsStr>) -> Command {
        Command::new(program)
    }

    /// Like [`Shell::command`], for a process that must not outlive unik (a VM, a build):
    /// started through `setpriv --pdeathsig KILL` where util-linux is installed, so the
    /// kernel kills it when the calling thread ends, even by SIGKILL. The calling thread
    /// must be the one that waits for the process. Register the child with
    /// [`supervise::supervise`] so that a signal to unik stops it too.
    pub fn owned_command(&self, program: impl AsRef<OsStr>) -> Command {
        if !on_path(supervise::DEATH_SIGNAL_WRAPPER) {
            if self.verbose {
                self.note(format!(
                    "`{}` (util-linux) is not installed: if unik is killed, {} keeps running",
                    supervise::DEATH_SIGNAL_WRAPPER,
                    program.as_ref().to_string_lossy()
                ));
            }
            return self.command(program);
        }
        let mut command = self.command(supervise::DEATH_SIGNAL_WRAPPER);
        command.args(["--pdeathsig", "KILL", "--"]).arg(program);
        command
    }

    /// In verbose mode, prints `$ program args...` (with the variables unik set).
    pub fn echo(&self, command: &Command) {
        if self.verbose {
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                self.styled("2", &format!("$ {}", display_command(command)))
            );
        }
    }
}

/// Variables a parent cargo or rustup sets that must not leak into a nested cargo build
/// for another target; user configuration (`CARGO_HOME`, `CARGO_TARGET_DIR`, registry and
/// network settings, `RUSTUP_*`) passes through.
pub fn sanitize(command: &mut Command) {
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_TERM_COLOR",
        "CARGO_TERM_PROGRESS_WHEN",
    ];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "RUSTUP_",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let outer = key.starts_with("CARGO") || key.starts_with("RUST") || key == "__CARGO_FIX_PLZ";
        let kept = KEEP.contains(&key) || KEEP_PREFIXES.iter().any(|p| key.starts_with(p));
        if outer && !kept {
            command.env_remove(key);
        }
    }
}

/// `VAR=value program arg...`, quoting what a shell would need quoted.
pub fn display_command(command: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                shell_word(&value.to_string_lossy())
            ));
        }
    }
    parts.push(shell_word(&command.get_program().to_string_lossy()));
    parts.extend(command.get_args().map(|a| shell_word(&a.to_string_lossy())));
    parts.join(" ")
}

/// `text` as a POSIX shell would need it quoted (unit separators shown as `\x1f`).
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''").replace('\x1f', r"\x1f"))
    }
}

/// Whether `binary` is an executable file in one of `PATH`'s folders.
pub fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

/// Writes to stdout; a closed pipe (`unik targets | head`) ends the process quietly with
/// status 141, as SIGPIPE would, instead of panicking like `print!`.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_fmt(args).and_then(|()| stdout.flush())
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(141);
    }
}

/// `print!` to stdout through [`write_stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout through [`write_stdout`].
#[macro_export]
macro_rules! outln {
    () => { $crate::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_quotes_what_needs_it() {
        let mut command = Command::new("qemu-system-x86_64");
        command.args(["-append", "a b", "-m", "64M"]).env("X", "it's");
        command.env_remove("UNSET");
        assert_eq!(
            display_command(&command),
            r"X='it'\''s' qemu-system-x86_64 -append 'a b' -m 64M"
        );
    }

    #[test]
    fn sanitize_drops_outer_cargo_variables_only() {
        let mut command = Command::new("cargo");
        sanitize(&mut command);
        let removed: Vec<String> = command
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        // `cargo test` sets CARGO_PKG_NAME and CARGO_MANIFEST_DIR for this process.
        assert!(removed.iter().any(|k| k == "CARGO_PKG_NAME"), "{removed:?}");
        assert!(removed.iter().any(|k| k == "CARGO_MANIFEST_DIR"), "{removed:?}");
        assert!(
            !removed.iter().any(|k| k == "CARGO_HOME" || k.starts_with("RUSTUP_")),
            "{removed:?}"
        );
    }
}
