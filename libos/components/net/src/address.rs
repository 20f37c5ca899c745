//! What the socket constructors accept as an address, as std's `ToSocketAddrs` does
//! (without name resolution).

use crate::{Error, Result};
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Something that names one IPv4 socket address.
pub trait ToSocketAddr {
    /// The address, or [`Error::InvalidInput`].
    fn to_socket_addr(&self) -> Result<SocketAddrV4>;
}

impl ToSocketAddr for SocketAddrV4 {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        Ok(*self)
    }
}

impl ToSocketAddr for SocketAddr {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        match self {
            SocketAddr::V4(address) => Ok(*address),
            SocketAddr::V6(_) => Err(Error::InvalidInput),
        }
    }
}

/// A port on every address of the interface (`0.0.0.0:port`).
impl ToSocketAddr for u16 {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        Ok(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, *self))
    }
}

impl ToSocketAddr for (Ipv4Addr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        Ok(SocketAddrV4::new(self.0, self.1))
    }
}

impl ToSocketAddr for ([u8; 4], u16) {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        Ok(SocketAddrV4::new(self.0.into(), self.1))
    }
}

/// `"10.0.2.2:8080"`.
impl ToSocketAddr for str {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        self.parse().map_err(|_| Error::InvalidInput)
    }
}

impl<T: ToSocketAddr + ?Sized> ToSocketAddr for &T {
    fn to_socket_addr(&self) -> Result<SocketAddrV4> {
        (**self).to_socket_addr()
    }
}
