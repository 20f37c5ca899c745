//! Getting a hypervisor binary without installing it: `apt-get download` its Debian
//! package into a cache folder, unpack it with `dpkg -x`, decompress the file QEMU boots.
//! Nothing is installed on the host, and the cache is reused by later runs.

use flate2::read::GzDecoder;
use std::path::{Path, PathBuf};
use thiserror::Error;
use unik_targets::Hypervisor;
use unik_ui::Shell;

/// Why the hypervisor could not be had.
#[derive(Debug, Error)]
pub enum HypervisorError {
    /// A command failed.
    #[error(
        "cannot get {name}: `{command}` failed{detail}. On a Debian or Ubuntu machine with the package in its apt sources this works without root; elsewhere, put the unpacked file at `{target}` yourself"
    )]
    Command {
        /// Hypervisor name.
        name: String,
        /// The command.
        command: String,
        /// Its message.
        detail: String,
        /// Where the file is expected.
        target: PathBuf,
    },
    /// A file operation failed.
    #[error("cannot get {name}: {action} `{path}`: {source}")]
    Io {
        /// Hypervisor name.
        name: String,
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Where the hypervisor binary is cached under `cache`.
pub fn cached_path(hypervisor: &Hypervisor, cache: &Path) -> PathBuf {
    let file = Path::new(&hypervisor.file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // `name:arch` packages are cached under their name.
    let package = hypervisor.debian_package.split(':').next().unwrap_or_default();
    cache.join(package).join(file.strip_suffix(".gz").unwrap_or(&file))
}

/// The hypervisor binary, downloading and unpacking it into `cache` when missing.
pub fn ensure(shell: &Shell, hypervisor: &Hypervisor, cache: &Path) -> Result<PathBuf, HypervisorError> {
    let target = cached_path(hypervisor, cache);
    if target.is_file() {
        return Ok(target);
    }
    let io = |action, path: &Path| {
        let (name, path) = (hypervisor.name.clone(), path.to_path_buf());
        move |source| HypervisorError::Io {
            name,
            action,
            path,
            source,
        }
    };
    let folder = target.parent().expect("cached path has a parent");
    std::fs::create_dir_all(folder).map_err(io("cannot create", folder))?;
    // Work in a fresh folder and move the result into place: parallel runs don't collide.
    let work = tempfile::tempdir_in(folder).map_err(io("cannot create a folder in", folder))?;
    shell.status(
        "Downloading",
        format!(
            "{} (Debian package {}, unpacked into {})",
            hypervisor.name,
            hypervisor.debian_package,
            folder.display()
        ),
    );
    let run = |command: &mut std::process::Command| -> Result<(), HypervisorError> {
        shell.echo(command);
        let line = unik_ui::display_command(command);
        let failure = |detail: String| HypervisorError::Command {
            name: hypervisor.name.clone(),
            command: line.clone(),
            detail,
            target: target.clone(),
        };
        let output = unik_ui::supervise::output(command).map_err(|e| failure(format!(": {e}")))?;
        if output.status.success() {
            return Ok(());
        }
        let mut detail = format!(": {}", String::from_utf8_lossy(&output.stderr).trim());
        if let Some((_, arch)) = hypervisor.debian_package.split_once(':') {
            detail += &format!(
                " (an {arch} package: apt needs `sudo dpkg --add-architecture {arch} && sudo apt-get update` first; nothing is installed)"
            );
        }
        Err(failure(detail))
    };
    run(shell
        .owned_command("apt-get")
        .current_dir(work.path())
        .args(["download", &hypervisor.debian_package]))?;
    let deb = std::fs::read_dir(work.path())
        .map_err(io("cannot read", work.path()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .ok_or_else(|| HypervisorError::Command {
            name: hypervisor.name.clone(),
            command: format!("apt-get download {}", hypervisor.debian_package),
            detail: " to produce a .deb".into(),
            target: target.clone(),
        })?;
    let root = work.path().join("root");
    run(shell.owned_command("dpkg").arg("-x").arg(&deb).arg(&root))?;
    let packed = root.join(&hypervisor.file);
    let staged = work.path().join("binary");
    if hypervisor.file.ends_with(".gz") {
        let input = std::fs::File::open(&packed).map_err(io("cannot open", &packed))?;
        let mut output = std::fs::File::create(&staged).map_err(io("cannot create", &staged))?;
        std::io::copy(&mut GzDecoder::new(input), &mut output).map_err(io("cannot decompress", &packed))?;
    } else {
        std::fs::copy(&packed, &staged).map_err(io("cannot copy", &packed))?;
    }
    std::fs::rename(&staged, &target).map_err(io("cannot move into place", &target))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_holds_the_decompressed_file_per_package() {
        let target = unik_targets::find("xen-x86_64").unwrap();
        let xen = target.machine.hypervisor.unwrap();
        assert_eq!(
            cached_path(&xen, Path::new("/c")),
            Path::new("/c/xen-hypervisor-4.17-amd64/xen-4.17-amd64")
        );
        let arm = unik_targets::find("xen-arm64").unwrap().machine.hypervisor.unwrap();
        assert_eq!(
            cached_path(&arm, Path::new("/c")),
            Path::new("/c/xen-hypervisor-4.17-arm64/xen-4.17-arm64")
        );
    }
}
