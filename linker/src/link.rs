//! The settings of the final link, as `rustc` flags for the image's binary crate.

use std::path::Path;

/// `rustc` flags that link the image with the rendered script at `script`.
///
/// - `-T script`: the target's layout (entry, segments, symbols the boot code expects);
/// - `-n` (nmagic): segments are not page-aligned in the file, which saves up to a page of
///   padding per segment; loaders copy segments by offset, so nothing relies on it;
/// - `--gc-sections`: drop every section nothing reaches from the entry (rustc passes it
///   too; stated here because the image's minimality depends on it);
/// - `-z norelro`, `--build-id=none`: no segments or notes the loaders don't use;
/// - `--emit-relocs`: the linked ELF keeps its relocations, from which the specialisation
///   analysis builds the image's reference graph (the image file drops them with the
///   other sections).
pub fn rustc_args(script: &Path) -> Vec<String> {
    let link_args = [
        format!("-T{}", script.display()),
        "-n".to_string(),
        "--gc-sections".to_string(),
        "-znorelro".to_string(),
        "--build-id=none".to_string(),
        "--emit-relocs".to_string(),
    ];
    link_args.into_iter().map(|arg| format!("-Clink-arg={arg}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_a_link_arg_and_the_script_comes_first() {
        let args = rustc_args(Path::new("/x/image.ld"));
        assert_eq!(args[0], "-Clink-arg=-T/x/image.ld");
        assert!(args.iter().all(|a| a.starts_with("-Clink-arg=")));
    }
}
