//! `unik targets`.

use anyhow::Result;
use unik_ui::Shell;

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

/// Prints every target with what it needs and whether this machine has it.
pub fn exec(_shell: &Shell) -> Result<()> {
    let catalog = unik_catalog::Catalog::shipped()?;
    for target in unik_targets::all() {
        let machine = &target.machine;
        let networked = catalog.get("net").is_some_and(|net| net.targets.contains(&target.name));
        unik_ui::outln!("{}", target.name);
        unik_ui::outln!("    {}", target.summary);
        unik_ui::outln!(
            "    builds for   {} (Rust target; `unik build` installs it with rustup)",
            target.rust_target
        );
        unik_ui::outln!(
            "    std programs {} (std built from source with the rust-src component)",
            target.std_rust_target
        );
        let state = if on_path(&machine.qemu) {
            "installed".to_string()
        } else {
            format!("missing: apt-get install {}", machine.debian_package)
        };
        unik_ui::outln!("    boots with   {} -M {} ({state})", machine.qemu, machine.machine);
        if let Some(hypervisor) = &machine.hypervisor {
            unik_ui::outln!(
                "    under        {} from Debian's {} (`unik run` downloads and unpacks it into its cache; nothing is installed)",
                hypervisor.name,
                hypervisor.debian_package
            );
        }
        match (&machine.nic_device, networked) {
            (Some(nic), _) => unik_ui::outln!(
                "    network      {nic} on QEMU's user network for images with the net component (`unik run --publish`)"
            ),
            (None, true) => unik_ui::outln!(
                "    network      a vif (netfront) on a dom0 bridge, declared in the `.xl`; `unik run --domu` makes the bridge in its dom0 (clients with --in-dom0)"
            ),
            (None, false) => unik_ui::outln!("    network      none yet (images with the net component are refused)"),
        }
        if let Some(guest_type) = &target.xl_type {
            unik_ui::outln!("    writes       <package>.xl ({guest_type} guest) for `xl create` on a Xen host");
        }
        if machine
            .hypervisor
            .as_ref()
            .is_some_and(|xen| matches!(xen.handoff, unik_targets::Handoff::Module { .. }))
        {
            unik_ui::outln!(
                "    as a domU    `unik run --domu`: a Linux dom0 from Debian's packages runs `xl create` (assembled once into the cache)"
            );
        }
    }
    Ok(())
}
