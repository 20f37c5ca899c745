//! `unik run`.

use crate::build::{self, MessageFormat, Selection};
use anyhow::{Result, bail};
use clap::ValueEnum;
use std::time::Duration;
use unik_linker::BuildRecord;
use unik_runner::network::PortForward;
use unik_runner::volume::VolumeOption;
use unik_runner::{Accel, BootRequest, RunOptions};
use unik_targets::ByteSize;
use unik_ui::Shell;

/// `--accel` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    /// Software emulation.
    Tcg,
    /// KVM (fails if unavailable).
    Kvm,
    /// KVM where it is hardware virtualisation, TCG otherwise.
    Auto,
}

/// Arguments of `unik run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    selection: Selection,
    /// Target to boot (default: the manifest's first target, else kvm-x86_64).
    #[arg(long, value_name = "TARGET")]
    target: Option<String>,
    /// Accelerator.
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelArg,
    /// Guest memory, e.g. 64M (default: the manifest's `memory`, else the target's default).
    #[arg(long, value_name = "SIZE")]
    memory: Option<ByteSize>,
    /// Forward a host port to a guest port, as `[ADDRESS:]HOST:GUEST[/udp]` (repeatable;
    /// the address defaults to 127.0.0.1). Only for images with the net component.
    #[arg(long, short = 'p', value_name = "HOST:GUEST")]
    publish: Vec<PortForward>,
    /// Attach a disk image for a volume the image mounts, as HOST_FILE:GUEST_PATH, with
    /// `:ro` for read-only and `:size=64M` to make (and format with mke2fs) a missing file
    /// (repeatable; one per entry of the manifest's `volumes`).
    #[arg(long, value_name = "FILE:PATH")]
    volume: Vec<VolumeOption>,
    /// Boot the image as a real domU: Xen runs a Linux dom0 (assembled once from Debian's
    /// packages), which creates the domain from the image's `.xl` with `xl`.
    #[arg(long)]
    domu: bool,
    /// With --domu: a shell command for the dom0 to run once the domU is created, e.g. a
    /// client of a server image (`curl "http://$UNIK_DOMU_ADDRESS:8080/"`). Its output is
    /// shown, its exit status ends the run, and the domU is destroyed after it.
    #[arg(long, value_name = "COMMAND", requires = "domu")]
    in_dom0: Option<String>,
    /// Stop the VM after this many seconds (default: no limit).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Print what the build and the boot would do (the commands, the files) and do nothing.
    #[arg(long)]
    dry_run: bool,
    /// The application's command line (default: the manifest's `cmdline`).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

/// Runs `unik run`; the result is the exit status.
pub fn exec(shell: &Shell, args: Args) -> Result<i32> {
    let project = build::load_project(shell, &args.selection)?;
    let profile = build::profile(&args.selection)?;
    let target = project.target(args.target.as_deref())?;
    let timeout = match args.timeout {
        Some(seconds) if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) => {
            bail!("--timeout {seconds}: give a positive number of seconds (below 1e9)")
        }
        Some(seconds) => Some(Duration::from_secs_f64(seconds)),
        None => None,
    };
    let cmdline = if args.args.is_empty() {
        project.settings.cmdline.clone().unwrap_or_default()
    } else {
        unik_runner::cmdline::join(&args.args)?
    };
    let accel = match args.accel {
        AccelArg::Tcg => Accel::Tcg,
        AccelArg::Kvm => Accel::Kvm,
        AccelArg::Auto => Accel::Auto,
    };
    let (accel, why) = unik_runner::accel::resolve(accel, &target)
        .map_err(|message| anyhow::anyhow!("{message} (target {})", target.name))?;
    if shell.is_verbose() {
        shell.note(format!("accelerator {why}"));
    }
    let options = RunOptions {
        domu: args.domu,
        memory: args.memory,
        cmdline,
        publish: args.publish,
        dom0_command: args.in_dom0,
        timeout,
        volumes: args.volume,
    };
    // Before the build: memory out of the target's range, a command line its
    // hypervisor would cut, volumes the boot cannot attach.
    options.check(&target, &project.settings.volumes)?;
    if args.dry_run {
        build::print_plan(shell, &project, &target, &profile, MessageFormat::Human)?;
        let image = unik_builder::output_dir(&project, &target, &profile).join(&project.package);
        let Ok(record) = BuildRecord::beside(&image) else {
            unik_ui::outln!(
                "the boot depends on the image (its components and size): build it once to see the boot's plan"
            );
            return Ok(0);
        };
        let request = BootRequest::for_image(&target, &record, options, accel, project.cache_dir())?;
        unik_ui::out!("{}", unik_runner::prepare(&request)?.describe());
        return Ok(0);
    }
    let record = build::build_one(shell, &project, &target, &profile, MessageFormat::Human)?;
    let request = BootRequest::for_image(&target, &record, options, accel, project.cache_dir())?;
    let plan = unik_runner::prepare(&request)?;
    shell.status("Running", plan.summary());
    for forward in request.network.iter().flat_map(|network| &network.publish) {
        shell.status("Forwarding", forward.to_string());
    }
    let result = unik_runner::execute(shell, &plan, Box::new(std::io::stdout()))?;
    if shell.is_verbose() {
        for line in &result.hypervisor_log {
            shell.diagnostic(&format!("{}\n", line.text));
        }
    }
    let (status, failure) = result.exit_status();
    if let Some(failure) = failure {
        shell.error(failure);
    }
    Ok(status)
}
