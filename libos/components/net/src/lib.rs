//! The net component: TCP and UDP over IPv4 on the machine's NIC, with an API shaped like
//! std's (`TcpListener`, `TcpStream`, `UdpSocket`) whose operations are `async`.
//!
//! ```ignore
//! let listener = TcpListener::bind(8080)?;
//! unik::task::block_on(async {
//!     loop {
//!         let (mut stream, _peer) = listener.accept().await?;
//!         unik::task::spawn(async move { let _ = stream.write_all(b"hello\n").await; });
//!     }
//! })
//! ```
//!
//! - The protocol stack is [smoltcp](https://crates.io/crates/smoltcp): ARP, IPv4, ICMP
//!   echo replies, TCP, UDP and the DHCP client. The NIC is the platform's
//!   (`unik_platform::Nic`): virtio-net over virtio-mmio, or Xen's netfront.
//! - Addressing: `unik.ip=A.B.C.D/N` (and `unik.gateway=`) on the boot command line, else
//!   the address the manifest's `[package.metadata.unik.net]` gave at build time, else
//!   DHCP. Operations that need an address wait for it.
//! - Concurrency: any number of sockets, each operation a future; `unik_task::block_on`
//!   runs them (it is the blocking form of every operation) and `unik_task::spawn` runs
//!   several at once. The stack is the executor's event source: when no task can run the
//!   CPU halts until the NIC interrupts or a protocol timer is due.
//! - Everything starts on first use: the NIC is found and started by the first socket.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod address;
pub mod config;
pub mod dns;
pub mod stack;
mod tcp;
mod udp;

pub use address::ToSocketAddr;
pub use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
pub use dns::resolve;
pub use stack::InterfaceAddress;
pub use tcp::Readiness;
pub use tcp::{Shutdown, TcpListener, TcpStream};
pub use udp::UdpSocket;

use alloc::boxed::Box;
use config::Addressing;
use core::sync::atomic::{AtomicU8, Ordering};
use spinning_top::Spinlock;
use stack::Stack;
use unik_platform::{Clock, Console, Current};

/// What can go wrong with a network operation (the kinds of `std::io::ErrorKind` that
/// apply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The machine has no NIC this image can drive.
    NoDevice,
    /// The port is already bound or listened on.
    AddressInUse,
    /// An argument is not usable (port 0 for a listener, an IPv6 address, a bad string).
    InvalidInput,
    /// The peer refused the connection.
    ConnectionRefused,
    /// The peer reset the connection.
    ConnectionReset,
    /// The connection is closed for this direction.
    NotConnected,
    /// The operation's timeout passed.
    TimedOut,
    /// No route to the address (or the interface has no address, or no DNS server).
    Unreachable,
    /// The DNS server knows no address for the name, or did not answer.
    NameNotFound,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::NoDevice => "no network device",
            Error::AddressInUse => "address in use",
            Error::InvalidInput => "invalid input",
            Error::ConnectionRefused => "connection refused",
            Error::ConnectionReset => "connection reset",
            Error::NotConnected => "not connected",
            Error::TimedOut => "timed out",
            Error::Unreachable => "network unreachable",
            Error::NameNotFound => "name not found",
        })
    }
}

/// The result of a network operation.
pub type Result<T> = core::result::Result<T, Error>;

/// The NIC of this image: the platform's driver.
#[cfg(not(test))]
type Device = unik_platform::Nic;
/// Unit tests run the real stack over smoltcp's loopback device.
#[cfg(test)]
type Device = smoltcp::phy::Loopback;

/// The platform's NIC driver, as the stack drives it.
#[cfg(not(test))]
impl<D: unik_platform::NetworkDriver<Current> + smoltcp::phy::Device> stack::Nic for D {
    fn acknowledge_interrupt(&mut self) {
        unik_platform::NetworkDriver::<Current>::acknowledge_interrupt(self)
    }
}

#[cfg(test)]
impl stack::Nic for smoltcp::phy::Loopback {}

/// The stack, once started; boxed so that the static is a zero-filled pointer in `.bss`
/// rather than kilobytes of initialised `.data` in the image file.
static STACK: Spinlock<Option<Box<Stack<Device>>>> = Spinlock::new(None);

const UNTRIED: u8 = 0;
const READY: u8 = 1;
const ABSENT: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNTRIED);

fn now() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros((Current::now_nanos() / 1000) as i64)
}

/// The NIC (started, its interrupt routed), its MAC address, and the command line its
/// addressing comes from.
#[cfg(not(test))]
fn open_device() -> Option<(Device, [u8; 6], &'static str)> {
    use unik_platform::BootInfo;
    let (nic, mac) = <Device as unik_platform::NetworkDriver<Current>>::open()?;
    Some((nic, mac, Current::command_line()))
}

#[cfg(test)]
fn open_device() -> Option<(Device, [u8; 6], &'static str)> {
    let loopback = smoltcp::phy::Loopback::new(smoltcp::phy::Medium::Ethernet);
    Some((loopback, [2, 0, 0, 0, 0, 1], "unik.ip=10.0.0.1/24"))
}

/// Finds and starts the NIC the first time; `Err(NoDevice)` when there is none.
fn start() -> Result<()> {
    match STATE.load(Ordering::Acquire) {
        READY => return Ok(()),
        ABSENT => return Err(Error::NoDevice),
        _ => {}
    }
    let Some((device, mac, command_line)) = open_device() else {
        STATE.store(ABSENT, Ordering::Release);
        return Err(Error::NoDevice);
    };
    let built_in = (option_env!("UNIK_NET_IP"), option_env!("UNIK_NET_GATEWAY"));
    let addressing = config::addressing(command_line, built_in).unwrap_or_else(|config::InvalidParameter(name)| {
        for part in [
            b"unik: net: ignoring an invalid ".as_slice(),
            name.as_bytes(),
            b"; asking DHCP instead\n",
        ] {
            Current::write(part);
        }
        Addressing::Dhcp
    });
    let dns = config::dns_server(command_line, option_env!("UNIK_NET_DNS")).unwrap_or_else(
        |config::InvalidParameter(name)| {
            for part in [b"unik: net: ignoring an invalid ".as_slice(), name.as_bytes(), b"\n"] {
                Current::write(part);
            }
            None
        },
    );
    let seed = Current::now_nanos() ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0]);
    let mut stack = Box::new(Stack::new(device, mac, addressing, seed, now()));
    stack.configure_dns(dns);
    *STACK.lock() = Some(stack);
    unik_task::add_event_source(run_stack);
    STATE.store(READY, Ordering::Release);
    Ok(())
}

/// Wakers woken whenever the stack has done work: see [`watch`].
static WATCHERS: Spinlock<alloc::vec::Vec<core::task::Waker>> = Spinlock::new(alloc::vec::Vec::new());

/// Has `waker` woken each time the stack receives or sends anything, or its address
/// changes: the moments any socket's [`Readiness`] may change (what `epoll` and `poll`
/// wait for). It stays until [`unwatch`].
pub fn watch(waker: &core::task::Waker) {
    let mut watchers = WATCHERS.lock();
    if !watchers.iter().any(|known| known.will_wake(waker)) {
        watchers.push(waker.clone());
    }
}

/// Stops waking `waker` (see [`watch`]).
pub fn unwatch(waker: &core::task::Waker) {
    WATCHERS.lock().retain(|known| !known.will_wake(waker));
}

/// The executor's event source: the stack's work, and when it next wants to run.
fn run_stack() -> Option<u64> {
    let mut stack = STACK.lock();
    let stack = stack.as_mut()?;
    let next = stack.poll(now());
    if stack.was_active() {
        WATCHERS.lock().iter().for_each(core::task::Waker::wake_by_ref);
    }
    let next = next?;
    Some(u64::try_from(next.total_micros()).unwrap_or(0).saturating_mul(1000))
}

/// Runs `f` on the stack, starting it first if need be.
fn with_stack<R>(f: impl FnOnce(&mut Stack<Device>) -> R) -> Result<R> {
    start()?;
    let mut stack = STACK.lock();
    Ok(f(stack.as_mut().ok_or(Error::NoDevice)?))
}

/// Waits until the interface has an address (at once with a static one; after DHCP's
/// exchange otherwise) and returns it.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub async fn address() -> Result<InterfaceAddress> {
    core::future::poll_fn(|context| match with_stack(|stack| stack.address(context.waker())) {
        Ok(Some(address)) => core::task::Poll::Ready(Ok(address)),
        Ok(None) => core::task::Poll::Pending,
        Err(error) => core::task::Poll::Ready(Err(error)),
    })
    .await
}

/// Runs `future`, turning a timeout into [`Error::TimedOut`].
/// An operation's time limit, settable through a shared reference.
#[derive(Debug)]
struct Timeout {
    /// Nanoseconds; `u64::MAX`: no limit.
    nanos: core::sync::atomic::AtomicU64,
}

impl Timeout {
    const fn none() -> Timeout {
        Timeout {
            nanos: core::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }

    fn get(&self) -> Option<core::time::Duration> {
        let nanos = self.nanos.load(Ordering::Relaxed);
        (nanos != u64::MAX).then(|| core::time::Duration::from_nanos(nanos))
    }

    fn set(&self, limit: Option<core::time::Duration>) {
        let nanos = limit.map_or(u64::MAX, |limit| {
            u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX - 1)
        });
        self.nanos.store(nanos, Ordering::Relaxed);
    }
}

async fn limited<T>(limit: Option<core::time::Duration>, future: impl Future<Output = Result<T>>) -> Result<T> {
    match limit {
        None => future.await,
        Some(limit) => unik_task::timeout(limit, future).await.unwrap_or(Err(Error::TimedOut)),
    }
}

#[cfg(test)]
mod tests;
