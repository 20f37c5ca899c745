//! An HTTP/1.1 server on `unik::net`, one task per connection, keep-alive by default.
//!
//! - `GET /`: a fixed page.
//! - `GET /echo?TEXT`: TEXT back, as plain text.
//! - `GET /stats`: the heap in use (`heap_in_use=… allocations=…`), to watch for leaks.
//!
//! Hostile clients cost little: a request head over 8 KiB gets `431` and the connection
//! closes, bad requests get `400`, and a connection idle for 10 s is closed.
#![no_std]
#![no_main]

extern crate alloc;

mod http;

use unik::net::{self, TcpListener, TcpStream};
use unik::{println, task};

/// The port the server listens on.
const PORT: u16 = 8080;

#[unik::main]
fn main() -> net::Result<()> {
    let listener = TcpListener::bind(PORT)?;
    task::block_on(async {
        let interface = net::address().await?;
        println!("http: listening on {}:{PORT}", interface.address.address());
        loop {
            let (stream, _peer) = listener.accept().await?;
            task::spawn(serve(stream));
        }
    })
}

/// Answers requests on one connection until the client closes it, asks to close it,
/// misbehaves, or stays idle too long.
async fn serve(stream: TcpStream) {
    stream.set_read_timeout(Some(http::IDLE_TIMEOUT));
    stream.set_write_timeout(Some(http::IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut connection = http::Connection::new(|| {
        let heap = unik::heap::stats();
        (heap.in_use, heap.allocations)
    });
    loop {
        let Ok(read) = stream.read(connection.free_space()).await else {
            return;
        };
        if read == 0 {
            return;
        }
        connection.received(read);
        while let Some(response) = connection.next_response() {
            if stream.write_all(&response.bytes).await.is_err() || response.close {
                return;
            }
        }
    }
}
