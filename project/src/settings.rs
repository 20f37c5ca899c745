//! `[package.metadata.unik]`: the application's own unik settings.
//!
//! ```toml
//! [package.metadata.unik]
//! targets = ["kvm-x86_64"]   # what `unik build` builds when no --target is given
//! memory = "64M"             # guest memory (K, M, G suffixes)
//! cmdline = "--verbose 3"    # boot command line when `unik run` is given no arguments
//! stack-size = "64K"         # main stack
//! bin = "server"             # which binary, when the package has several
//! xen-bridge = "xenbr0"      # Xen: the dom0 bridge a net image's vif joins (default xenbr0)
//!
//! [package.metadata.unik.net]  # a static IPv4 address instead of DHCP
//! address = "10.0.2.15/24"
//! gateway = "10.0.2.2"
//! dns = "10.0.2.3"             # the DNS server getaddrinfo asks (default: DHCP's)
//!
//! [package.metadata.unik.files]  # host files and folders packed into the image's ramdisk,
//! "/etc/app" = "config"          # read-only in the guest at the path on the left
//! "/srv/index.html" = "static/index.html"
//!
//! [package.metadata.unik.tmpfs]  # RAM file systems and their size limits
//! "/tmp" = "4M"                  # (absent: /tmp with 4M; an empty table: none)
//!
//! # where ext2 volumes are mounted, in the order `unik run --volume` attaches disks
//! volumes = ["/data"]
//! ```
//!
//! Unknown keys are warned about, as cargo does for its own manifest, never rejected.

use crate::ProjectError;
use serde_json::Value;
use std::path::Path;
use unik_targets::ByteSize;

/// The keys unik understands, for the unknown-key warning.
const KNOWN_KEYS: &[&str] = &[
    "targets",
    "memory",
    "cmdline",
    "stack-size",
    "bin",
    "net",
    "xen-bridge",
    "files",
    "tmpfs",
    "volumes",
];
/// The keys of the `net` table.
const NET_KEYS: &[&str] = &["address", "gateway", "dns"];

/// The application's settings; every field is optional in the manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Default targets for `unik build`.
    pub targets: Vec<String>,
    /// Guest memory.
    pub memory: Option<ByteSize>,
    /// Default boot command line.
    pub cmdline: Option<String>,
    /// Main stack size.
    pub stack_size: Option<ByteSize>,
    /// Binary to build, when there are several.
    pub bin: Option<String>,
    /// A static network address, built into the image (DHCP when absent).
    pub net: Option<NetSettings>,
    /// The dom0 bridge the vif of a Xen image with the net component joins.
    pub xen_bridge: Option<String>,
    /// Packed files: guest path → host file or folder (relative to the manifest's folder
    /// as written), in guest-path order.
    pub files: Vec<(String, std::path::PathBuf)>,
    /// RAM file systems: guest path → size limit; `None`: the default (`/tmp`, 4M).
    pub tmpfs: Option<Vec<(String, ByteSize)>>,
    /// Where volumes (ext2 file systems on the VM's disks) are mounted, in disk order.
    pub volumes: Vec<String>,
}

/// The RAM file system an image gets when the manifest has no `tmpfs` table.
pub const DEFAULT_TMPFS: (&str, u64) = ("/tmp", 4 << 20);

/// Checks a guest path of `files` or `tmpfs`: absolute, no `.`/`..`/empty components, each
/// at most 255 bytes, no NUL.
fn check_guest_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "`{path}` is not an absolute guest path: write it from the root, such as \"/etc/app\""
        ));
    }
    if path.contains('\0') {
        return Err(format!("{path:?} holds a NUL byte"));
    }
    let components: Vec<&str> = path[1..].split('/').collect();
    if path != "/"
        && components
            .iter()
            .any(|part| part.is_empty() || *part == "." || *part == "..")
    {
        return Err(format!(
            "`{path}` has an empty, `.` or `..` component: write the path plainly, such as \"/etc/app\""
        ));
    }
    if components.iter().any(|part| part.len() > 255) {
        return Err(format!("`{path}` has a component longer than 255 bytes"));
    }
    Ok(())
}

/// Whether guest path `inner` is `outer` or inside it.
pub fn guest_path_within(inner: &str, outer: &str) -> bool {
    outer == "/" || inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('/'))
}

/// The bridge a Xen image's vif joins when the manifest names none.
pub const DEFAULT_XEN_BRIDGE: &str = "xenbr0";

/// Whether `name` can be a Linux network interface name inside an `xl` vif spec: 1 to 15
/// bytes, none of them whitespace, `/`, `:` or what the spec's syntax uses (`,=\'"`).
fn is_bridge_name(name: &str) -> bool {
    (1..=15).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic() && !b"/:,=\\'\"".contains(&b))
}

/// `[package.metadata.unik.net]`: a static IPv4 address for the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetSettings {
    /// Address and prefix length, `A.B.C.D/N`.
    pub address: String,
    /// Default gateway.
    pub gateway: Option<std::net::Ipv4Addr>,
    /// The DNS server.
    pub dns: Option<std::net::Ipv4Addr>,
}

/// Whether `text` is `A.B.C.D/N` with N at most 32.
fn is_ipv4_cidr(text: &str) -> bool {
    text.split_once('/').is_some_and(|(address, prefix)| {
        address.parse::<std::net::Ipv4Addr>().is_ok() && prefix.parse::<u8>().is_ok_and(|prefix| prefix <= 32)
    })
}

/// Checks a boot command line as the guest will split it (words between double quotes
/// keep their spaces): every quote closed, no control characters.
fn check_command_line(line: &str) -> Result<(), String> {
    if let Some(control) = line.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{control:?} cannot be passed on a boot command line: write the words on one line, separated by spaces"
        ));
    }
    if line.matches('"').count() % 2 == 1 {
        return Err(format!(
            "{line:?} has an unbalanced double quote: the guest groups the words between two quotes into one argument; close the quote"
        ));
    }
    Ok(())
}

/// Reads the settings from a package's `metadata` value; returns them with warnings.
pub fn read(metadata: &Value, manifest: &Path) -> Result<(Settings, Vec<String>), ProjectError> {
    let mut settings = Settings::default();
    let mut warnings = Vec::new();
    let Some(table) = metadata.get("unik") else {
        return Ok((settings, warnings));
    };
    let error = |key: &str, message: String| ProjectError::Setting {
        key: if key.is_empty() {
            "package.metadata.unik".into()
        } else {
            format!("package.metadata.unik.{key}")
        },
        path: manifest.to_path_buf(),
        message,
    };
    let Some(table) = table.as_object() else {
        return Err(error("", format!("expected a table, found {table}")));
    };
    let string = |key: &str, value: &Value| {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| error(key, format!("expected a string, found {value}")))
    };
    let size = |key: &str, value: &Value| -> Result<ByteSize, ProjectError> {
        serde_json::from_value(value.clone()).map_err(|e| error(key, e.to_string()))
    };
    for (key, value) in table {
        match key.as_str() {
            "targets" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| error(key, format!("expected a list of target names, found {value}")))?;
                if list.is_empty() {
                    return Err(error(
                        key,
                        "the list is empty: name at least one target (`unik targets` lists them), or remove the key for the default".into(),
                    ));
                }
                settings.targets = list.iter().map(|v| string(key, v)).collect::<Result<_, _>>()?;
            }
            "memory" => settings.memory = Some(size(key, value)?),
            "stack-size" => settings.stack_size = Some(size(key, value)?),
            "cmdline" => {
                let line = string(key, value)?;
                check_command_line(&line).map_err(|message| error(key, message))?;
                settings.cmdline = Some(line);
            }
            "bin" => settings.bin = Some(string(key, value)?),
            "xen-bridge" => {
                let bridge = string(key, value)?;
                if !is_bridge_name(&bridge) {
                    return Err(error(
                        key,
                        format!(
                            "`{bridge}` is not a bridge name: 1 to 15 characters without spaces, `/`, `:`, `,`, `=` or quotes, such as \"xenbr0\""
                        ),
                    ));
                }
                settings.xen_bridge = Some(bridge);
            }
            "net" => {
                let net = value.as_object().ok_or_else(|| {
                    error(
                        key,
                        format!("expected a table with `address` and `gateway`, found {value}"),
                    )
                })?;
                let unknown: Vec<&String> = net.keys().filter(|k| !NET_KEYS.contains(&k.as_str())).collect();
                let address = net.get("address").ok_or_else(|| match unknown.first() {
                    // A misspelt `address` is the likelier mistake than a forgotten one.
                    Some(unknown) => error(
                        &format!("net.{unknown}"),
                        format!(
                            "unknown key (the `net` table takes {}); the table has no `address`, which it needs",
                            NET_KEYS.join(", ")
                        ),
                    ),
                    None => error("net.address", "missing: give the address as \"A.B.C.D/N\"".into()),
                })?;
                let address = string("net.address", address)?;
                if !is_ipv4_cidr(&address) {
                    return Err(error(
                        "net.address",
                        format!("`{address}` is not an IPv4 address with a prefix length, such as \"10.0.2.15/24\""),
                    ));
                }
                // An optional IPv4 address under `key` (`example` shows one in the error).
                let address_at = |key: &str, example: &str| -> Result<Option<std::net::Ipv4Addr>, ProjectError> {
                    let Some(value) = net.get(key) else {
                        return Ok(None);
                    };
                    let name = format!("net.{key}");
                    let text = string(&name, value)?;
                    text.parse()
                        .map(Some)
                        .map_err(|_| error(&name, format!("`{text}` is not an IPv4 address, such as \"{example}\"")))
                };
                let gateway = address_at("gateway", "10.0.2.2")?;
                let dns = address_at("dns", "10.0.2.3")?;
                for unknown in unknown {
                    warnings.push(format!(
                        "unused manifest key: package.metadata.unik.net.{unknown} (in `{}`; known keys: {})",
                        manifest.display(),
                        NET_KEYS.join(", ")
                    ));
                }
                settings.net = Some(NetSettings { address, gateway, dns });
            }
            "files" => {
                let table = value.as_object().ok_or_else(|| {
                    error(
                        key,
                        format!("expected a table of guest paths to host paths, such as {{ \"/etc/app\" = \"config\" }}, found {value}"),
                    )
                })?;
                for (guest, host) in table {
                    let name = format!("files.\"{guest}\"");
                    check_guest_path(guest).map_err(|message| error(&name, message))?;
                    let host = string(&name, host)?;
                    if host.is_empty() {
                        return Err(error(
                            &name,
                            "the host path is empty: name a file or folder beside the manifest".into(),
                        ));
                    }
                    settings.files.push((guest.clone(), std::path::PathBuf::from(host)));
                }
            }
            "volumes" => {
                let list = value.as_array().ok_or_else(|| {
                    error(
                        key,
                        format!("expected a list of guest paths, such as [\"/data\"], found {value}"),
                    )
                })?;
                for path in list {
                    let path = string(key, path)?;
                    check_guest_path(&path).map_err(|message| error(key, message))?;
                    if path == "/" || settings.volumes.contains(&path) {
                        return Err(error(
                            key,
                            format!(
                                "`{path}` cannot hold a volume: give each volume a folder of its own, such as \"/data\""
                            ),
                        ));
                    }
                    settings.volumes.push(path);
                }
            }
            "tmpfs" => {
                let table = value.as_object().ok_or_else(|| {
                    error(
                        key,
                        format!(
                            "expected a table of guest paths to sizes, such as {{ \"/tmp\" = \"4M\" }}, found {value}"
                        ),
                    )
                })?;
                let mut mounts = Vec::new();
                for (guest, limit) in table {
                    let name = format!("tmpfs.\"{guest}\"");
                    check_guest_path(guest).map_err(|message| error(&name, message))?;
                    if guest == "/" {
                        return Err(error(
                            &name,
                            "`/` holds the packed files: mount a RAM file system on a folder, such as \"/tmp\"".into(),
                        ));
                    }
                    mounts.push((guest.clone(), size(&name, limit)?));
                }
                settings.tmpfs = Some(mounts);
            }
            _ => warnings.push(format!(
                "unused manifest key: package.metadata.unik.{key} (in `{}`; known keys: {})",
                manifest.display(),
                KNOWN_KEYS.join(", ")
            )),
        }
    }
    // A packed path inside a RAM file system would be hidden by it.
    let tmpfs = settings
        .tmpfs
        .clone()
        .unwrap_or_else(|| vec![(DEFAULT_TMPFS.0.into(), ByteSize::new(DEFAULT_TMPFS.1))]);
    for (guest, _) in &settings.files {
        if let Some((mount, _)) = tmpfs
            .iter()
            .find(|(mount, _)| guest_path_within(guest, mount) || guest_path_within(mount, guest) && guest != "/")
        {
            return Err(error(
                &format!("files.\"{guest}\""),
                format!(
                    "`{guest}` overlaps the RAM file system at `{mount}` (package.metadata.unik.tmpfs): pack the files elsewhere, or mount the RAM file system on another folder"
                ),
            ));
        }
    }
    // So would anything under a volume; and volumes inside each other or a RAM one.
    for (index, volume) in settings.volumes.iter().enumerate() {
        let clash = settings
            .volumes
            .iter()
            .skip(index + 1)
            .chain(tmpfs.iter().map(|(mount, _)| mount))
            .chain(settings.files.iter().map(|(guest, _)| guest))
            .find(|other| guest_path_within(other, volume) || (guest_path_within(volume, other) && *other != "/"));
        if let Some(other) = clash {
            return Err(error(
                "volumes",
                format!(
                    "the volume at `{volume}` overlaps `{other}` (packed files, a RAM file system or another volume): mount it on a folder of its own"
                ),
            ));
        }
    }
    Ok((settings, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_json(value: Value) -> Result<(Settings, Vec<String>), ProjectError> {
        read(&value, Path::new("/app/Cargo.toml"))
    }

    #[test]
    fn absent_table_means_defaults() {
        assert_eq!(read_json(json!(null)).unwrap(), (Settings::default(), vec![]));
    }

    #[test]
    fn every_key_is_read() {
        let (settings, warnings) = read_json(json!({"unik": {
            "targets": ["kvm-x86_64"], "memory": "64M", "cmdline": "a b", "stack-size": 65536, "bin": "x"
        }}))
        .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(settings.targets, ["kvm-x86_64"]);
        assert_eq!(settings.memory, Some(ByteSize::new(64 << 20)));
        assert_eq!(settings.cmdline.as_deref(), Some("a b"));
        assert_eq!(settings.stack_size, Some(ByteSize::new(65536)));
        assert_eq!(settings.bin.as_deref(), Some("x"));
    }

    #[test]
    fn a_static_address_is_checked_where_it_is_written() {
        let (settings, warnings) =
            read_json(json!({"unik": {"net": {"address": "10.0.2.15/24", "gateway": "10.0.2.2", "dns": "10.0.2.3"}}}))
                .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            settings.net,
            Some(NetSettings {
                address: "10.0.2.15/24".into(),
                gateway: Some(std::net::Ipv4Addr::new(10, 0, 2, 2)),
                dns: Some(std::net::Ipv4Addr::new(10, 0, 2, 3)),
            })
        );
        for (net, key, problem) in [
            (
                json!({"address": "10.0.2.15"}),
                "net.address",
                "not an IPv4 address with a prefix length",
            ),
            (
                json!({"address": "10.0.2.15/24", "dns": "resolver"}),
                "net.dns",
                "not an IPv4 address",
            ),
            (
                json!({"address": "10.0.2.15/40"}),
                "net.address",
                "not an IPv4 address with a prefix length",
            ),
            (json!({"gateway": "10.0.2.2"}), "net.address", "missing"),
            (
                json!({"address": "10.0.2.15/24", "gateway": "router"}),
                "net.gateway",
                "`router` is not an IPv4 address",
            ),
            (json!("10.0.2.15/24"), "net", "expected a table"),
        ] {
            let message = read_json(json!({"unik": {"net": net}})).unwrap_err().to_string();
            assert!(
                message.contains(&format!("package.metadata.unik.{key}")) && message.contains(problem),
                "{message}"
            );
        }
        let (_, warnings) = read_json(json!({"unik": {"net": {"address": "10.0.0.2/8", "dnz": "x"}}})).unwrap();
        assert!(
            warnings[0].starts_with("unused manifest key: package.metadata.unik.net.dnz"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_xen_bridge_must_be_an_interface_name_xl_can_carry() {
        let (settings, warnings) = read_json(json!({"unik": {"xen-bridge": "br-lan0"}})).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(settings.xen_bridge.as_deref(), Some("br-lan0"));
        for bad in ["", "a-name-far-too-long", "br 0", "br,mac=1", "br/0", "br\"0"] {
            let message = read_json(json!({"unik": {"xen-bridge": bad}})).unwrap_err().to_string();
            assert!(
                message.contains("package.metadata.unik.xen-bridge") && message.contains("is not a bridge name"),
                "{message}"
            );
        }
    }

    #[test]
    fn packed_files_and_ram_file_systems_are_read_and_checked() {
        let (settings, warnings) = read_json(json!({"unik": {
            "files": {"/etc/app": "config", "/srv/index.html": "static/index.html"},
            "tmpfs": {"/tmp": "1M", "/var/cache": 4096}
        }}))
        .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            settings.files,
            [
                ("/etc/app".to_string(), "config".into()),
                ("/srv/index.html".to_string(), "static/index.html".into())
            ]
        );
        assert_eq!(
            settings.tmpfs,
            Some(vec![
                ("/tmp".to_string(), ByteSize::new(1 << 20)),
                ("/var/cache".to_string(), ByteSize::new(4096))
            ])
        );
        let refused = |unik: Value, key: &str, says: &str| {
            let message = read_json(json!({ "unik": unik })).unwrap_err().to_string();
            assert!(
                message.contains(&format!("package.metadata.unik.{key}")) && message.contains(says),
                "{message}"
            );
        };
        refused(
            json!({"files": {"etc/app": "config"}}),
            "files.\"etc/app\"",
            "not an absolute guest path",
        );
        refused(
            json!({"files": {"/etc/../app": "config"}}),
            "files.\"/etc/../app\"",
            "`..` component",
        );
        refused(
            json!({"files": {"/etc/app": 3}}),
            "files.\"/etc/app\"",
            "expected a string",
        );
        refused(
            json!({"files": {"/etc/app": ""}}),
            "files.\"/etc/app\"",
            "host path is empty",
        );
        refused(json!({"files": ["config"]}), "files", "expected a table");
        refused(
            json!({"files": {"/tmp/x": "x"}}),
            "files.\"/tmp/x\"",
            "overlaps the RAM file system at `/tmp`",
        );
        refused(json!({"tmpfs": {"/": "1M"}}), "tmpfs.\"/\"", "holds the packed files");
        refused(json!({"tmpfs": {"/tmp": "lots"}}), "tmpfs.\"/tmp\"", "is not a size");
        // Packing `/` and a RAM file system elsewhere is fine; so is packing /tmp with none.
        read_json(json!({"unik": {"files": {"/": "root"}}})).unwrap();
        read_json(json!({"unik": {"files": {"/tmp/x": "x"}, "tmpfs": {}}})).unwrap();
        let (settings, _) = read_json(json!({"unik": {"volumes": ["/data", "/logs"]}})).unwrap();
        assert_eq!(settings.volumes, ["/data", "/logs"]);
        refused(json!({"volumes": "/data"}), "volumes", "expected a list");
        refused(json!({"volumes": ["data"]}), "volumes", "not an absolute guest path");
        refused(json!({"volumes": ["/"]}), "volumes", "cannot hold a volume");
        refused(
            json!({"volumes": ["/data", "/data"]}),
            "volumes",
            "cannot hold a volume",
        );
        refused(json!({"volumes": ["/tmp/data"]}), "volumes", "overlaps `/tmp`");
        refused(
            json!({"volumes": ["/data"], "files": {"/data/x": "x"}}),
            "volumes",
            "overlaps `/data/x`",
        );
    }

    #[test]
    fn unknown_keys_warn_like_cargo() {
        let (_, warnings) = read_json(json!({"unik": {"memroy": "64M"}})).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("unused manifest key: package.metadata.unik.memroy"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn wrong_shapes_name_the_key_and_file() {
        let message = read_json(json!({"unik": {"memory": "lots"}})).unwrap_err().to_string();
        assert!(
            message.contains("package.metadata.unik.memory") && message.contains("/app/Cargo.toml"),
            "{message}"
        );
        assert!(message.contains("`lots` is not a size"), "{message}");
        let message = read_json(json!({"unik": {"targets": "kvm-x86_64"}}))
            .unwrap_err()
            .to_string();
        assert!(message.contains("expected a list"), "{message}");
    }

    #[test]
    fn values_that_would_fail_later_are_refused_here() {
        let refused = |unik: Value, key: &str, says: &str| {
            let message = read_json(json!({ "unik": unik })).unwrap_err().to_string();
            assert!(
                message.contains(&format!("package.metadata.unik.{key}")) && message.contains(says),
                "{message}"
            );
        };
        refused(json!({"targets": []}), "targets", "the list is empty");
        refused(json!({"cmdline": "a \"b"}), "cmdline", "unbalanced double quote");
        refused(json!({"cmdline": "a\nb"}), "cmdline", "cannot be passed");
        refused(json!({"net": {"addres": "10.0.2.15/24"}}), "net.addres", "unknown key");
        let (settings, _) = read_json(json!({"unik": {"cmdline": "a \"b c\" d"}})).unwrap();
        assert_eq!(settings.cmdline.as_deref(), Some("a \"b c\" d"));
    }
}
