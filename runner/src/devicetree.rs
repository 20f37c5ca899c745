//! Device trees for booting Xen on arm64: QEMU's own tree for the machine (dumped with
//! the same options), copied node by node with Xen's boot nodes added under `/chosen`:
//! the hypervisor's command line and the image as a dom0less domU, or as dom0.
//!
//! Read with `flat_device_tree`, written with `vm-fdt`; `dtc` is not needed.

use flat_device_tree::Fdt;
use flat_device_tree::node::FdtNode;
use thiserror::Error;
use unik_targets::Role;
use vm_fdt::FdtWriter;

/// A device tree that could not be read or written.
#[derive(Debug, Error)]
pub enum TreeError {
    /// QEMU's tree is not a valid device tree.
    #[error("QEMU's device tree cannot be read: {0:?}")]
    Read(flat_device_tree::Error),
    /// The tree has no `/chosen` node to add to.
    #[error("QEMU's device tree has no /chosen node")]
    NoChosen,
    /// Writing failed.
    #[error("cannot write the device tree: {0}")]
    Write(vm_fdt::Error),
}

/// What Xen's boot nodes say.
#[derive(Clone, Debug)]
pub struct XenBoot<'a> {
    /// Xen's own command line (`xen,xen-bootargs`).
    pub xen_cmdline: &'a str,
    /// The image's command line.
    pub guest_cmdline: &'a str,
    /// Where QEMU's loader puts the image.
    pub module_address: u64,
    /// The image's size in bytes.
    pub module_size: u64,
    /// A dom0's initramfs: where QEMU's loader puts it and its size.
    pub ramdisk: Option<(u64, u64)>,
    /// The domain's memory in KiB (for a domU; a dom0's is on Xen's command line).
    pub memory_kib: u64,
    /// dom0, or a dom0less domU (a `xen,domain` node with a virtual PL011 console).
    pub role: Role,
}

/// QEMU's tree `machine` with Xen's boot nodes for `boot` added under `/chosen`.
pub fn with_xen_boot(machine: &[u8], boot: &XenBoot<'_>) -> Result<Vec<u8>, TreeError> {
    let tree = Fdt::new(machine).map_err(TreeError::Read)?;
    let root = tree.find_node("/").ok_or(TreeError::NoChosen)?;
    if tree.find_node("/chosen").is_none() {
        return Err(TreeError::NoChosen);
    }
    let reservations: Vec<vm_fdt::FdtReserveEntry> = tree
        .memory_reservations()
        .filter_map(|r| vm_fdt::FdtReserveEntry::new(r.address() as u64, r.size() as u64).ok())
        .collect();
    let mut writer = FdtWriter::new_with_mem_reserv(&reservations).map_err(TreeError::Write)?;
    copy(&mut writer, root, "", boot).map_err(TreeError::Write)?;
    writer.finish().map_err(TreeError::Write)
}

/// Properties this module writes into `/chosen` itself; QEMU's values are dropped.
const CHOSEN_OVERRIDES: [&str; 2] = ["#address-cells", "#size-cells"];

fn copy(writer: &mut FdtWriter, node: FdtNode<'_, '_>, path: &str, boot: &XenBoot<'_>) -> Result<(), vm_fdt::Error> {
    let name = if path.is_empty() { "" } else { node.name };
    let here = if path.is_empty() {
        "/".to_string()
    } else if path == "/" {
        format!("/{name}")
    } else {
        format!("{path}/{name}")
    };
    let handle = writer.begin_node(name)?;
    let chosen = here == "/chosen";
    for property in node.properties() {
        if chosen && CHOSEN_OVERRIDES.contains(&property.name) {
            continue;
        }
        writer.property(property.name, property.value)?;
    }
    if chosen {
        add_xen_boot(writer, boot)?;
    }
    for child in node.children() {
        copy(writer, child, &here, boot)?;
    }
    writer.end_node(handle)
}

/// The module node holding the image: `multiboot,kernel` at its load address.
fn module(writer: &mut FdtWriter, boot: &XenBoot<'_>, bootargs: bool) -> Result<(), vm_fdt::Error> {
    let node = writer.begin_node(&format!("module@{:x}", boot.module_address))?;
    writer.property_string_list(
        "compatible",
        vec!["multiboot,kernel".to_string(), "multiboot,module".to_string()],
    )?;
    writer.property_array_u64("reg", &[boot.module_address, boot.module_size])?;
    if bootargs {
        writer.property_string("bootargs", boot.guest_cmdline)?;
    }
    writer.end_node(node)
}

/// The module node of the kernel's ramdisk, if it has one: `multiboot,ramdisk`.
fn ramdisk_module(writer: &mut FdtWriter, boot: &XenBoot<'_>) -> Result<(), vm_fdt::Error> {
    let Some((address, size)) = boot.ramdisk else {
        return Ok(());
    };
    let node = writer.begin_node(&format!("module@{address:x}"))?;
    writer.property_string_list(
        "compatible",
        vec!["multiboot,ramdisk".to_string(), "multiboot,module".to_string()],
    )?;
    writer.property_array_u64("reg", &[address, size])?;
    writer.end_node(node)
}

fn add_xen_boot(writer: &mut FdtWriter, boot: &XenBoot<'_>) -> Result<(), vm_fdt::Error> {
    // Xen's early parser reads module `reg`s with /chosen's cell sizes: say them.
    writer.property_u32("#address-cells", 2)?;
    writer.property_u32("#size-cells", 2)?;
    writer.property_string("xen,xen-bootargs", boot.xen_cmdline)?;
    match boot.role {
        Role::Dom0 => {
            writer.property_string("xen,dom0-bootargs", boot.guest_cmdline)?;
            module(writer, boot, false)?;
            ramdisk_module(writer, boot)
        }
        Role::DomU => {
            let domain = writer.begin_node("domU1")?;
            writer.property_string("compatible", "xen,domain")?;
            writer.property_u32("#address-cells", 2)?;
            writer.property_u32("#size-cells", 2)?;
            writer.property_array_u32("memory", &[0, boot.memory_kib as u32])?;
            writer.property_u32("cpus", 1)?;
            writer.property_null("vpl011")?;
            module(writer, boot, true)?;
            ramdisk_module(writer, boot)?;
            writer.end_node(domain)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small machine tree like QEMU's: memory, a UART, /chosen with a stdout path.
    fn machine() -> Vec<u8> {
        let mut writer = FdtWriter::new().unwrap();
        let root = writer.begin_node("").unwrap();
        writer.property_u32("#address-cells", 2).unwrap();
        writer.property_u32("#size-cells", 2).unwrap();
        let memory = writer.begin_node("memory@40000000").unwrap();
        writer.property_string("device_type", "memory").unwrap();
        writer.property_array_u64("reg", &[0x4000_0000, 0x4000_0000]).unwrap();
        writer.end_node(memory).unwrap();
        let uart = writer.begin_node("pl011@9000000").unwrap();
        writer.property_string("compatible", "arm,pl011").unwrap();
        writer.property_phandle(0x8000).unwrap();
        writer.end_node(uart).unwrap();
        let chosen = writer.begin_node("chosen").unwrap();
        writer.property_string("stdout-path", "/pl011@9000000").unwrap();
        writer.end_node(chosen).unwrap();
        writer.end_node(root).unwrap();
        writer.finish().unwrap()
    }

    fn boot(role: Role) -> XenBoot<'static> {
        XenBoot {
            xen_cmdline: "console=dtuart",
            guest_cmdline: "one two",
            module_address: 0x4200_0000,
            module_size: 18_676,
            ramdisk: None,
            memory_kib: 16 << 10,
            role,
        }
    }

    #[test]
    fn a_domu_gets_a_xen_domain_node_with_its_module_and_console() {
        let bytes = with_xen_boot(&machine(), &boot(Role::DomU)).unwrap();
        let tree = Fdt::new(&bytes).unwrap();
        let chosen = tree.find_node("/chosen").unwrap();
        assert_eq!(chosen.property("stdout-path").unwrap().as_str(), Some("/pl011@9000000"));
        assert_eq!(
            chosen.property("xen,xen-bootargs").unwrap().as_str(),
            Some("console=dtuart")
        );
        assert_eq!(chosen.property("#address-cells").unwrap().as_usize(), Some(2));
        let domain = tree.find_node("/chosen/domU1").unwrap();
        assert_eq!(domain.property("compatible").unwrap().as_str(), Some("xen,domain"));
        assert_eq!(domain.property("memory").unwrap().value, [0, 0, 0, 0, 0, 0, 0x40, 0]);
        assert!(domain.property("vpl011").is_some());
        let module = tree.find_node("/chosen/domU1/module@42000000").unwrap();
        let region = module.reg().next().unwrap();
        assert_eq!(
            (region.starting_address as u64, region.size),
            (0x4200_0000, Some(18_676))
        );
        assert_eq!(module.property("bootargs").unwrap().as_str(), Some("one two"));
        // Everything else is QEMU's, unchanged.
        let uart = tree.find_node("/pl011@9000000").unwrap();
        assert_eq!(uart.property("phandle").unwrap().as_usize(), Some(0x8000));
        assert!(tree.find_node("/memory@40000000").is_some());
    }

    #[test]
    fn a_dom0_gets_its_module_and_command_line_in_chosen() {
        let bytes = with_xen_boot(&machine(), &boot(Role::Dom0)).unwrap();
        let tree = Fdt::new(&bytes).unwrap();
        let chosen = tree.find_node("/chosen").unwrap();
        assert_eq!(chosen.property("xen,dom0-bootargs").unwrap().as_str(), Some("one two"));
        assert!(tree.find_node("/chosen/module@42000000").is_some());
        assert!(tree.find_node("/chosen/domU1").is_none());
    }

    #[test]
    fn a_linux_dom0_gets_its_initramfs_as_a_ramdisk_module() {
        let boot = XenBoot {
            ramdisk: Some((0x4500_0000, 9_000_000)),
            ..boot(Role::Dom0)
        };
        let bytes = with_xen_boot(&machine(), &boot).unwrap();
        let tree = Fdt::new(&bytes).unwrap();
        let ramdisk = tree.find_node("/chosen/module@45000000").unwrap();
        let compatible: Vec<&str> = ramdisk.property("compatible").unwrap().iter_str().collect();
        assert_eq!(compatible, ["multiboot,ramdisk", "multiboot,module"]);
        let region = ramdisk.reg().next().unwrap();
        assert_eq!(
            (region.starting_address as u64, region.size),
            (0x4500_0000, Some(9_000_000))
        );
        assert!(tree.find_node("/chosen/module@42000000").is_some());
    }

    #[test]
    fn a_dom0less_domu_gets_its_packed_files_as_a_ramdisk_module_of_its_own() {
        let boot = XenBoot {
            ramdisk: Some((0x4400_0000, 4096)),
            ..boot(Role::DomU)
        };
        let bytes = with_xen_boot(&machine(), &boot).unwrap();
        let tree = Fdt::new(&bytes).unwrap();
        let ramdisk = tree.find_node("/chosen/domU1/module@44000000").unwrap();
        let compatible: Vec<&str> = ramdisk.property("compatible").unwrap().iter_str().collect();
        assert_eq!(compatible, ["multiboot,ramdisk", "multiboot,module"]);
        assert!(tree.find_node("/chosen/domU1/module@42000000").is_some());
        assert!(tree.find_node("/chosen/module@44000000").is_none());
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(
            with_xen_boot(b"not a device tree", &boot(Role::DomU)),
            Err(TreeError::Read(_))
        ));
    }
}
