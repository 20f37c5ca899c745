//! TCP: [`TcpListener`] and [`TcpStream`].

use crate::{Error, Result, Timeout, ToSocketAddr, limited, with_stack};
use core::net::{SocketAddr, SocketAddrV4};
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;
use core::time::Duration;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};

/// Connections a listener holds before they are accepted (more are refused).
pub const DEFAULT_BACKLOG: usize = 64;

/// A TCP socket listening for connections.
#[derive(Debug)]
pub struct TcpListener {
    id: usize,
    local: SocketAddrV4,
}

impl TcpListener {
    /// Listens on `address` (`8080` for a port on every address), with a backlog of
    /// [`DEFAULT_BACKLOG`] connections.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn bind(address: impl ToSocketAddr) -> Result<TcpListener> {
        Self::bind_with_backlog(address, DEFAULT_BACKLOG)
    }

    /// Listens on `address`, holding at most `backlog` connections not yet accepted.
    pub fn bind_with_backlog(address: impl ToSocketAddr, backlog: usize) -> Result<TcpListener> {
        let local = address.to_socket_addr()?;
        let endpoint = IpListenEndpoint {
            addr: (!local.ip().is_unspecified()).then(|| (*local.ip()).into()),
            port: local.port(),
        };
        let id = with_stack(|stack| stack.listen(endpoint, backlog))??;
        Ok(TcpListener { id, local })
    }

    /// Waits for a connection; the stream and the peer's address.
    pub async fn accept(&self) -> Result<(TcpStream, SocketAddr)> {
        let handle =
            core::future::poll_fn(
                |context| match with_stack(|stack| stack.accept(self.id, context.waker())) {
                    Ok(Some(handle)) => Poll::Ready(Ok(handle)),
                    Ok(None) => Poll::Pending,
                    Err(error) => Poll::Ready(Err(error)),
                },
            )
            .await?;
        let stream = TcpStream::new(handle);
        stream.established.store(true, Ordering::Relaxed);
        let peer = stream
            .peer_addr()
            .unwrap_or(SocketAddr::V4(SocketAddrV4::new(0.into(), 0)));
        Ok((stream, peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(self.local)
    }

    /// Readable when a connection is waiting to be accepted.
    pub fn readiness(&self) -> Readiness {
        Readiness {
            readable: with_stack(|stack| stack.has_connection(self.id)).unwrap_or(false),
            ..Readiness::default()
        }
    }
}

/// What a socket could do now without waiting, as `poll` and `epoll` report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A read would not wait: data, the end of the stream, an error, or a connection
    /// to accept.
    pub readable: bool,
    /// A write would not wait (room in the send buffer, or an error to report).
    pub writable: bool,
    /// The peer will send nothing more (`EPOLLRDHUP`).
    pub read_closed: bool,
    /// Both directions are closed (`EPOLLHUP`).
    pub hung_up: bool,
    /// The connection failed: refused or reset before it was established (`EPOLLERR`).
    pub failed: bool,
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = with_stack(|stack| stack.unlisten(self.id));
    }
}

/// Which directions [`TcpStream::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Reads return end-of-stream from now on.
    Read,
    /// Sends a FIN after the data already written.
    Write,
    /// Both.
    Both,
}

/// A TCP connection. Dropping it closes the connection (with a reset when received data
/// is left unread, as Linux does).
///
/// Every operation takes `&self`, as with std's `&TcpStream`: one task (or thread) may
/// read while another writes.
#[derive(Debug)]
pub struct TcpStream {
    handle: SocketHandle,
    /// Whether the connection has been seen established (a stream that is closed and
    /// never was one failed to connect).
    established: AtomicBool,
    read_timeout: Timeout,
    write_timeout: Timeout,
    read_shut: AtomicBool,
    write_shut: AtomicBool,
}

impl TcpStream {
    fn new(handle: SocketHandle) -> TcpStream {
        TcpStream {
            handle,
            established: AtomicBool::new(false),
            read_timeout: Timeout::none(),
            write_timeout: Timeout::none(),
            read_shut: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
        }
    }

    fn with_socket<R>(&self, f: impl FnOnce(&mut tcp::Socket<'static>) -> R) -> Result<R> {
        with_stack(|stack| f(stack.sockets.get_mut::<tcp::Socket>(self.handle)))
    }

    /// Connects to `address`, once the interface has an address.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub async fn connect(address: impl ToSocketAddr) -> Result<TcpStream> {
        let remote = address.to_socket_addr()?;
        crate::address().await?;
        let stream = TcpStream::start_connecting(remote)?;
        stream.connected().await?;
        Ok(stream)
    }

    /// Sends the first segment of a connection to `remote` and returns at once (the
    /// interface must have its address): [`TcpStream::connected`] waits for the
    /// handshake, [`TcpStream::readiness`] tells without waiting.
    pub fn start_connecting(remote: SocketAddrV4) -> Result<TcpStream> {
        let handle = with_stack(|stack| stack.connect(IpEndpoint::from(remote)))??;
        Ok(TcpStream::new(handle))
    }

    /// Waits until the handshake [`TcpStream::start_connecting`] began has finished;
    /// `Err(ConnectionRefused)` if it failed.
    pub async fn connected(&self) -> Result<()> {
        core::future::poll_fn(|context| {
            self.with_socket(|socket| match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    socket.register_send_waker(context.waker());
                    Poll::Pending
                }
                tcp::State::Closed if !self.established.load(Ordering::Relaxed) => {
                    Poll::Ready(Err(Error::ConnectionRefused))
                }
                _ => {
                    self.established.store(true, Ordering::Relaxed);
                    Poll::Ready(Ok(()))
                }
            })?
        })
        .await
    }

    /// What a read or a write could do now without waiting.
    pub fn readiness(&self) -> Readiness {
        self.with_socket(|socket| {
            let state = socket.state();
            if matches!(state, tcp::State::SynSent | tcp::State::SynReceived) {
                return Readiness::default();
            }
            let failed = state == tcp::State::Closed && !self.established.load(Ordering::Relaxed);
            if !failed {
                self.established.store(true, Ordering::Relaxed);
            }
            let read_closed = !socket.may_recv();
            let hung_up = read_closed && !socket.may_send();
            Readiness {
                readable: socket.can_recv() || read_closed,
                writable: socket.can_send() || hung_up,
                read_closed,
                hung_up,
                failed,
            }
        })
        .unwrap_or(Readiness {
            hung_up: true,
            failed: true,
            ..Readiness::default()
        })
    }

    /// Reads what has arrived into `buffer`, waiting for at least one byte; `Ok(0)` at the
    /// end of the stream.
    pub async fn read(&self, buffer: &mut [u8]) -> Result<usize> {
        if self.read_shut.load(Ordering::Relaxed) || buffer.is_empty() {
            return Ok(0);
        }
        let write_shut = self.write_shut.load(Ordering::Relaxed);
        let read = core::future::poll_fn(|context| {
            self.with_socket(|socket| {
                if socket.can_recv() {
                    return Poll::Ready(socket.recv_slice(buffer).map_err(|_| Error::ConnectionReset));
                }
                if !socket.may_recv() {
                    // Closed without our having closed first: the peer reset it.
                    let reset = socket.state() == tcp::State::Closed && !write_shut;
                    return Poll::Ready(if reset { Err(Error::ConnectionReset) } else { Ok(0) });
                }
                socket.register_recv_waker(context.waker());
                Poll::Pending
            })?
        });
        limited(self.read_timeout.get(), read).await
    }

    /// Writes some of `data` into the send buffer, waiting for room; how much it took.
    pub async fn write(&self, data: &[u8]) -> Result<usize> {
        if self.write_shut.load(Ordering::Relaxed) {
            return Err(Error::NotConnected);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let write = core::future::poll_fn(|context| {
            self.with_socket(|socket| {
                if !socket.may_send() {
                    return Poll::Ready(Err(Error::ConnectionReset));
                }
                if socket.can_send() {
                    return Poll::Ready(socket.send_slice(data).map_err(|_| Error::ConnectionReset));
                }
                socket.register_send_waker(context.waker());
                Poll::Pending
            })?
        });
        limited(self.write_timeout.get(), write).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let written = self.write(data).await?;
            data = &data[written..];
        }
        Ok(())
    }

    /// Waits until the peer has acknowledged everything written.
    pub async fn flush(&self) -> Result<()> {
        let flush = core::future::poll_fn(|context| {
            self.with_socket(|socket| {
                if socket.send_queue() == 0 {
                    return Poll::Ready(Ok(()));
                }
                if !socket.may_send() && socket.state() == tcp::State::Closed {
                    return Poll::Ready(Err(Error::ConnectionReset));
                }
                socket.register_send_waker(context.waker());
                Poll::Pending
            })?
        });
        limited(self.write_timeout.get(), flush).await
    }

    /// Closes the reading half, the writing half (a FIN after the data already written),
    /// or both.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut.store(true, Ordering::Relaxed);
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) && !self.write_shut.swap(true, Ordering::Relaxed) {
            self.with_socket(|socket| socket.close())?;
        }
        Ok(())
    }

    /// The peer's address (`Err(NotConnected)` once the connection is gone).
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.with_socket(|socket| socket.remote_endpoint())?
            .map(SocketAddr::from)
            .ok_or(Error::NotConnected)
    }

    /// This end's address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.with_socket(|socket| socket.local_endpoint())?
            .map(SocketAddr::from)
            .ok_or(Error::NotConnected)
    }

    /// Limits how long [`TcpStream::read`] waits (`None`: forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) {
        self.read_timeout.set(timeout);
    }

    /// The limit [`TcpStream::read`] waits for.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.get()
    }

    /// Limits how long [`TcpStream::write`] and [`TcpStream::flush`] wait.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) {
        self.write_timeout.set(timeout);
    }

    /// The limit [`TcpStream::write`] waits for.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout.get()
    }

    /// Sends small writes at once instead of waiting to fill a segment (Nagle off).
    pub fn set_nodelay(&self, nodelay: bool) -> Result<()> {
        self.with_socket(|socket| socket.set_nagle_enabled(!nodelay))
    }

    /// Whether small writes go out at once (Nagle off).
    pub fn nodelay(&self) -> Result<bool> {
        self.with_socket(|socket| !socket.nagle_enabled())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = with_stack(|stack| stack.release_tcp(self.handle, crate::now()));
    }
}
