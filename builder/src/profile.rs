//! Build profiles from `configs/profiles.toml`, turned into cargo `--config` arguments.

use serde::Deserialize;
use std::collections::BTreeMap;

const PROFILES: &str = include_str!("../../configs/profiles.toml");

/// One build profile.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// One line for help texts.
    pub summary: String,
    /// The cargo profile this one starts from.
    pub inherits: String,
    /// Cargo profile settings.
    pub cargo: BTreeMap<String, toml::Value>,
    /// Rebuild `core`, `alloc` and `compiler_builtins` optimised for size
    /// (`-Zbuild-std`, through `RUSTC_BOOTSTRAP=1`).
    #[serde(default, rename = "build-std")]
    pub build_std: bool,
    /// `--cfg` names set for every crate of the image (e.g. `unik_bench`).
    #[serde(default)]
    pub cfg: Vec<String>,
    /// Further `rustc` flags for every crate of the image; `-Z` flags only in `build-std`
    /// profiles (the ones built with `RUSTC_BOOTSTRAP=1`).
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// The profile's name (the table's key).
    #[serde(skip)]
    pub name: String,
}

/// A profile name that `configs/profiles.toml` does not define.
#[derive(Debug, thiserror::Error)]
#[error("unknown profile `{name}`; profiles: {known} (defined in configs/profiles.toml)")]
pub struct UnknownProfile {
    name: String,
    known: String,
}

/// Every profile, by name.
pub fn all() -> BTreeMap<String, Profile> {
    let mut profiles: BTreeMap<String, Profile> =
        toml::from_str(PROFILES).expect("configs/profiles.toml is invalid (a build-time bug)");
    for (name, profile) in &mut profiles {
        profile.name = name.clone();
    }
    profiles
}

/// The profile called `name`.
pub fn find(name: &str) -> Result<Profile, UnknownProfile> {
    let profiles = all();
    profiles.get(name).cloned().ok_or_else(|| UnknownProfile {
        name: name.to_string(),
        known: profiles.keys().cloned().collect::<Vec<_>>().join(", "),
    })
}

impl Profile {
    /// The cargo profile images for `platform` build with: `unik-<name>-<platform>`.
    ///
    /// One per platform: platforms that share a Rust target (kvm-x86_64 and xen-x86_64)
    /// would otherwise share one artifact directory, so builds for one would overwrite the
    /// other's binary and invalidate its cache.
    pub fn cargo_profile(&self, platform: &str) -> String {
        format!("unik-{}-{platform}", self.name)
    }

    /// Unstable cargo flags a std application needs with this profile (they require
    /// `RUSTC_BOOTSTRAP=1`): std is built from source for the musl target, with the
    /// `mem` functions compiler_builtins provides where no C library does.
    pub fn std_unstable_args(&self) -> Vec<String> {
        let mut features = String::from("compiler-builtins-mem");
        if self.build_std {
            features.push_str(",optimize_for_size");
        }
        vec![
            "-Zbuild-std=std,panic_abort".into(),
            format!("-Zbuild-std-features={features}"),
        ]
    }

    /// Unstable cargo flags this profile needs (they require `RUSTC_BOOTSTRAP=1`).
    pub fn unstable_args(&self) -> Vec<String> {
        if self.build_std {
            vec![
                "-Zbuild-std=core,alloc,compiler_builtins".into(),
                "-Zbuild-std-features=compiler-builtins-mem,optimize_for_size".into(),
            ]
        } else {
            Vec::new()
        }
    }

    /// `--config` arguments defining [`Profile::cargo_profile`] for `platform`.
    pub fn cargo_config_args(&self, platform: &str) -> Vec<String> {
        let prefix = format!("profile.{}", self.cargo_profile(platform));
        let mut args = vec![
            "--config".to_string(),
            format!("{prefix}.inherits={}", toml::Value::from(self.inherits.as_str())),
        ];
        for (key, value) in &self.cargo {
            args.push("--config".to_string());
            args.push(format!("{prefix}.{key}={value}"));
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_and_release_exist_and_release_uses_lto() {
        let release = find("release").unwrap();
        assert_eq!(release.cargo_profile("kvm-x86_64"), "unik-release-kvm-x86_64");
        let args = release.cargo_config_args("kvm-x86_64");
        assert!(
            args.contains(&"profile.unik-release-kvm-x86_64.inherits=\"release\"".to_string()),
            "{args:?}"
        );
        assert!(
            args.contains(&"profile.unik-release-kvm-x86_64.lto=\"fat\"".to_string()),
            "{args:?}"
        );
        assert!(
            args.contains(&"profile.unik-release-kvm-x86_64.codegen-units=1".to_string()),
            "{args:?}"
        );
        assert!(release.unstable_args().is_empty(), "release stays on stable flags");
        assert!(find("min").unwrap().unstable_args()[0].starts_with("-Zbuild-std="));
        for profile in all().values() {
            let unstable = profile.rustflags.iter().any(|flag| flag.starts_with("-Z"));
            assert!(
                !unstable || profile.build_std,
                "{}: -Z flags need build-std",
                profile.name
            );
        }
        find("dev").unwrap();
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let message = find("fast").unwrap_err().to_string();
        assert!(
            message.contains("`fast`") && message.contains("bench, dev, min, release"),
            "{message}"
        );
    }
}
