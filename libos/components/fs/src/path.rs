//! Paths as the C library passes them: bytes, `/`-separated, absolute or relative to the
//! working directory.

/// A step of a path walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<'p> {
    /// `..`: to the parent (the root's parent is the root).
    Up,
    /// A name to look up.
    Name(&'p [u8]),
}

/// The steps of `path` (empty components and `.` left out).
pub(crate) fn steps(path: &[u8]) -> impl Iterator<Item = Step<'_>> {
    path.split(|&b| b == b'/')
        .filter(|part| !part.is_empty() && *part != b".")
        .map(|part| if part == b".." { Step::Up } else { Step::Name(part) })
}

/// Splits `path` into the path of its parent and its last component, ignoring trailing
/// slashes (`a/b/` → `a`, `b`); the last component may be `.` or `..`.
pub(crate) fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    let trimmed = match path.iter().rposition(|&b| b != b'/') {
        Some(end) => &path[..=end],
        None => return (path, b""),
    };
    match trimmed.iter().rposition(|&b| b == b'/') {
        Some(slash) => (&trimmed[..=slash], &trimmed[slash + 1..]),
        None => (b"", trimmed),
    }
}

/// Whether `path` ends in `/`: then it must name a directory.
pub(crate) fn names_directory(path: &[u8]) -> bool {
    path.last() == Some(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn steps_skip_dots_and_repeated_slashes() {
        let steps: Vec<_> = steps(b"/a//./b/../c/").collect();
        assert_eq!(steps, [Step::Name(b"a"), Step::Name(b"b"), Step::Up, Step::Name(b"c")]);
    }

    #[test]
    fn the_last_component_is_split_off() {
        assert_eq!(split_last(b"/a/b"), (&b"/a/"[..], &b"b"[..]));
        assert_eq!(split_last(b"a/b//"), (&b"a/"[..], &b"b"[..]));
        assert_eq!(split_last(b"b"), (&b""[..], &b"b"[..]));
        assert_eq!(split_last(b"/"), (&b"/"[..], &b""[..]));
        assert_eq!(split_last(b"/x/.."), (&b"/x/"[..], &b".."[..]));
    }
}
