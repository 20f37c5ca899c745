//! `xl` configurations for Xen targets: the file `xl create` boots the image from (written
//! by the builder beside the image, and by the runner for a dom0 it boots).
//!
//! Only what the image uses is declared: devices come with the components that need
//! them (a `vif` on the manifest's bridge for an image with the net component; no disk),
//! and the packed files as the domain's `ramdisk`.

use std::path::Path;

/// What goes into the configuration.
#[derive(Clone, Debug)]
pub struct XlConfig<'a> {
    /// Domain name (the package name).
    pub name: &'a str,
    /// Guest type, e.g. `pvh`.
    pub guest_type: &'a str,
    /// The image.
    pub kernel: &'a Path,
    /// Guest memory in MiB.
    pub memory_mib: u64,
    /// Boot command line.
    pub cmdline: &'a str,
    /// Target name, for the header comment.
    pub target: &'a str,
    /// The dom0 bridge of the image's network interface; `None`: no network.
    pub vif_bridge: Option<&'a str>,
    /// The packed files, loaded as the domain's ramdisk.
    pub ramdisk: Option<&'a Path>,
}

/// A string in `xl` configuration syntax: double quotes, with `\` and `"` escaped.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The configuration text.
pub fn render(config: &XlConfig<'_>) -> String {
    let file = format!("{}.xl", config.name);
    let mut out = String::new();
    out.push_str(&format!(
        "# xl configuration for `{}`, written by unik for {}.\n",
        config.name, config.target
    ));
    out.push_str(&format!("# Boot it on a Xen host with: xl create -c {file}\n"));
    if let Some(bridge) = config.vif_bridge {
        out.push_str(&format!(
            "# Its vif joins bridge {bridge}, which must exist in dom0 (package.metadata.unik.xen-bridge names another).\n"
        ));
    }
    out.push_str(&format!("name = {}\n", quoted(config.name)));
    out.push_str(&format!("type = {}\n", quoted(config.guest_type)));
    out.push_str(&format!("kernel = {}\n", quoted(&config.kernel.display().to_string())));
    if let Some(ramdisk) = config.ramdisk {
        out.push_str(&format!("ramdisk = {}\n", quoted(&ramdisk.display().to_string())));
    }
    out.push_str(&format!("memory = {}\n", config.memory_mib));
    out.push_str("vcpus = 1\n");
    if !config.cmdline.is_empty() {
        out.push_str(&format!("cmdline = {}\n", quoted(config.cmdline)));
    }
    if let Some(bridge) = config.vif_bridge {
        out.push_str(&format!("vif = [{}]\n", quoted(&format!("bridge={bridge}"))));
    }
    out.push_str("on_poweroff = \"destroy\"\n");
    out.push_str("on_reboot = \"destroy\"\n");
    out.push_str("on_crash = \"destroy\"\n");
    out
}
