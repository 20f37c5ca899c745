//! The HTTP part of `cargo xtask bench`: `examples/http` (the library OS's own async API)
//! and `examples/axum` (axum on tokio, through the C library's epoll and sockets) under a
//! keep-alive load, booted by `unik run --publish` on each target with a NIC, and the very
//! same request handling as examples/http
//! (`examples/http/src/http.rs`, served by `examples/std-http`'s blocking connection loop)
//! as a Linux process on loopback, for scale. Also the host
//! CPU an idle server's QEMU uses.

#[path = "../../examples/std-http/src/connection.rs"]
mod connection;
#[path = "../../examples/http/src/http.rs"]
mod http;
#[path = "../../tests/support/http_client.rs"]
#[allow(dead_code)]
mod http_client;

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use unik_targets::Target;
use unik_ui::Shell;

/// Keep-alive connections of the load, and requests on each.
pub const CONNECTIONS: usize = 50;
pub const REQUESTS_PER_CONNECTION: usize = 200;
/// The guest port the measured examples listen on.
const GUEST_PORT: u16 = 8080;
/// The examples measured under load (each answers `GET /echo?TEXT` with `TEXT`).
pub const LOADED_EXAMPLES: [&str; 2] = ["http", "axum"];

/// One server under the load.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLoad {
    /// What served: `unik kvm-x86_64 (tcg)` or `linux process`.
    pub server: String,
    /// The example that served (`http`, `axum`; the Linux process runs http's handling).
    pub example: String,
    /// The unik target, if it was unik.
    pub target: Option<String>,
    /// Connections and requests in all.
    pub connections: usize,
    pub requests: usize,
    /// Failed requests.
    pub errors: usize,
    /// Requests per second once every connection was open.
    pub requests_per_s: f64,
    /// Latency percentiles of all requests, in milliseconds.
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// Host CPU the server's QEMU used while idle, in percent of one core (unik only).
    pub idle_cpu_percent: Option<f64>,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs the load against `address`; the figures, without `server`, `target` and idle CPU.
fn measure(address: SocketAddr, server: String, example: &str, target: Option<String>) -> HttpLoad {
    let mut marks = Vec::new();
    let report = http_client::load(
        address,
        CONNECTIONS,
        REQUESTS_PER_CONNECTION,
        &[1, REQUESTS_PER_CONNECTION],
        |_| marks.push(Instant::now()),
    );
    let timed = CONNECTIONS * (REQUESTS_PER_CONNECTION - 1);
    let seconds = marks[1].duration_since(marks[0]).as_secs_f64();
    HttpLoad {
        server,
        example: example.into(),
        target,
        connections: CONNECTIONS,
        requests: report.ok + report.errors,
        errors: report.errors,
        requests_per_s: timed as f64 / seconds.max(1e-9),
        p50_ms: millis(report.percentile(50.0)),
        p90_ms: millis(report.percentile(90.0)),
        p99_ms: millis(report.percentile(99.0)),
        idle_cpu_percent: None,
    }
}

/// The same request handling as examples/http, as a Linux process: one thread per
/// connection on loopback. Returns its address; the threads live until the bench ends.
fn serve_on_loopback() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || connection::serve(stream, || (0, 0)));
        }
    });
    Ok(address)
}

/// The load against the Linux build of the same handling.
pub fn measure_linux() -> Result<HttpLoad, String> {
    let address = serve_on_loopback().map_err(|e| e.to_string())?;
    Ok(measure(address, "linux process (loopback)".into(), "http", None))
}

/// CPU time (user + system) of process `pid` so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 on every mainstream architecture.
    Some(Duration::from_millis(ticks * 10))
}

/// The QEMU that `unik run` (process `parent`) started.
fn qemu_of(parent: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// Boots `examples/<example>` on `target` with `unik run --publish`, measures its idle
/// CPU and the load, and stops it.
pub fn measure_unik(shell: &Shell, unik: &Path, target: &Target, example: &str) -> Result<HttpLoad, String> {
    let host_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut command = shell.command(unik);
    command
        .current_dir(crate::root().join("examples").join(example))
        .args([
            "-q",
            "run",
            "--release",
            "--accel",
            "tcg",
            "--timeout",
            "600",
            "--target",
            &target.name,
        ])
        .args(["--publish", &format!("{host_port}:{GUEST_PORT}")])
        .stdout(Stdio::piped())
        .process_group(0);
    shell.echo(&command);
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let stop = |child: &mut std::process::Child| {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", child.id())])
            .status();
        let _ = child.wait();
    };
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains(": listening on "));
    if !listening {
        stop(&mut child);
        return Err(format!("examples/{example} on {} never listened", target.name));
    }
    let idle_cpu_percent = qemu_of(child.id()).and_then(|qemu| {
        std::thread::sleep(Duration::from_secs(1));
        let (before, started) = (cpu_time(qemu)?, Instant::now());
        std::thread::sleep(Duration::from_secs(3));
        let used = cpu_time(qemu)?.saturating_sub(before);
        Some(100.0 * used.as_secs_f64() / started.elapsed().as_secs_f64())
    });
    let mut load = measure(
        SocketAddr::from(([127, 0, 0, 1], host_port)),
        format!("unik {} (tcg, QEMU user network)", target.name),
        example,
        Some(target.name.clone()),
    );
    load.idle_cpu_percent = idle_cpu_percent;
    stop(&mut child);
    Ok(load)
}
