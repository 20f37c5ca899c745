//! `unik run`.

use crate::build::{self, MessageFormat, Selection};
use anyhow::{Result, bail};
use clap::ValueEnum;
use std::time::Duration;
use unik_runner::network::{Network, PortForward};
use unik_runner::{Accel, Outcome, RunRequest};
use unik_targets::ByteSize;
use unik_ui::Shell;

/// Exit status of `unik run` when the VM ended without reporting a status (a triple
/// fault, a reset). Guests report 0..=127, so this cannot be mistaken for one.
pub const STATUS_NO_REPORT: i32 = 134;
/// Exit status of `unik run` when the timeout stopped the VM.
pub const STATUS_TIMEOUT: i32 = 142;
/// The catalog component that needs a NIC.
const NET_COMPONENT: &str = "net";
/// Hypervisor log lines a failure message shows.
const HYPERVISOR_LINES_SHOWN: usize = 6;

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
    /// Boot a xen-x86_64 image as a real domU: Xen runs a Linux dom0 (assembled once from
    /// Debian's packages), which creates the domain from the image's `.xl` with `xl`.
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
    /// The application's command line (default: the manifest's `cmdline`).
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

/// Runs `unik run`; the result is the exit status.
pub fn exec(shell: &Shell, args: Args) -> Result<i32> {
    let project = build::load_project(shell, args.selection.manifest_path.as_deref())?;
    let profile = build::profile(&args.selection)?;
    let requested: Vec<String> = args.target.into_iter().collect();
    let target = build::targets(&requested, &project)?.swap_remove(0);
    let timeout = match args.timeout {
        Some(seconds) if !(seconds.is_finite() && seconds > 0.0) => {
            bail!("--timeout {seconds}: give a positive number of seconds")
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

    let record = build::build_one(shell, &project, &target, &profile, MessageFormat::Human)?;
    let memory = match args.memory {
        Some(memory) => {
            let image = unik_linker_image(&record.image)?;
            unik_builder::check_memory(&image, &target, memory, "--memory")?;
            memory
        }
        None => ByteSize::new(record.memory),
    };
    let has_network = record.components.iter().any(|component| component == NET_COMPONENT);
    if !has_network && !args.publish.is_empty() {
        bail!(
            "--publish: the image {} has no `{NET_COMPONENT}` component (the application never uses unik::net), so nothing in it could answer on a port; drop --publish",
            record.image.display()
        );
    }
    if args.domu && !args.publish.is_empty() {
        bail!(
            "--publish: the host cannot reach a domU, which sits on a bridge inside the dom0; run a client in the dom0 instead, with --in-dom0 'curl http://$UNIK_DOMU_ADDRESS:PORT/'"
        );
    }
    let xen = target.machine.hypervisor.as_ref();
    let boots_under_xl =
        target.xl_type.is_some() && xen.is_some_and(|xen| matches!(xen.handoff, unik_targets::Handoff::Module { .. }));
    let xl_domu = if args.domu {
        let (true, Some(guest_type)) = (boots_under_xl, target.xl_type.as_deref()) else {
            bail!(
                "--domu: target {} does not boot under a dom0 with xl (xen-x86_64 does; xen-arm64 always boots as a domU)",
                target.name
            );
        };
        let cache = hypervisor_cache(&project);
        let dom0 = unik_runner::dom0::ensure(shell, &cache)?;
        // The same configuration `unik build` wrote, with the dom0's paths and this
        // run's command line.
        let bridge = unik_builder::xl_vif_bridge(&project, &record.components);
        let config = unik_builder::xl::render(&unik_builder::xl::XlConfig {
            name: &project.package,
            guest_type,
            kernel: std::path::Path::new("/domu/image"),
            memory_mib: memory.bytes().div_ceil(1 << 20),
            cmdline: &cmdline,
            target: &target.name,
            vif_bridge: bridge,
        });
        Some(unik_runner::XlDomU {
            dom0,
            config,
            bridge: bridge.map(str::to_string),
            dom0_command: args.in_dom0.clone(),
        })
    } else {
        None
    };
    if has_network && xl_domu.is_none() && target.machine.nic_device.is_none() {
        let hint = if boots_under_xl {
            "; run it as a domU with a vif instead: `unik run --domu`"
        } else {
            ""
        };
        bail!(
            "the image {} has the `{NET_COMPONENT}` component, but target {} gives `unik run` no network device to attach{hint}",
            record.image.display(),
            target.name
        );
    }
    // A domU's network is the dom0's bridge, not a NIC of the QEMU machine.
    let network = (has_network && xl_domu.is_none()).then(|| Network {
        publish: args.publish.clone(),
    });
    let hypervisor = match &target.machine.hypervisor {
        Some(hypervisor) => Some(unik_runner::hypervisor::ensure(
            shell,
            hypervisor,
            &hypervisor_cache(&project),
        )?),
        None => None,
    };
    let under = target
        .machine
        .hypervisor
        .as_ref()
        .map(|h| {
            format!(
                " under {}{}",
                h.name,
                if xl_domu.is_some() {
                    " as a domU of a Linux dom0 (xl)"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_default();
    shell.status(
        "Running",
        format!(
            "{} on {}{under} ({}, {memory} memory)",
            record.image.display(),
            target.name,
            accel.name()
        ),
    );
    let request = RunRequest {
        target: &target,
        image: &record.image,
        memory,
        cmdline,
        accel,
        timeout,
        hypervisor,
        role: None,
        network,
        xl_domu,
    };
    for forward in &args.publish {
        shell.status("Forwarding", forward.to_string());
    }
    let result = unik_runner::run(shell, &request, Box::new(std::io::stdout()))?;
    let tail = || {
        let mut text = if result.last_lines.is_empty() {
            "The guest printed nothing.".to_string()
        } else {
            format!("Its last console lines:\n  {}", result.last_lines.join("\n  "))
        };
        if let Some(hypervisor) = &target.machine.hypervisor {
            let log = &result.hypervisor_log;
            let last: Vec<&str> = log[log.len().saturating_sub(HYPERVISOR_LINES_SHOWN)..]
                .iter()
                .map(|l| l.text.as_str())
                .collect();
            if !last.is_empty() {
                text += &format!(
                    "\n{}'s last lines (all of them with -v):\n  {}",
                    hypervisor.name,
                    last.join("\n  ")
                );
            }
        }
        text
    };
    if shell.is_verbose() {
        for line in &result.hypervisor_log {
            eprintln!("{}", line.text);
        }
    }
    match result.outcome {
        Outcome::Exited(status) => Ok(status),
        Outcome::NoStatus => {
            shell.error(format!(
                "the VM ended without reporting an exit status (a triple fault, a reset, a crashed domain or a hypervisor panic?). {}",
                tail()
            ));
            Ok(STATUS_NO_REPORT)
        }
        Outcome::TimedOut(after) => {
            shell.error(format!(
                "the VM was still running after {:.1} s and was stopped (--timeout). {}",
                after.as_secs_f64(),
                tail()
            ));
            Ok(STATUS_TIMEOUT)
        }
    }
}

/// Where downloaded hypervisors and the dom0 kit are kept.
fn hypervisor_cache(project: &unik_project::Project) -> std::path::PathBuf {
    std::env::var_os("UNIK_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project.target_directory.join("unik").join("cache"))
}

fn unik_linker_image(path: &std::path::Path) -> Result<unik_linker::Image> {
    let bytes = std::fs::read(path)?;
    Ok(unik_linker::Image::parse(&bytes)?)
}
