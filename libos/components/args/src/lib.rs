//! The args component: the boot command line split into words.
//!
//! Words are separated by ASCII whitespace. A word wrapped in double quotes keeps its
//! inner whitespace and loses the quotes (`"hello world"` is one word, `hello world`);
//! quotes elsewhere are kept as they are. No allocation: words borrow the command line.
//!
//! Words starting with `unik.` (such as `unik.ip=10.0.2.15/24`) configure the library OS
//! and are not the application's: [`Args`] skips them.
#![no_std]
#![forbid(unsafe_code)]

use unik_platform::{BootInfo, Current};

/// The words of the boot command line (the program name is not among them).
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn args() -> Args {
    Args::new(Current::command_line())
}

/// The words of any command line, the library OS's parameters included.
#[derive(Clone, Debug)]
pub struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    /// Splits `line` into words.
    pub fn new(line: &'a str) -> Words<'a> {
        Words { rest: line }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let line = self.rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() {
            self.rest = line;
            return None;
        }
        if let Some(quoted) = line.strip_prefix('"')
            && let Some(end) = quoted.find('"')
        {
            let after = &quoted[end + 1..];
            if after.is_empty() || after.starts_with(|c: char| c.is_ascii_whitespace()) {
                self.rest = after;
                return Some(&quoted[..end]);
            }
        }
        let end = line.find(|c: char| c.is_ascii_whitespace()).unwrap_or(line.len());
        self.rest = &line[end..];
        Some(&line[..end])
    }
}

/// Iterator over the application's words of the boot command line.
#[derive(Clone, Debug)]
pub struct Args {
    words: Words<'static>,
}

impl Args {
    /// Splits `line` into words.
    pub fn new(line: &'static str) -> Args {
        Args {
            words: Words::new(line),
        }
    }
}

impl Iterator for Args {
    type Item = &'static str;

    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    fn next(&mut self) -> Option<&'static str> {
        self.words.find(|word| !is_library_os_parameter(word))
    }
}

/// The environment the command line gives the application: each word
/// `unik.env.NAME=VALUE`, as `NAME=VALUE` (std's `std::env::var` reads them).
pub fn environment() -> Environment {
    Environment {
        words: Words::new(Current::command_line()),
    }
}

/// Iterator over the environment words of a command line: see [`environment`].
#[derive(Clone, Debug)]
pub struct Environment {
    words: Words<'static>,
}

impl Environment {
    /// The environment words of `line`.
    pub fn new(line: &'static str) -> Environment {
        Environment {
            words: Words::new(line),
        }
    }
}

/// Words that set an environment variable start with this.
const ENVIRONMENT_PREFIX: &str = "unik.env.";

impl Iterator for Environment {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        loop {
            let word = self.words.next()?;
            if let Some(variable) = word.strip_prefix(ENVIRONMENT_PREFIX)
                && variable.find('=').is_some_and(|at| at > 0)
            {
                return Some(variable);
            }
        }
    }
}

/// The value of the library OS's parameter `unik.NAME=VALUE` on the command line (the
/// last one, if it is given twice).
pub fn parameter(name: &str) -> Option<&'static str> {
    parameter_in(Current::command_line(), name)
}

/// [`parameter`] of `line`.
pub fn parameter_in<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    for word in Words::new(line) {
        if let Some(rest) = word.strip_prefix("unik.")
            && let Some(value) = rest.strip_prefix(name).and_then(|rest| rest.strip_prefix('='))
        {
            found = Some(value);
        }
    }
    found
}

/// Words starting with this are the library OS's parameters.
const LIBRARY_OS_PREFIX: &[u8; 5] = b"unik.";

/// Whether `word` starts with [`LIBRARY_OS_PREFIX`]; compared byte by byte, because
/// `starts_with` would bring `memcmp` (half a kilobyte) into every image that reads args.
pub fn is_library_os_parameter(word: &str) -> bool {
    let word = word.as_bytes();
    word.len() >= LIBRARY_OS_PREFIX.len() && LIBRARY_OS_PREFIX.iter().zip(word).all(|(a, b)| a == b)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn parameters_are_found_by_name() {
        let line = "a unik.time=1796402237 unik.timezone=x unik.time=5 b";
        assert_eq!(parameter_in(line, "time"), Some("5"));
        assert_eq!(parameter_in(line, "timezone"), Some("x"));
        assert_eq!(parameter_in(line, "tim"), None);
    }

    fn words(line: &'static str) -> Vec<&'static str> {
        Args::new(line).collect()
    }

    #[test]
    fn splits_on_any_whitespace() {
        assert_eq!(words("  one two\tthree\n"), ["one", "two", "three"]);
        assert!(words("").is_empty());
        assert!(words("   ").is_empty());
    }

    #[test]
    fn quoted_words_keep_spaces() {
        assert_eq!(words(r#"a "b c" d"#), ["a", "b c", "d"]);
        assert_eq!(words(r#""""#), [""]);
    }

    #[test]
    fn library_os_parameters_are_not_the_applications() {
        assert_eq!(words("a unik.ip=10.0.2.15/24 b unik.gateway=10.0.2.2"), ["a", "b"]);
        assert_eq!(words("unik"), ["unik"]);
    }

    #[test]
    fn environment_words_are_named_variables() {
        let line = r#"a unik.env.HOME=/ "unik.env.GREETING=hi there" unik.env.=x unik.env.NOVALUE unik.ip=1.2.3.4/8"#;
        assert_eq!(
            Environment::new(line).collect::<Vec<_>>(),
            ["HOME=/", "GREETING=hi there"]
        );
        assert_eq!(words(line), ["a"]);
    }

    #[test]
    fn stray_quotes_stay() {
        assert_eq!(words(r#"x"y "unterminated"#), [r#"x"y"#, r#""unterminated"#]);
        assert_eq!(words(r#""a"b c"#), [r#""a"b"#, "c"]);
    }

    #[test]
    fn reads_the_platform_command_line() {
        // The host platform reads UNIK_HOST_CMDLINE once; unset here, so empty.
        assert_eq!(args().count(), words(Current::command_line()).len());
    }
}
