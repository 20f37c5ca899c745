//! Choosing the accelerator: TCG (emulation) or KVM.
//!
//! `auto` picks KVM only where it is real hardware virtualisation. A paravirtual KVM
//! (`kvm_pvm`, no VMX/SVM in the CPU flags) runs small guests far slower than TCG and
//! kills guests that use SSE right after privileged instructions, so TCG wins there.

use std::fs::OpenOptions;
use std::path::Path;
use unik_targets::{Accelerator, Arch, Target};

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Software emulation.
    Tcg,
    /// KVM; fails if unavailable.
    Kvm,
    /// KVM where it helps, TCG otherwise.
    Auto,
}

/// The accelerator actually used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Software emulation.
    Tcg,
    /// KVM.
    Kvm,
}

impl Resolved {
    /// `tcg` or `kvm`.
    pub fn name(self) -> &'static str {
        match self {
            Resolved::Tcg => "tcg",
            Resolved::Kvm => "kvm",
        }
    }
}

/// Why KVM cannot be used, if it cannot.
pub fn kvm_unavailable() -> Option<String> {
    match OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        Ok(_) => None,
        Err(e) => Some(format!(
            "/dev/kvm cannot be opened ({e}); is KVM enabled and are you in the `kvm` group?"
        )),
    }
}

/// Whether the host's KVM is the paravirtual kind that runs small guests slower than TCG.
pub fn kvm_is_paravirtual() -> bool {
    if Path::new("/sys/module/kvm_pvm").exists() {
        return true;
    }
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    !flags
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

/// Whether this machine's CPU runs `arch` natively (KVM runs only such guests).
pub fn host_runs(arch: Arch) -> bool {
    match arch {
        Arch::X86_64 => cfg!(target_arch = "x86_64"),
        Arch::Aarch64 => cfg!(target_arch = "aarch64"),
    }
}

/// Resolves `accel` on this machine for `target`; `Err` says why the request cannot work.
/// The `String` in `Ok` explains the choice, for verbose output.
pub fn resolve(accel: Accel, target: &Target) -> Result<(Resolved, String), String> {
    let supported = &target.machine.accelerators;
    if !host_runs(target.arch) && supported.contains(&Accelerator::Kvm) {
        let only_tcg: Vec<Accelerator> = supported.iter().copied().filter(|a| *a == Accelerator::Tcg).collect();
        return match accel {
            Accel::Kvm => Err(format!(
                "--accel kvm: KVM runs only guests of this machine's own architecture, and {} is {:?}; use --accel tcg",
                target.name, target.arch
            )),
            _ => resolve_among(accel, &only_tcg)
                .map(|(resolved, _)| (resolved, "tcg: KVM cannot run another architecture's guests".into())),
        };
    }
    resolve_among(accel, supported)
}

fn resolve_among(accel: Accel, supported: &[Accelerator]) -> Result<(Resolved, String), String> {
    let kvm_supported = supported.contains(&Accelerator::Kvm);
    match accel {
        Accel::Tcg if supported.contains(&Accelerator::Tcg) => Ok((Resolved::Tcg, "tcg as requested".into())),
        Accel::Tcg => Err("--accel tcg: this target cannot run under TCG".into()),
        Accel::Kvm if !kvm_supported => Err(
            "--accel kvm: this target boots a hypervisor inside QEMU, which runs under TCG only; use --accel tcg"
                .into(),
        ),
        Accel::Kvm => match kvm_unavailable() {
            None => Ok((Resolved::Kvm, "kvm as requested".into())),
            Some(reason) => Err(format!("--accel kvm: {reason}; use --accel tcg")),
        },
        Accel::Auto if !kvm_supported => Ok((Resolved::Tcg, "tcg: the target runs under TCG only".into())),
        Accel::Auto => match kvm_unavailable() {
            Some(reason) => Ok((Resolved::Tcg, format!("tcg: {reason}"))),
            None if kvm_is_paravirtual() => Ok((
                Resolved::Tcg,
                "tcg: this KVM is paravirtual (no VMX/SVM), where TCG is faster and safer".into(),
            )),
            None => Ok((Resolved::Kvm, "kvm: hardware virtualisation available".into())),
        },
    }
}
