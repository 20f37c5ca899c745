//! Sockets: BSD-style calls on the network component's `TcpListener`, `TcpStream` and
//! `UdpSocket` (IPv4), each an object in the descriptor table ([`crate::descriptor`]).
//!
//! A blocking call runs the operation with `unik_task::block_on`, which parks the calling
//! thread while the operation waits, so other threads run; on a non-blocking descriptor
//! (`SOCK_NONBLOCK`, `O_NONBLOCK`, `FIONBIO`) it is tried once (`EAGAIN` when it would
//! wait), and a `connect` returns `EINPROGRESS` while the handshake goes on. Readiness for
//! `poll` and `epoll` comes from the sockets' state; the network stack wakes the waiters
//! whenever it has received or sent anything. Only `socket` and `accept` make sockets, so
//! a program that calls neither has no network code behind `read`, `write` and `close`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::ffi::{c_char, c_int, c_void};
use core::future::Future;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Waker;
use core::time::Duration;
use libc::{
    AF_INET, AF_INET6, IPPROTO_TCP, SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVTIMEO, SO_REUSEADDR,
    SO_SNDTIMEO, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, TCP_NODELAY, addrinfo, sockaddr,
    sockaddr_in, socklen_t, timeval,
};
use spinning_top::Spinlock;
use unik_net::{Error, Readiness, Shutdown, TcpListener, TcpStream, UdpSocket};

use crate::descriptor::{self, File, Open};
use crate::errno::{
    EADDRINUSE, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, ECONNRESET, EFAULT, EINVAL, ENETUNREACH, ENODEV, ENOTCONN,
    ENOTSOCK, EOPNOTSUPP, ETIMEDOUT, fail, fail_size,
};
use libc::{EALREADY, EDESTADDRREQ, EINPROGRESS, EISCONN, ENOPROTOOPT, EPROTONOSUPPORT};

/// What a socket has become.
enum Bound {
    Listener(TcpListener),
    Stream(TcpStream),
    Datagram(UdpSocket),
}

/// A socket.
struct Socket {
    stream: bool,
    /// Nanoseconds; `u64::MAX`: none.
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
    /// The address `bind` gave a stream socket, until `listen`.
    local: Spinlock<Option<SocketAddrV4>>,
    /// A datagram socket's `connect`ed peer.
    peer: Spinlock<Option<SocketAddrV4>>,
    bound: Spinlock<Option<Arc<Bound>>>,
}

impl Socket {
    fn new(stream: bool) -> Socket {
        Socket {
            stream,
            read_timeout: AtomicU64::new(u64::MAX),
            write_timeout: AtomicU64::new(u64::MAX),
            local: Spinlock::new(None),
            peer: Spinlock::new(None),
            bound: Spinlock::new(None),
        }
    }

    fn bound(&self) -> Option<Arc<Bound>> {
        self.bound.lock().clone()
    }

    /// Runs `operation`, blocking (up to `timeout`) or, when `nonblocking`, trying once.
    fn wait<T>(
        &self,
        nonblocking: bool,
        timeout: &AtomicU64,
        operation: impl Future<Output = unik_net::Result<T>>,
    ) -> Result<T, i32> {
        let result = if nonblocking {
            unik_task::poll_once(operation).ok_or(EAGAIN)?
        } else {
            match timeout.load(Ordering::Relaxed) {
                u64::MAX => unik_task::block_on(operation),
                nanos => unik_task::block_on(unik_task::timeout(Duration::from_nanos(nanos), operation))
                    .unwrap_or(Err(Error::TimedOut)),
            }
        };
        result.map_err(errno_of)
    }

    /// The stream's failure to connect, if it failed (`SO_ERROR`).
    fn connect_error(&self) -> Option<i32> {
        match self.bound().as_deref() {
            Some(Bound::Stream(stream)) if stream.readiness().failed => Some(ECONNREFUSED),
            _ => None,
        }
    }
}

impl File for Socket {
    fn read(&self, buffer: &mut [u8], nonblocking: bool) -> Result<usize, c_int> {
        receive(self, nonblocking, buffer).map(|(count, _)| count)
    }

    fn write(&self, bytes: &[u8], nonblocking: bool) -> Result<usize, c_int> {
        send_bytes(self, nonblocking, bytes, None)
    }

    fn readiness(&self) -> descriptor::Readiness {
        let found = match self.bound().as_deref() {
            Some(Bound::Listener(listener)) => listener.readiness(),
            Some(Bound::Stream(stream)) => stream.readiness(),
            Some(Bound::Datagram(udp)) => udp.readiness(),
            // An unconnected stream socket is hung up (and writable, to report it), as
            // on Linux; an unbound datagram socket can send.
            None if self.stream => Readiness {
                writable: true,
                hung_up: true,
                ..Readiness::default()
            },
            None => Readiness {
                writable: true,
                ..Readiness::default()
            },
        };
        [
            (found.readable, libc::EPOLLIN),
            (found.writable, libc::EPOLLOUT),
            (found.read_closed, libc::EPOLLRDHUP),
            (found.hung_up, libc::EPOLLHUP),
            (found.failed, libc::EPOLLERR),
        ]
        .iter()
        .filter(|(present, _)| *present)
        .fold(0, |bits, (_, bit)| bits | *bit as u32)
    }

    fn watch(&self, waker: &Waker) {
        unik_net::watch(waker);
    }

    fn unwatch(&self, waker: &Waker) {
        unik_net::unwatch(waker);
    }

    fn mode(&self) -> libc::mode_t {
        libc::S_IFSOCK | 0o777
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn errno_of(error: Error) -> i32 {
    match error {
        Error::NoDevice => ENODEV,
        Error::AddressInUse => EADDRINUSE,
        Error::InvalidInput => EINVAL,
        Error::ConnectionRefused => ECONNREFUSED,
        Error::ConnectionReset => ECONNRESET,
        Error::NotConnected => ENOTCONN,
        Error::TimedOut => ETIMEDOUT,
        Error::Unreachable => ENETUNREACH,
        Error::NameNotFound => EINVAL,
    }
}

/// A description known to hold a socket, which it derefs to.
struct SocketRef(Arc<Open>);

impl SocketRef {
    /// Whether calls on this description fail with `EAGAIN` instead of waiting.
    fn nonblocking(&self) -> bool {
        self.0.nonblocking()
    }
}

impl core::ops::Deref for SocketRef {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        // `socket_of` made it only for a socket.
        self.0.downcast::<Socket>().unwrap_or_else(|| unreachable!())
    }
}

/// Descriptor `fd`'s socket: `EBADF` if there is none, `ENOTSOCK` if it is not a socket.
fn socket_of(fd: i32) -> Result<SocketRef, i32> {
    let open = descriptor::open(fd)?;
    match open.downcast::<Socket>() {
        Some(_) => Ok(SocketRef(open)),
        None => Err(ENOTSOCK),
    }
}

/// A new socket's descriptor.
fn add(socket: Socket, nonblocking: bool) -> i32 {
    crate::wait::enable_waiting();
    descriptor::install(Arc::new(socket), nonblocking)
}

/// `Ok(value)` as itself, `Err(code)` as -1 with `errno` set.
fn status(result: Result<i32, i32>) -> i32 {
    result.unwrap_or_else(fail)
}

use crate::io::size_status;

/// The IPv4 address at `name`.
///
/// # Safety
/// `name` must be null or readable for `length` bytes.
unsafe fn read_address(name: *const sockaddr, length: socklen_t) -> Result<SocketAddrV4, i32> {
    if name.is_null() || (length as usize) < size_of::<sockaddr_in>() {
        return Err(EINVAL);
    }
    // SAFETY: the caller's guarantee; read unaligned, as C callers may pack it.
    let address = unsafe { name.cast::<sockaddr_in>().read_unaligned() };
    match i32::from(address.sin_family) {
        AF_INET => Ok(SocketAddrV4::new(
            Ipv4Addr::from(address.sin_addr.s_addr.to_ne_bytes()),
            u16::from_be(address.sin_port),
        )),
        AF_INET6 => Err(EAFNOSUPPORT),
        _ => Err(EINVAL),
    }
}

fn to_c(address: SocketAddr) -> sockaddr_in {
    // SAFETY: plain integers: all zeroes is the unspecified address.
    let mut c: sockaddr_in = unsafe { core::mem::zeroed() };
    if let SocketAddr::V4(address) = address {
        c.sin_family = AF_INET as libc::sa_family_t;
        c.sin_port = address.port().to_be();
        c.sin_addr.s_addr = u32::from_ne_bytes(address.ip().octets());
    }
    c
}

/// Stores `address` at `name` (as much as `*length` allows) and its size in `*length`.
///
/// # Safety
/// `name` and `length` must be null or writable (`name` for `*length` bytes).
unsafe fn write_address(address: SocketAddr, name: *mut sockaddr, length: *mut socklen_t) {
    if name.is_null() || length.is_null() {
        return;
    }
    let address = to_c(address);
    // SAFETY: the caller's guarantee.
    unsafe {
        let room = (*length as usize).min(size_of::<sockaddr_in>());
        core::ptr::copy_nonoverlapping((&raw const address).cast::<u8>(), name.cast::<u8>(), room);
        *length = size_of::<sockaddr_in>() as socklen_t;
    }
}

/// `socket(2)`: `AF_INET` with `SOCK_STREAM` (TCP) or `SOCK_DGRAM` (UDP).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn socket(domain: c_int, kind: c_int, _protocol: c_int) -> c_int {
    if domain != AF_INET {
        return fail(EAFNOSUPPORT);
    }
    let stream = match kind & !(SOCK_NONBLOCK | SOCK_CLOEXEC) {
        SOCK_STREAM => true,
        SOCK_DGRAM => false,
        _ => return fail(EPROTONOSUPPORT),
    };
    add(Socket::new(stream), kind & SOCK_NONBLOCK != 0)
}

/// Gives socket `fd` its local address.
///
/// # Safety
/// `name` must be null or readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn bind(fd: i32, name: *const sockaddr, length: socklen_t) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        // SAFETY: the caller's guarantee.
        let local = unsafe { read_address(name, length) }?;
        if socket.stream {
            *socket.local.lock() = Some(local);
        } else {
            let udp = UdpSocket::bind(local).map_err(errno_of)?;
            *socket.bound.lock() = Some(Arc::new(Bound::Datagram(udp)));
        }
        Ok(0)
    })())
}

/// Listens on the address `bind` gave, holding `backlog` connections.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn listen(fd: i32, backlog: i32) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        let local = (*socket.local.lock()).filter(|_| socket.stream).ok_or(EINVAL)?;
        let backlog = usize::try_from(backlog).unwrap_or(1).clamp(1, 1024);
        let listener = TcpListener::bind_with_backlog(local, backlog).map_err(errno_of)?;
        *socket.bound.lock() = Some(Arc::new(Bound::Listener(listener)));
        Ok(0)
    })())
}

/// Takes a connection from listening socket `fd`: a new descriptor, and the peer's
/// address in `*name`.
///
/// # Safety
/// `name` and `length` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn accept(fd: i32, name: *mut sockaddr, length: *mut socklen_t) -> i32 {
    // SAFETY: forwarded.
    unsafe { accept4(fd, name, length, 0) }
}

/// `accept4(2)`: [`accept`] with `SOCK_NONBLOCK` (and `SOCK_CLOEXEC`, which means
/// nothing here) for the new descriptor.
///
/// # Safety
/// As for [`accept`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn accept4(fd: i32, name: *mut sockaddr, length: *mut socklen_t, flags: i32) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        let Some(bound) = socket.bound() else {
            return Err(EINVAL);
        };
        let Bound::Listener(listener) = &*bound else {
            return Err(EINVAL);
        };
        let (stream, peer) = socket.wait(socket.nonblocking(), &socket.read_timeout, listener.accept())?;
        // SAFETY: the caller's guarantee.
        unsafe { write_address(peer, name, length) };
        let accepted = Socket::new(true);
        *accepted.bound.lock() = Some(Arc::new(Bound::Stream(stream)));
        Ok(add(accepted, flags & SOCK_NONBLOCK != 0))
    })())
}

/// Connects socket `fd` to the address at `name` (for a datagram socket: sets where
/// `send` goes).
///
/// # Safety
/// `name` must be null or readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn connect(fd: i32, name: *const sockaddr, length: socklen_t) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        // SAFETY: the caller's guarantee.
        let remote = unsafe { read_address(name, length) }?;
        if !socket.stream {
            *socket.peer.lock() = Some(remote);
            return Ok(0);
        }
        if let Some(bound) = socket.bound() {
            return Err(match &*bound {
                Bound::Stream(stream) if stream.readiness() == Readiness::default() => EALREADY,
                _ => EISCONN,
            });
        }
        // The first segment needs the interface's address (DHCP's, at start-up).
        socket.wait(false, &socket.write_timeout, unik_net::address())?;
        let stream = Arc::new(Bound::Stream(TcpStream::start_connecting(remote).map_err(errno_of)?));
        *socket.bound.lock() = Some(stream.clone());
        if socket.nonblocking() {
            return Err(EINPROGRESS);
        }
        let Bound::Stream(stream) = &*stream else {
            unreachable!()
        };
        let connected = socket.wait(false, &socket.write_timeout, stream.connected());
        if connected.is_err() {
            // A refused socket may connect again.
            *socket.bound.lock() = None;
        }
        connected.map(|()| 0)
    })())
}

/// Receives into `buffer`: the byte count and where it came from.
fn receive(socket: &Socket, nonblocking: bool, buffer: &mut [u8]) -> Result<(usize, Option<SocketAddr>), i32> {
    let bound = socket.bound().ok_or(ENOTCONN)?;
    match &*bound {
        Bound::Stream(stream) => Ok((
            socket.wait(nonblocking, &socket.read_timeout, stream.read(buffer))?,
            None,
        )),
        Bound::Datagram(udp) => {
            let (n, from) = socket.wait(nonblocking, &socket.read_timeout, udp.recv_from(buffer))?;
            Ok((n, Some(from)))
        }
        Bound::Listener(_) => Err(ENOTCONN),
    }
}

/// Sends `bytes` on a stream, or as a datagram to `to` (or the connected peer).
fn send_bytes(socket: &Socket, nonblocking: bool, bytes: &[u8], to: Option<SocketAddrV4>) -> Result<usize, i32> {
    let bound = match socket.bound() {
        Some(bound) => bound,
        // A datagram socket sends from an ephemeral port without a bind.
        None if !socket.stream => {
            let udp = UdpSocket::bind(0u16).map_err(errno_of)?;
            let bound = Arc::new(Bound::Datagram(udp));
            *socket.bound.lock() = Some(bound.clone());
            bound
        }
        None => return Err(ENOTCONN),
    };
    match &*bound {
        Bound::Stream(stream) => socket.wait(nonblocking, &socket.write_timeout, stream.write(bytes)),
        Bound::Datagram(udp) => {
            let to = to.or(*socket.peer.lock()).ok_or(EDESTADDRREQ)?;
            socket.wait(nonblocking, &socket.write_timeout, udp.send_to(bytes, to))
        }
        Bound::Listener(_) => Err(ENOTCONN),
    }
}

/// Receives up to `length` bytes (`MSG_PEEK` is not supported).
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn recv(fd: i32, buffer: *mut u8, length: usize, flags: i32) -> isize {
    // SAFETY: the caller's guarantee.
    unsafe { recvfrom(fd, buffer, length, flags, core::ptr::null_mut(), core::ptr::null_mut()) }
}

/// Receives up to `length` bytes and the sender's address.
///
/// # Safety
/// `buffer` must be writable for `length` bytes; `name` and `name_length` null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn recvfrom(
    fd: i32,
    buffer: *mut u8,
    length: usize,
    flags: i32,
    name: *mut sockaddr,
    name_length: *mut socklen_t,
) -> isize {
    // MSG_NOSIGNAL: no signals are delivered anyway.
    if flags & !libc::MSG_NOSIGNAL != 0 {
        return fail_size(EOPNOTSUPP);
    }
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    let buffer = if length == 0 {
        &mut [][..]
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { core::slice::from_raw_parts_mut(buffer, length) }
    };
    let received = socket_of(fd).and_then(|socket| receive(&socket, socket.nonblocking(), buffer));
    size_status(received.map(|(n, from)| {
        let from = from.or_else(|| peer_of(fd).ok());
        if let Some(from) = from {
            // SAFETY: the caller's guarantee.
            unsafe { write_address(from, name, name_length) };
        }
        n
    }))
}

/// Sends `length` bytes.
///
/// # Safety
/// `buffer` must be readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn send(fd: i32, buffer: *const c_void, length: usize, _flags: i32) -> isize {
    // SAFETY: the caller's guarantee.
    size_status(unsafe { crate::io::slice(buffer, length) }.and_then(|bytes| {
        let socket = socket_of(fd)?;
        send_bytes(&socket, socket.nonblocking(), bytes, None)
    }))
}

/// Sends `length` bytes as a datagram to the address at `to`.
///
/// # Safety
/// `buffer` must be readable for `length` bytes, `to` for `to_length`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sendto(
    fd: i32,
    buffer: *const c_void,
    length: usize,
    _flags: i32,
    to: *const sockaddr,
    to_length: socklen_t,
) -> isize {
    size_status((|| {
        // SAFETY: the caller's guarantee.
        let bytes = unsafe { crate::io::slice(buffer, length) }?;
        // SAFETY: the caller's guarantee.
        let to = if to.is_null() {
            None
        } else {
            Some(unsafe { read_address(to, to_length) }?)
        };
        let socket = socket_of(fd)?;
        send_bytes(&socket, socket.nonblocking(), bytes, to)
    })())
}

/// Closes a direction of a stream (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn shutdown(fd: i32, how: i32) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        let how = match how {
            libc::SHUT_RD => Shutdown::Read,
            libc::SHUT_WR => Shutdown::Write,
            libc::SHUT_RDWR => Shutdown::Both,
            _ => return Err(EINVAL),
        };
        match socket.bound().as_deref() {
            Some(Bound::Stream(stream)) => stream.shutdown(how).map(|()| 0).map_err(errno_of),
            _ => Err(ENOTCONN),
        }
    })())
}

fn local_of(fd: i32) -> Result<SocketAddr, i32> {
    let socket = socket_of(fd)?;
    match socket.bound().as_deref() {
        Some(Bound::Listener(listener)) => Ok(listener.local_addr()),
        Some(Bound::Stream(stream)) => stream.local_addr().map_err(errno_of),
        Some(Bound::Datagram(udp)) => udp.local_addr().map_err(errno_of),
        None => Ok(SocketAddr::V4(
            socket
                .local
                .lock()
                .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
        )),
    }
}

fn peer_of(fd: i32) -> Result<SocketAddr, i32> {
    let socket = socket_of(fd)?;
    match socket.bound().as_deref() {
        Some(Bound::Stream(stream)) => stream.peer_addr().map_err(errno_of),
        _ => socket.peer.lock().map(SocketAddr::V4).ok_or(ENOTCONN),
    }
}

/// Stores the address `found` at `name` (see [`write_address`]): 0, or the failure.
///
/// # Safety
/// `name` and `length` must be null or writable.
unsafe fn answer_address(found: Result<SocketAddr, i32>, name: *mut sockaddr, length: *mut socklen_t) -> i32 {
    // SAFETY: the caller's guarantee.
    status(
        found
            .map(|address| unsafe { write_address(address, name, length) })
            .map(|()| 0),
    )
}

/// This end's address.
///
/// # Safety
/// `name` and `length` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getsockname(fd: i32, name: *mut sockaddr, length: *mut socklen_t) -> i32 {
    // SAFETY: the caller's guarantee.
    unsafe { answer_address(local_of(fd), name, length) }
}

/// The peer's address.
///
/// # Safety
/// `name` and `length` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getpeername(fd: i32, name: *mut sockaddr, length: *mut socklen_t) -> i32 {
    // SAFETY: the caller's guarantee.
    unsafe { answer_address(peer_of(fd), name, length) }
}

fn timeout_nanos(value: timeval) -> u64 {
    let (seconds, micros) = (
        u64::try_from(value.tv_sec).unwrap_or(0),
        u64::try_from(value.tv_usec).unwrap_or(0),
    );
    match seconds.saturating_mul(1_000_000_000).saturating_add(micros * 1000) {
        0 => u64::MAX,
        nanos => nanos,
    }
}

fn timeval_of(nanos: u64) -> timeval {
    if nanos == u64::MAX {
        return timeval { tv_sec: 0, tv_usec: 0 };
    }
    timeval {
        tv_sec: (nanos / 1_000_000_000) as _,
        tv_usec: ((nanos % 1_000_000_000) / 1000) as _,
    }
}

/// Reads a `T` option value.
///
/// # Safety
/// `value` must be null or readable for `length` bytes.
unsafe fn option_value<T: Copy>(value: *const c_void, length: socklen_t) -> Result<T, i32> {
    if value.is_null() || (length as usize) < size_of::<T>() {
        return Err(EINVAL);
    }
    // SAFETY: the caller's guarantee.
    Ok(unsafe { value.cast::<T>().read_unaligned() })
}

/// Sets an option: `SO_RCVTIMEO`, `SO_SNDTIMEO` and `TCP_NODELAY` act; `SO_REUSEADDR`,
/// `SO_KEEPALIVE`, `SO_BROADCAST` and `SO_LINGER` are accepted (the stack behaves so
/// already); others fail with `ENOPROTOOPT`.
///
/// # Safety
/// `value` must be null or readable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn setsockopt(fd: i32, level: i32, name: i32, value: *const c_void, length: socklen_t) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        match (level, name) {
            (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
                // SAFETY: the caller's guarantee.
                let nanos = timeout_nanos(unsafe { option_value::<timeval>(value, length) }?);
                let timeout = if name == SO_RCVTIMEO {
                    &socket.read_timeout
                } else {
                    &socket.write_timeout
                };
                timeout.store(nanos, Ordering::Relaxed);
            }
            (SOL_SOCKET, SO_REUSEADDR | SO_KEEPALIVE | SO_BROADCAST | SO_LINGER) => {}
            (IPPROTO_TCP, TCP_NODELAY) => {
                // SAFETY: the caller's guarantee.
                let on = unsafe { option_value::<i32>(value, length) }? != 0;
                if let Some(Bound::Stream(stream)) = socket.bound().as_deref() {
                    stream.set_nodelay(on).map_err(errno_of)?;
                }
            }
            _ => return Err(ENOPROTOOPT),
        }
        Ok(0)
    })())
}

/// Reads an option (the ones [`setsockopt`] knows, and `SO_ERROR`: `ECONNREFUSED` for a
/// connection that failed, else 0).
///
/// # Safety
/// `value` and `length` must be null or writable (`value` for `*length` bytes).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getsockopt(fd: i32, level: i32, name: i32, value: *mut c_void, length: *mut socklen_t) -> i32 {
    status((|| {
        let socket = socket_of(fd)?;
        if value.is_null() || length.is_null() {
            return Err(EFAULT);
        }
        let flag = |on: bool| i32::from(on).to_ne_bytes();
        let bytes: [u8; 16];
        let answer: &[u8] = match (level, name) {
            (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
                let timeout = if name == SO_RCVTIMEO {
                    &socket.read_timeout
                } else {
                    &socket.write_timeout
                };
                let value = timeval_of(timeout.load(Ordering::Relaxed));
                // SAFETY: timeval is plain data of 16 bytes on the 64-bit targets.
                bytes = unsafe { core::mem::transmute::<timeval, [u8; 16]>(value) };
                &bytes
            }
            (SOL_SOCKET, SO_ERROR) => &socket.connect_error().unwrap_or(0).to_ne_bytes(),
            (SOL_SOCKET, SO_REUSEADDR | SO_KEEPALIVE | SO_BROADCAST) => &flag(false),
            (IPPROTO_TCP, TCP_NODELAY) => match socket.bound().as_deref() {
                Some(Bound::Stream(stream)) => &flag(stream.nodelay().map_err(errno_of)?),
                _ => &flag(false),
            },
            _ => return Err(ENOPROTOOPT),
        };
        // SAFETY: the caller's guarantee.
        unsafe {
            let room = (*length as usize).min(answer.len());
            core::ptr::copy_nonoverlapping(answer.as_ptr(), value.cast::<u8>(), room);
            *length = answer.len() as socklen_t;
        }
        Ok(0)
    })())
}

/// One `getaddrinfo` answer: the record and the address it points to.
#[repr(C)]
struct Resolved {
    info: addrinfo,
    address: sockaddr_in,
}

/// How long `getaddrinfo` waits for the DNS server (its own retransmissions included).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// `name` as an IPv4 address without asking anyone: a dotted quad, or `localhost`.
fn known_address(name: &[u8]) -> Option<Ipv4Addr> {
    if name.eq_ignore_ascii_case(b"localhost") {
        return Some(Ipv4Addr::LOCALHOST);
    }
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// `name`'s IPv4 address: a numeric one, `localhost`, or the DNS server's answer (unless
/// `numeric_only`); the `EAI_*` error otherwise.
fn resolve(name: &[u8], numeric_only: bool) -> Result<Ipv4Addr, i32> {
    if let Some(address) = known_address(name) {
        return Ok(address);
    }
    let name = core::str::from_utf8(name).map_err(|_| libc::EAI_NONAME)?;
    if numeric_only {
        return Err(libc::EAI_NONAME);
    }
    let answer = unik_task::block_on(unik_task::timeout(RESOLVE_TIMEOUT, unik_net::resolve(name)));
    match answer {
        Ok(Ok(address)) => Ok(address),
        Ok(Err(Error::NameNotFound | Error::InvalidInput)) => Err(libc::EAI_NONAME),
        Ok(Err(Error::NoDevice)) => Err(libc::EAI_FAIL),
        Ok(Err(_)) | Err(_) => Err(libc::EAI_AGAIN),
    }
}

/// `getaddrinfo(3)`, IPv4: `node` as a numeric address, `localhost`, or a name the DNS
/// server resolves (the one DHCP gave, or `unik.dns=`, or the manifest's `net.dns`); one
/// answer. `service` must be null, a port number, `http` or `https`.
///
/// # Safety
/// `node` and `service` must be null or NUL-terminated; `hints` null or readable;
/// `result` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const addrinfo,
    result: *mut *mut addrinfo,
) -> i32 {
    if node.is_null() || result.is_null() {
        return libc::EAI_NONAME;
    }
    // SAFETY: the caller's guarantee.
    let hints = unsafe { hints.as_ref() };
    let family = hints.map_or(libc::AF_UNSPEC, |hints| hints.ai_family);
    if family != libc::AF_UNSPEC && family != AF_INET {
        return libc::EAI_FAMILY;
    }
    let numeric_only = hints.is_some_and(|hints| hints.ai_flags & libc::AI_NUMERICHOST != 0);
    // SAFETY: the caller's guarantee.
    let name = unsafe { core::ffi::CStr::from_ptr(node) }.to_bytes();
    let ip = match resolve(name, numeric_only) {
        Ok(ip) => ip,
        Err(code) => return code,
    };
    let port = if service.is_null() {
        0
    } else {
        // SAFETY: the caller's guarantee.
        let service = unsafe { core::ffi::CStr::from_ptr(service) };
        match service.to_bytes() {
            b"http" => 80,
            b"https" => 443,
            digits => match core::str::from_utf8(digits)
                .ok()
                .and_then(|text| text.parse::<u16>().ok())
            {
                Some(port) => port,
                None => return libc::EAI_SERVICE,
            },
        }
    };
    let socktype = hints.map_or(SOCK_STREAM, |hints| hints.ai_socktype);
    let resolved = Box::into_raw(Box::new(Resolved {
        info: addrinfo {
            ai_flags: 0,
            ai_family: AF_INET,
            ai_socktype: socktype,
            ai_protocol: 0,
            ai_addrlen: size_of::<sockaddr_in>() as socklen_t,
            ai_addr: core::ptr::null_mut(),
            ai_canonname: core::ptr::null_mut(),
            ai_next: core::ptr::null_mut(),
        },
        address: to_c(SocketAddr::V4(SocketAddrV4::new(ip, port))),
    }));
    // SAFETY: just allocated; the record points at its own address field.
    unsafe {
        (*resolved).info.ai_addr = (&raw mut (*resolved).address).cast();
        *result = &raw mut (*resolved).info;
    }
    0
}

/// Frees a [`getaddrinfo`] answer.
///
/// # Safety
/// `info` must be null or an answer of [`getaddrinfo`] not freed before.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn freeaddrinfo(info: *mut addrinfo) {
    if !info.is_null() {
        // SAFETY: `info` is the first field of a boxed `Resolved`.
        drop(unsafe { Box::from_raw(info.cast::<Resolved>()) });
    }
}

/// `gai_strerror(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn gai_strerror(code: c_int) -> *const c_char {
    match code {
        libc::EAI_NONAME => c"Name or service not known".as_ptr(),
        libc::EAI_SERVICE => c"Servname not supported for ai_socktype".as_ptr(),
        libc::EAI_AGAIN => c"Temporary failure in name resolution".as_ptr(),
        libc::EAI_FAIL => c"Non-recoverable failure in name resolution".as_ptr(),
        libc::EAI_FAMILY => c"ai_family not supported".as_ptr(),
        _ => c"Unknown error".as_ptr(),
    }
}
