//! TCP: [`TcpListener`] and [`TcpStream`].

use crate::{Error, Result, ToSocketAddr, limited, with_stack};
use core::net::{SocketAddr, SocketAddrV4};
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
        let peer = stream
            .peer_addr()
            .unwrap_or(SocketAddr::V4(SocketAddrV4::new(0.into(), 0)));
        Ok((stream, peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::V4(self.local)
    }
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
#[derive(Debug)]
pub struct TcpStream {
    handle: SocketHandle,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    read_shut: bool,
    write_shut: bool,
}

impl TcpStream {
    fn new(handle: SocketHandle) -> TcpStream {
        TcpStream {
            handle,
            read_timeout: None,
            write_timeout: None,
            read_shut: false,
            write_shut: false,
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
        let handle = with_stack(|stack| stack.connect(IpEndpoint::from(remote)))??;
        let stream = TcpStream::new(handle);
        core::future::poll_fn(|context| {
            stream.with_socket(|socket| match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    socket.register_send_waker(context.waker());
                    Poll::Pending
                }
                tcp::State::Closed => Poll::Ready(Err(Error::ConnectionRefused)),
                _ => Poll::Ready(Ok(())),
            })?
        })
        .await?;
        Ok(stream)
    }

    /// Reads what has arrived into `buffer`, waiting for at least one byte; `Ok(0)` at the
    /// end of the stream.
    pub async fn read(&mut self, buffer: &mut [u8]) -> Result<usize> {
        if self.read_shut || buffer.is_empty() {
            return Ok(0);
        }
        let write_shut = self.write_shut;
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
        limited(self.read_timeout, read).await
    }

    /// Writes some of `data` into the send buffer, waiting for room; how much it took.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.write_shut {
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
        limited(self.write_timeout, write).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let written = self.write(data).await?;
            data = &data[written..];
        }
        Ok(())
    }

    /// Waits until the peer has acknowledged everything written.
    pub async fn flush(&mut self) -> Result<()> {
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
        limited(self.write_timeout, flush).await
    }

    /// Closes the reading half, the writing half (a FIN after the data already written),
    /// or both.
    pub fn shutdown(&mut self, how: Shutdown) -> Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) && !self.write_shut {
            self.write_shut = true;
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
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Limits how long [`TcpStream::write`] and [`TcpStream::flush`] wait.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Sends small writes at once instead of waiting to fill a segment (Nagle off).
    pub fn set_nodelay(&mut self, nodelay: bool) -> Result<()> {
        self.with_socket(|socket| socket.set_nagle_enabled(!nodelay))
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = with_stack(|stack| stack.release_tcp(self.handle, crate::now()));
    }
}
