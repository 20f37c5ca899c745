//! `xl` configurations for Xen targets: the file `xl create` boots the image from (written
//! by the builder beside the image, and by the runner for a dom0 it boots).
//!
//! Only what the image uses is declared: devices come with the components that need
//! them (a `vif` on the manifest's bridge for an image with the net component, a `disk`
//! per volume for an image with volumes), and the packed files as the domain's `ramdisk`.

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
    /// The volumes' disks, in the order the image mounts its volumes (xvda first).
    pub disks: &'a [XlDisk],
}

/// A volume's disk in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XlDisk {
    /// Where the image mounts it (for the comment).
    pub volume: String,
    /// The disk image or block device in the dom0.
    pub target: String,
    /// Whether the domain may only read it.
    pub read_only: bool,
}

/// The guest's name for disk `index`: `xvda`, …, `xvdz`, `xvdaa`, … (Linux's scheme).
pub fn virtual_disk_name(index: usize) -> String {
    let mut letters = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        rest -= 1;
        letters.push(b'a' + (rest % 26) as u8);
        rest /= 26;
    }
    letters.reverse();
    format!("xvd{}", String::from_utf8_lossy(&letters))
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
    for (index, disk) in config.disks.iter().enumerate() {
        out.push_str(&format!(
            "# Volume {} is disk {} (an ext2 image: mke2fs -t ext2 FILE 64M), {}.\n",
            disk.volume,
            virtual_disk_name(index),
            if disk.read_only { "read-only" } else { "read-write" }
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
    if !config.disks.is_empty() {
        let disks: Vec<String> = config
            .disks
            .iter()
            .enumerate()
            .map(|(index, disk)| {
                let access = if disk.read_only { "ro" } else { "rw" };
                // `target=` last: xl takes the rest of the line as the path.
                quoted(&format!(
                    "format=raw, vdev={}, access={access}, target={}",
                    virtual_disk_name(index),
                    disk.target
                ))
            })
            .collect();
        out.push_str(&format!("disk = [{}]\n", disks.join(", ")));
    }
    out.push_str("on_poweroff = \"destroy\"\n");
    out.push_str("on_reboot = \"destroy\"\n");
    out.push_str("on_crash = \"destroy\"\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_are_named_as_linux_names_them() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 701, 702].map(virtual_disk_name).into();
        assert_eq!(names, ["xvda", "xvdb", "xvdz", "xvdaa", "xvdab", "xvdzz", "xvdaaa"]);
    }

    #[test]
    fn each_volume_gets_a_disk_line_with_its_target_last() {
        let disks = [
            XlDisk {
                volume: "/data".into(),
                target: "/srv/kv data.img".into(),
                read_only: false,
            },
            XlDisk {
                volume: "/ref".into(),
                target: "/dev/vdb".into(),
                read_only: true,
            },
        ];
        let config = XlConfig {
            name: "kv",
            guest_type: "pvh",
            kernel: Path::new("/images/kv"),
            memory_mib: 64,
            cmdline: "",
            target: "xen-x86_64",
            vif_bridge: None,
            ramdisk: None,
            disks: &disks,
        };
        let text = render(&config);
        assert!(text.contains("# Volume /data is disk xvda"), "{text}");
        assert!(text.contains("# Volume /ref is disk xvdb"), "{text}");
        assert!(
            text.contains(
                "disk = [\"format=raw, vdev=xvda, access=rw, target=/srv/kv data.img\", \"format=raw, vdev=xvdb, access=ro, target=/dev/vdb\"]\n"
            ),
            "{text}"
        );
        let without = render(&XlConfig { disks: &[], ..config });
        assert!(!without.contains("disk"), "{without}");
    }
}
