//! `unik targets`.

use anyhow::Result;
use unik_catalog::Device;
use unik_targets::NetworkDevice;
use unik_ui::Shell;

/// Prints every target with what it needs and whether this machine has it.
pub fn exec(_shell: &Shell) -> Result<()> {
    let catalog = unik_catalog::Catalog::shipped()?;
    for target in unik_targets::all() {
        let machine = &target.machine;
        let networked = catalog
            .components
            .iter()
            .any(|c| c.devices.contains(&Device::Nic) && c.is_provided_on(&target.name));
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
        let state = if unik_ui::on_path(&machine.qemu) {
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
        match (target.network_device(), networked) {
            (_, false) => unik_ui::outln!("    network      none yet (images with the net component are refused)"),
            (NetworkDevice::QemuNic(nic), true) => unik_ui::outln!(
                "    network      {nic} on QEMU's user network for images with the net component (`unik run --publish`)"
            ),
            (NetworkDevice::XenVif, true) => unik_ui::outln!(
                "    network      a vif (netfront) on a dom0 bridge, declared in the `.xl`; `unik run --domu` makes the bridge in its dom0 (clients with --in-dom0)"
            ),
            (NetworkDevice::None, true) => {
                unik_ui::outln!("    network      only where the image is deployed (`unik run` attaches none)")
            }
        }
        if let Some(guest_type) = &target.xl_type {
            unik_ui::outln!("    writes       <package>.xl ({guest_type} guest) for `xl create` on a Xen host");
        }
        if target.xl_host().is_some() {
            unik_ui::outln!(
                "    as a domU    `unik run --domu`: a Linux dom0 from Debian's packages runs `xl create` (assembled once into the cache)"
            );
        }
    }
    Ok(())
}
