//! Joining arguments into a boot command line the guest's `unik::args()` splits back.

/// Why arguments cannot be passed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the argument {0:?} cannot be passed on a boot command line: it contains a double quote, or whitespace other than spaces"
)]
pub struct UnrepresentableArg(pub String);

/// Joins `args` with spaces, wrapping an argument that contains spaces (or is empty) in
/// double quotes, which is what the guest's splitter understands.
pub fn join(args: &[String]) -> Result<String, UnrepresentableArg> {
    let mut words = Vec::with_capacity(args.len());
    for arg in args {
        if arg.contains('"') || arg.chars().any(|c| c.is_whitespace() && c != ' ') {
            return Err(UnrepresentableArg(arg.clone()));
        }
        words.push(if arg.is_empty() || arg.contains(' ') {
            format!("\"{arg}\"")
        } else {
            arg.clone()
        });
    }
    Ok(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn spaces_are_quoted() {
        assert_eq!(join(&strings(&["a", "b c", ""])).unwrap(), "a \"b c\" \"\"");
    }

    #[test]
    fn quotes_and_newlines_are_refused() {
        assert!(join(&strings(&["say \"hi\""])).is_err());
        assert!(join(&strings(&["a\nb"])).is_err());
    }
}
