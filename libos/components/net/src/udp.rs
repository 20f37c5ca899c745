//! UDP: [`UdpSocket`].

use crate::{Error, Result, Timeout, ToSocketAddr, limited, with_stack};
use core::net::{SocketAddr, SocketAddrV4};
use core::task::Poll;
use core::time::Duration;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::IpEndpoint;

/// A UDP socket.
#[derive(Debug)]
pub struct UdpSocket {
    handle: SocketHandle,
    read_timeout: Timeout,
}

impl UdpSocket {
    /// Binds to `address`'s port (an ephemeral one for port 0).
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn bind(address: impl ToSocketAddr) -> Result<UdpSocket> {
        let local = address.to_socket_addr()?;
        let handle = with_stack(|stack| stack.bind_udp(local.port()))??;
        Ok(UdpSocket {
            handle,
            read_timeout: Timeout::none(),
        })
    }

    fn with_socket<R>(&self, f: impl FnOnce(&mut udp::Socket<'static>) -> R) -> Result<R> {
        with_stack(|stack| f(stack.sockets.get_mut::<udp::Socket>(self.handle)))
    }

    /// Sends `data` as one datagram to `address`, once the interface has an address.
    pub async fn send_to(&self, data: &[u8], address: impl ToSocketAddr) -> Result<usize> {
        let remote = IpEndpoint::from(address.to_socket_addr()?);
        crate::address().await?;
        core::future::poll_fn(|context| {
            self.with_socket(|socket| match socket.send_slice(data, remote) {
                Ok(()) => Poll::Ready(Ok(data.len())),
                Err(udp::SendError::BufferFull) => {
                    socket.register_send_waker(context.waker());
                    Poll::Pending
                }
                Err(udp::SendError::Unaddressable) => Poll::Ready(Err(Error::InvalidInput)),
            })?
        })
        .await
    }

    /// Waits for a datagram and copies it into `buffer` (the part that does not fit is
    /// dropped, as std does); its length as copied and its sender.
    pub async fn recv_from(&self, buffer: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let receive = core::future::poll_fn(|context| {
            self.with_socket(|socket| match socket.recv() {
                Ok((payload, metadata)) => {
                    let length = payload.len().min(buffer.len());
                    buffer[..length].copy_from_slice(&payload[..length]);
                    Poll::Ready(Ok((length, SocketAddr::from(metadata.endpoint))))
                }
                Err(_) => {
                    socket.register_recv_waker(context.waker());
                    Poll::Pending
                }
            })?
        });
        limited(self.read_timeout.get(), receive).await
    }

    /// Readable with a datagram waiting; writable with room for one.
    pub fn readiness(&self) -> crate::Readiness {
        self.with_socket(|socket| crate::Readiness {
            readable: socket.can_recv(),
            writable: socket.can_send(),
            ..crate::Readiness::default()
        })
        .unwrap_or_default()
    }

    /// The bound port, on every address of the interface.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        let port = self.with_socket(|socket| socket.endpoint().port)?;
        Ok(SocketAddr::V4(SocketAddrV4::new(0.into(), port)))
    }

    /// Limits how long [`UdpSocket::recv_from`] waits (`None`: forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) {
        self.read_timeout.set(timeout);
    }

    /// The limit [`UdpSocket::recv_from`] waits for.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.get()
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = with_stack(|stack| stack.release_udp(self.handle, crate::now()));
    }
}
