//! Sockets: BSD-style calls on the network component's `TcpListener`, `TcpStream` and
//! `UdpSocket` (IPv4), each a descriptor from 3 up.
//!
//! A blocking call runs the operation with `unik_task::block_on`, which parks the calling
//! thread while the operation waits, so other threads run; with `FIONBIO` set it is
//! tried once (`-EAGAIN` when it would wait). The socket table is reached from the
//! descriptor calls ([`crate::io`]) only through [`SOCKET_IO`], installed by the first
//! `socket`: a program that makes no socket carries no network code. `dup` gives a second
//! descriptor for the same socket (std's `try_clone`); it closes with the last one.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::ffi::{c_char, c_int, c_void};
use core::future::Future;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use core::time::Duration;
use libc::{
    AF_INET, AF_INET6, IPPROTO_TCP, SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVTIMEO, SO_REUSEADDR,
    SO_SNDTIMEO, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, TCP_NODELAY, addrinfo, sockaddr,
    sockaddr_in, socklen_t, timeval,
};
use spinning_top::Spinlock;
use unik_net::{Error, Shutdown, TcpListener, TcpStream, UdpSocket};

use crate::errno::{
    EADDRINUSE, EAFNOSUPPORT, EAGAIN, EBADF, ECONNREFUSED, ECONNRESET, EFAULT, EINVAL, ENETUNREACH, ENODEV, ENOTCONN,
    ENOTSOCK, EOPNOTSUPP, ETIMEDOUT, fail, fail_size,
};
use libc::{EDESTADDRREQ, EISCONN, ENOPROTOOPT, EPROTONOSUPPORT};

/// What the descriptor calls need from the socket table.
struct SocketIo {
    read: fn(i32, &mut [u8]) -> isize,
    write: fn(i32, &[u8]) -> isize,
    close: fn(i32) -> i32,
    duplicate: fn(i32, i32) -> i32,
    is_socket: fn(i32) -> bool,
    flags: fn(i32) -> i32,
    set_nonblocking: fn(i32, bool) -> i32,
}

static SOCKET_IO: AtomicPtr<SocketIo> = AtomicPtr::new(core::ptr::null_mut());
static INSTALLED_IO: SocketIo = SocketIo {
    read: |fd, buffer| recv_on(fd, buffer),
    write: |fd, bytes| send_on(fd, bytes),
    close: close_socket,
    duplicate: duplicate_socket,
    is_socket: |fd| SOCKETS.lock().contains_key(&fd),
    flags: |fd| {
        status(socket_of(fd).map(|socket| {
            if socket.nonblocking.load(Ordering::Relaxed) {
                libc::O_RDWR | libc::O_NONBLOCK
            } else {
                libc::O_RDWR
            }
        }))
    },
    set_nonblocking: |fd, on| {
        status(socket_of(fd).map(|socket| {
            socket.nonblocking.store(on, Ordering::Relaxed);
            0
        }))
    },
};

fn socket_io() -> Option<&'static SocketIo> {
    // SAFETY: only `socket` stores, a pointer to a static.
    unsafe { SOCKET_IO.load(Ordering::Acquire).as_ref() }
}

/// Reads from socket `fd` (for `read`).
pub(crate) fn read(fd: i32, buffer: &mut [u8]) -> isize {
    socket_io().map_or_else(|| fail_size(EBADF), |io| (io.read)(fd, buffer))
}

/// Writes to socket `fd` (for `write`).
pub(crate) fn write(fd: i32, bytes: &[u8]) -> isize {
    socket_io().map_or_else(|| fail_size(EBADF), |io| (io.write)(fd, bytes))
}

/// Closes socket `fd` (for `close`).
pub(crate) fn close(fd: i32) -> i32 {
    socket_io().map_or_else(|| fail(EBADF), |io| (io.close)(fd))
}

/// A second descriptor for socket `fd`, at or above `from` (for `dup`, `fcntl`).
pub(crate) fn duplicate(fd: i32, from: i32) -> i32 {
    socket_io().map_or_else(|| fail(EBADF), |io| (io.duplicate)(fd, from))
}

/// Whether `fd` is a socket.
pub(crate) fn is_socket(fd: i32) -> bool {
    socket_io().is_some_and(|io| (io.is_socket)(fd))
}

/// `fcntl(F_GETFL)` of socket `fd`.
pub(crate) fn flags(fd: i32) -> i32 {
    socket_io().map_or_else(|| fail(EBADF), |io| (io.flags)(fd))
}

/// Non-blocking mode of socket `fd` on or off (`FIONBIO`, `O_NONBLOCK`).
pub(crate) fn set_nonblocking(fd: i32, on: bool) -> i32 {
    socket_io().map_or_else(|| fail(EBADF), |io| (io.set_nonblocking)(fd, on))
}

/// What a socket has become.
enum Bound {
    Listener(TcpListener),
    Stream(TcpStream),
    Datagram(UdpSocket),
}

/// A descriptor's socket.
struct Socket {
    stream: bool,
    nonblocking: AtomicBool,
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
    fn new(stream: bool, nonblocking: bool) -> Socket {
        Socket {
            stream,
            nonblocking: AtomicBool::new(nonblocking),
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

    /// Runs `operation`, blocking (up to `timeout`) or, when non-blocking, trying once.
    fn wait<T>(&self, timeout: &AtomicU64, operation: impl Future<Output = unik_net::Result<T>>) -> Result<T, i32> {
        let result = if self.nonblocking.load(Ordering::Relaxed) {
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
    }
}

static SOCKETS: Spinlock<BTreeMap<i32, Arc<Socket>>> = Spinlock::new(BTreeMap::new());

/// The first descriptor a socket gets.
const FIRST_SOCKET: i32 = 3;

fn socket_of(fd: i32) -> Result<Arc<Socket>, i32> {
    SOCKETS.lock().get(&fd).cloned().ok_or(ENOTSOCK)
}

fn add(socket: Socket) -> i32 {
    insert(Arc::new(socket), FIRST_SOCKET)
}

/// Gives `socket` the lowest free descriptor at or above `from`.
fn insert(socket: Arc<Socket>, from: i32) -> i32 {
    let fd = crate::io::free_descriptor(from.max(FIRST_SOCKET));
    SOCKETS.lock().insert(fd, socket);
    fd
}

fn duplicate_socket(fd: i32, from: i32) -> i32 {
    status(socket_of(fd).map(|socket| insert(socket, from)))
}

/// `Ok(value)` as itself, `Err(code)` as -1 with `errno` set.
fn status(result: Result<i32, i32>) -> i32 {
    result.unwrap_or_else(fail)
}

fn size_status(result: Result<usize, i32>) -> isize {
    result.map_or_else(fail_size, |n| n as isize)
}

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
    // Opaque to the optimiser: seeing the one value ever stored, it would call the
    // socket functions directly from `write` and keep them in every image.
    SOCKET_IO.store(
        core::hint::black_box((&raw const INSTALLED_IO).cast_mut()),
        Ordering::Release,
    );
    add(Socket::new(stream, kind & SOCK_NONBLOCK != 0))
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
        let (stream, peer) = socket.wait(&socket.read_timeout, listener.accept())?;
        // SAFETY: the caller's guarantee.
        unsafe { write_address(peer, name, length) };
        let accepted = Socket::new(true, flags & SOCK_NONBLOCK != 0);
        *accepted.bound.lock() = Some(Arc::new(Bound::Stream(stream)));
        Ok(add(accepted))
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
        if socket.bound().is_some() {
            return Err(EISCONN);
        }
        let stream = socket.wait(&socket.write_timeout, TcpStream::connect(remote))?;
        *socket.bound.lock() = Some(Arc::new(Bound::Stream(stream)));
        Ok(0)
    })())
}

fn recv_on(fd: i32, buffer: &mut [u8]) -> isize {
    size_status(receive(fd, buffer).map(|(n, _)| n))
}

/// Receives into `buffer`: the byte count and where it came from.
fn receive(fd: i32, buffer: &mut [u8]) -> Result<(usize, Option<SocketAddr>), i32> {
    let socket = socket_of(fd)?;
    let bound = socket.bound().ok_or(ENOTCONN)?;
    match &*bound {
        Bound::Stream(stream) => Ok((socket.wait(&socket.read_timeout, stream.read(buffer))?, None)),
        Bound::Datagram(udp) => {
            let (n, from) = socket.wait(&socket.read_timeout, udp.recv_from(buffer))?;
            Ok((n, Some(from)))
        }
        Bound::Listener(_) => Err(ENOTCONN),
    }
}

fn send_on(fd: i32, bytes: &[u8]) -> isize {
    size_status(send_bytes(fd, bytes, None))
}

/// Sends `bytes` on a stream, or as a datagram to `to` (or the connected peer).
fn send_bytes(fd: i32, bytes: &[u8], to: Option<SocketAddrV4>) -> Result<usize, i32> {
    let socket = socket_of(fd)?;
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
        Bound::Stream(stream) => socket.wait(&socket.write_timeout, stream.write(bytes)),
        Bound::Datagram(udp) => {
            let to = to.or(*socket.peer.lock()).ok_or(EDESTADDRREQ)?;
            socket.wait(&socket.write_timeout, udp.send_to(bytes, to))
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
    size_status(receive(fd, buffer).map(|(n, from)| {
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
    size_status(unsafe { crate::io::slice(buffer, length) }.and_then(|bytes| send_bytes(fd, bytes, None)))
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
        send_bytes(fd, bytes, to)
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

fn close_socket(fd: i32) -> i32 {
    match SOCKETS.lock().remove(&fd) {
        Some(_) => 0,
        None => fail(EBADF),
    }
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

/// Reads an option (the ones [`setsockopt`] knows, and `SO_ERROR`, always 0).
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
            (SOL_SOCKET, SO_ERROR | SO_REUSEADDR | SO_KEEPALIVE | SO_BROADCAST) => &flag(false),
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

/// `name` as an IPv4 address: a dotted quad, or `localhost`.
fn resolve(name: &[u8]) -> Option<Ipv4Addr> {
    if name == b"localhost" {
        return Some(Ipv4Addr::LOCALHOST);
    }
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// Resolves `node` to one IPv4 address: numeric addresses and `localhost` only (there is
/// no DNS resolver); other names fail with `EAI_NONAME`. `service` must be null or a
/// port number.
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
    let name = unsafe { core::ffi::CStr::from_ptr(node) }.to_bytes();
    let Some(ip) = resolve(name) else {
        return libc::EAI_NONAME;
    };
    let port = if service.is_null() {
        0
    } else {
        // SAFETY: the caller's guarantee.
        let service = unsafe { core::ffi::CStr::from_ptr(service) };
        match service.to_str().ok().and_then(|text| text.parse::<u16>().ok()) {
            Some(port) => port,
            None => return libc::EAI_SERVICE,
        }
    };
    // SAFETY: the caller's guarantee.
    let socktype = unsafe { hints.as_ref() }.map_or(SOCK_STREAM, |hints| hints.ai_socktype);
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
        _ => c"Unknown error".as_ptr(),
    }
}
