//! The crate a unik application depends on.
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use unik::println;
//!
//! #[unik::main]
//! fn main() -> i32 {
//!     println!("Hello, world!");
//!     0
//! }
//! ```
//!
//! - [`print!`], [`println!`], [`eprint!`], [`eprintln!`]: write to the VM's console.
//! - [`exit`]: end the VM with a status; returning from `main` does the same.
//! - [`args`]: the boot command line, split into words.
//! - [`time`]: a monotonic [`time::Instant`] and [`time::sleep`], which halts the CPU.
//! - `extern crate alloc;` works: the global allocator takes the VM's RAM from the boot
//!   memory map the first time it is needed; with the `heap-stats` feature, `heap::stats`
//!   says how much is in use.
//! - [`task`]: run `async` code: [`task::block_on`], [`task::spawn`], [`task::sleep`],
//!   [`task::timeout`]; the CPU halts whenever no task can run.
//! - [`net`]: TCP and UDP over the VM's NIC (`TcpListener`, `TcpStream`, `UdpSocket`),
//!   their operations `async`, run by [`task`].
//! - A panic prints `panicked at FILE:LINE:COLUMN:` and its message, and ends the VM with
//!   status 101, as std does.
//!
//! Every part initialises on first use, and the build keeps only the parts an
//! application reaches: an application that never sleeps carries no timer code.
//!
//! An ordinary std program (`fn main`, no `#![no_std]`) uses unik by depending on it:
//! `unik build` then builds it with std for the target's Linux musl triple, and
//! `unik-libc` provides the C library functions std calls.
#![no_std]
#![forbid(unsafe_code)]

pub use unik_args::{Args, args};
pub use unik_console::{eprint, eprintln, print, println};
pub use unik_macros::main;
use unik_platform::{Current, Shutdown};

/// Time: `Instant`, `Duration` and `sleep`.
pub mod time {
    pub use unik_time::{Duration, Instant, sleep};
}

/// Tasks: a cooperative executor for `async` code, with timers.
pub mod task {
    pub use unik_task::{Elapsed, block_on, sleep, spawn, timeout, yield_now};
}

/// Networking: TCP and UDP over IPv4 (see `unik_net`).
pub mod net {
    pub use unik_net::{
        Error, InterfaceAddress, IpAddr, Ipv4Addr, Result, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream,
        ToSocketAddr, UdpSocket, address,
    };
}

/// The heap's bookkeeping (feature `heap-stats`).
#[cfg(feature = "heap-stats")]
pub mod heap {
    pub use unik_alloc::Stats;

    /// How much of the heap is in use now (all zero in host builds, whose heap is std's).
    pub fn stats() -> Stats {
        #[cfg(all(unik_platform, target_os = "linux"))]
        return unik_libc::memory::stats();
        #[cfg(all(unik_platform, target_os = "none"))]
        return unik_alloc::stats(&crate::HEAP);
        #[cfg(not(unik_platform))]
        Stats::default()
    }
}

/// Ends the VM with `status` (0 = success), after flushing the console.
pub fn exit(status: i32) -> ! {
    Current::exit(status)
}

/// What `#[unik::main]` may return: `()`, an `i32` status, or a `Result`.
pub trait Termination {
    /// The exit status this value stands for.
    fn report(self) -> i32;
}

impl Termination for () {
    fn report(self) -> i32 {
        0
    }
}

impl Termination for i32 {
    fn report(self) -> i32 {
        self
    }
}

impl Termination for core::convert::Infallible {
    fn report(self) -> i32 {
        match self {}
    }
}

/// `Ok` reports the inner value; `Err(e)` prints `Error: {e:?}` and reports 1, as std does.
impl<T: Termination, E: core::fmt::Debug> Termination for Result<T, E> {
    fn report(self) -> i32 {
        match self {
            Ok(value) => value.report(),
            Err(error) => {
                eprintln!("Error: {error:?}");
                1
            }
        }
    }
}

// std applications: std runs on the C library of unik-libc, and brings its own allocator
// (which calls it) and panic handler.
#[cfg(all(unik_platform, target_os = "linux"))]
extern crate unik_libc;

// Only in no_std images: host builds (unit tests) keep std's allocator and panic handler.
#[cfg(all(unik_platform, target_os = "none"))]
#[global_allocator]
static HEAP: unik_alloc::Heap = unik_alloc::heap();

#[cfg(all(unik_platform, target_os = "none"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(location) => eprintln!("panicked at {location}:\n{}", info.message()),
        None => eprintln!("panicked:\n{}", info.message()),
    }
    Current::exit(unik_platform::status::PANIC)
}
