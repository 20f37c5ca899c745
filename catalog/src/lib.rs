//! The component catalog: every library-OS component as data (`configs/components.toml`,
//! embedded when the CLI is built), parsed and validated here.
//!
//! Validation rejects, with a message naming the component and key: requirements on
//! components that do not exist, cycles in requirements, crates outside the library OS,
//! and targets that do not exist. Callers pass the known crates and targets, so the rules
//! are tested on any catalog text.

pub mod analysis;

use serde::Deserialize;
use std::collections::BTreeMap;
use thiserror::Error;
pub use unik_linker::record::Device;

/// The catalog shipped with unik.
pub const CATALOG: &str = include_str!("../../configs/components.toml");

mod libos {
    include!(concat!(env!("OUT_DIR"), "/libos_crates.rs"));
}

/// The package names of the library OS, collected when unik was built.
pub fn libos_crates() -> &'static [&'static str] {
    libos::LIBOS_CRATES
}

/// One component.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Its name (the table's key).
    #[serde(skip)]
    pub name: String,
    /// One line.
    pub summary: String,
    /// Library-OS packages that make it up.
    pub crates: Vec<String>,
    /// Text identifying its code among demangled symbol names.
    pub symbols: Vec<String>,
    /// Components it needs.
    pub requires: Vec<String>,
    /// The only targets providing it; absent: every target.
    #[serde(default)]
    pub only: Option<Vec<String>>,
    /// VM devices it needs.
    pub devices: Vec<Device>,
    /// Whether every image has it.
    #[serde(default)]
    pub always: bool,
}

impl Component {
    /// Whether `target` provides the component (every target does, unless `only` says).
    pub fn is_provided_on(&self, target: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.iter().any(|t| t == target))
    }
}

/// A validated catalog, in name order.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// The components.
    pub components: Vec<Component>,
}

/// A catalog that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    /// Not TOML of the expected shape.
    #[error("the component catalog is malformed: {0}")]
    Malformed(String),
    /// A requirement names no component.
    #[error("component `{component}` requires `{missing}`, which is not in the catalog")]
    UnknownRequirement {
        /// The component.
        component: String,
        /// The requirement.
        missing: String,
    },
    /// A crate outside the library OS.
    #[error("component `{component}` names crate `{krate}`, which is not a library-OS crate (known: {known})")]
    UnknownCrate {
        /// The component.
        component: String,
        /// The crate.
        krate: String,
        /// Known crates.
        known: String,
    },
    /// A target that does not exist.
    #[error("component `{component}` names target `{target}`, which does not exist (known: {known})")]
    UnknownTarget {
        /// The component.
        component: String,
        /// The target.
        target: String,
        /// Known targets.
        known: String,
    },
    /// Requirements that go round in a circle.
    #[error("components require each other in a cycle: {0}")]
    Cycle(String),
}

impl Catalog {
    /// Parses and validates `text` against the known library-OS crates and targets.
    pub fn parse(text: &str, known_crates: &[&str], known_targets: &[&str]) -> Result<Catalog, CatalogError> {
        let table: BTreeMap<String, Component> =
            toml::from_str(text).map_err(|e| CatalogError::Malformed(e.to_string()))?;
        let components: Vec<Component> = table
            .into_iter()
            .map(|(name, component)| Component { name, ..component })
            .collect();
        for component in &components {
            if let Some(missing) = component
                .requires
                .iter()
                .find(|r| !components.iter().any(|c| &c.name == *r))
            {
                return Err(CatalogError::UnknownRequirement {
                    component: component.name.clone(),
                    missing: missing.clone(),
                });
            }
            if let Some(krate) = component.crates.iter().find(|k| !known_crates.contains(&k.as_str())) {
                return Err(CatalogError::UnknownCrate {
                    component: component.name.clone(),
                    krate: krate.clone(),
                    known: known_crates.join(", "),
                });
            }
            let only = component.only.as_deref().unwrap_or_default();
            if let Some(target) = only.iter().find(|t| !known_targets.contains(&t.as_str())) {
                return Err(CatalogError::UnknownTarget {
                    component: component.name.clone(),
                    target: target.clone(),
                    known: known_targets.join(", "),
                });
            }
        }
        let catalog = Catalog { components };
        catalog.check_cycles()?;
        Ok(catalog)
    }

    /// The shipped catalog, validated against the library OS and unik's targets.
    pub fn shipped() -> Result<Catalog, CatalogError> {
        let targets: Vec<String> = unik_targets::all().into_iter().map(|t| t.name).collect();
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        Catalog::parse(CATALOG, libos_crates(), &targets)
    }

    /// The component called `name`.
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Components `target` provides.
    pub fn for_target<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a Component> {
        self.components.iter().filter(move |c| c.is_provided_on(target))
    }

    /// The devices the components called `names` need from the VM, each once, in order.
    pub fn devices_of(&self, names: &[String]) -> Vec<Device> {
        let mut devices: Vec<Device> = names
            .iter()
            .filter_map(|name| self.get(name))
            .flat_map(|component| component.devices.iter().copied())
            .collect();
        devices.sort();
        devices.dedup();
        devices
    }

    fn check_cycles(&self) -> Result<(), CatalogError> {
        // Depth-first search with the path on a stack; a component met again on the path
        // closes a cycle, which the error spells out.
        fn visit<'a>(
            catalog: &'a Catalog,
            name: &'a str,
            path: &mut Vec<&'a str>,
            done: &mut Vec<&'a str>,
        ) -> Result<(), CatalogError> {
            if done.contains(&name) {
                return Ok(());
            }
            if let Some(at) = path.iter().position(|n| *n == name) {
                let mut cycle: Vec<&str> = path[at..].to_vec();
                cycle.push(name);
                return Err(CatalogError::Cycle(cycle.join(" -> ")));
            }
            path.push(name);
            for requirement in catalog.get(name).map(|c| c.requires.as_slice()).unwrap_or_default() {
                visit(catalog, requirement, path, done)?;
            }
            path.pop();
            done.push(name);
            Ok(())
        }
        let mut done = Vec::new();
        for component in &self.components {
            visit(self, &component.name, &mut Vec::new(), &mut done)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRATES: &[&str] = &["unik", "unik-time"];
    const TARGETS: &[&str] = &["kvm-x86_64"];

    fn component(requires: &str, krate: &str, target: &str) -> String {
        format!(
            "summary = \"s\"\ncrates = [\"{krate}\"]\nsymbols = []\nrequires = [{requires}]\nonly = [\"{target}\"]\ndevices = []\n"
        )
    }

    #[test]
    fn a_good_catalog_parses_in_name_order() {
        let text = format!(
            "[time]\n{}[platform]\n{}",
            component("\"platform\"", "unik-time", "kvm-x86_64"),
            component("", "unik", "kvm-x86_64")
        );
        let catalog = Catalog::parse(&text, CRATES, TARGETS).unwrap();
        let names: Vec<&str> = catalog.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["platform", "time"]);
        assert_eq!(catalog.for_target("kvm-x86_64").count(), 2);
        assert_eq!(catalog.for_target("xen-x86_64").count(), 0, "`only` restricts");
        let everywhere = "[platform]\nsummary = \"s\"\ncrates = []\nsymbols = []\nrequires = []\ndevices = [\"nic\"]\n";
        let catalog = Catalog::parse(everywhere, CRATES, TARGETS).unwrap();
        assert!(
            catalog.components[0].is_provided_on("any-target"),
            "no `only`: every target"
        );
        assert_eq!(catalog.devices_of(&["platform".into()]), [Device::Nic]);
    }

    #[test]
    fn an_unknown_crate_is_named() {
        let text = format!("[net]\n{}", component("", "unik-net", "kvm-x86_64"));
        let error = Catalog::parse(&text, CRATES, TARGETS).unwrap_err().to_string();
        assert!(
            error.starts_with("component `net` names crate `unik-net`, which is not a library-OS crate"),
            "{error}"
        );
    }

    #[test]
    fn a_cycle_is_spelt_out() {
        let text = format!(
            "[a]\n{}[b]\n{}[c]\n{}",
            component("\"b\"", "unik", "kvm-x86_64"),
            component("\"c\"", "unik", "kvm-x86_64"),
            component("\"a\"", "unik", "kvm-x86_64")
        );
        assert_eq!(
            Catalog::parse(&text, CRATES, TARGETS).unwrap_err(),
            CatalogError::Cycle("a -> b -> c -> a".into())
        );
    }

    #[test]
    fn unknown_requirements_and_targets_are_named() {
        let text = format!("[a]\n{}", component("\"ghost\"", "unik", "kvm-x86_64"));
        assert!(matches!(
            Catalog::parse(&text, CRATES, TARGETS),
            Err(CatalogError::UnknownRequirement { .. })
        ));
        let text = format!("[a]\n{}", component("", "unik", "riscv-virt"));
        let error = Catalog::parse(&text, CRATES, TARGETS).unwrap_err().to_string();
        assert!(error.contains("target `riscv-virt`, which does not exist"), "{error}");
        assert!(matches!(
            Catalog::parse("[a]\nsummary = 1\n", CRATES, TARGETS),
            Err(CatalogError::Malformed(_))
        ));
    }

    /// The shipped catalog names only real library-OS crates and real targets.
    #[test]
    fn the_shipped_catalog_matches_the_library_os_and_the_targets() {
        let libos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../libos/Cargo.toml");
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(libos)
            .no_deps()
            .exec()
            .unwrap();
        let crates: Vec<String> = metadata
            .workspace_packages()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        let crates: Vec<&str> = crates.iter().map(String::as_str).collect();
        let targets: Vec<String> = unik_targets::all().into_iter().map(|t| t.name).collect();
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        let catalog = Catalog::parse(CATALOG, &crates, &targets).unwrap();
        assert!(catalog.get("platform").is_some_and(|c| c.always));
        let mut collected = libos_crates().to_vec();
        let mut listed = crates.clone();
        collected.sort();
        listed.sort();
        assert_eq!(collected, listed, "the build script finds every library-OS crate");
        for component in &catalog.components {
            assert!(
                !component.symbols.is_empty() && !component.crates.is_empty(),
                "{}",
                component.name
            );
        }
    }
}
