//! A UDP echo server on `unik::net`: every datagram to port 7 goes back to its sender.
#![no_std]
#![no_main]

use unik::net::{self, UdpSocket};
use unik::{println, task};

/// The echo protocol's port.
const PORT: u16 = 7;

#[unik::main]
fn main() -> net::Result<()> {
    let socket = UdpSocket::bind(PORT)?;
    task::block_on(async {
        let interface = net::address().await?;
        println!("udp-echo: listening on {}:{PORT}", interface.address.address());
        let mut buffer = [0; 2048];
        loop {
            let (length, peer) = socket.recv_from(&mut buffer).await?;
            socket.send_to(&buffer[..length], peer).await?;
        }
    })
}
