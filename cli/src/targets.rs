//! `unik targets`.

use anyhow::Result;
use unik_ui::Shell;

/// Prints every target with what it needs and whether this machine has it.
pub fn exec(_shell: &Shell) -> Result<()> {
    for target in unik_targets::all() {
        println!("{}", target.name);
        println!("    {}", target.summary);
        println!(
            "    builds for   {} (Rust target; `unik build` installs it with rustup)",
            target.rust_target
        );
        let qemu = &target.machine.qemu;
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(qemu).is_file()));
        let state = if found {
            "installed".to_string()
        } else {
            format!("missing: apt-get install {}", target.machine.debian_package)
        };
        println!(
            "    boots with   {qemu} -M {} ({state})",
            target.machine.machine
        );
    }
    Ok(())
}
