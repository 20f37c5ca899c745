//! An HTTP/1.1 server written with `std::net`, one thread per connection: the same
//! requests and answers as examples/http (whose HTTP logic it shares), on blocking
//! sockets and std threads instead of tasks.
//!
//! - `GET /`: a fixed page.
//! - `GET /echo?TEXT`: TEXT back, as plain text.
//! - `GET /stats`: the heap in use (`heap_in_use=… allocations=…`), to watch for leaks.
extern crate alloc;

mod connection;
#[path = "../../http/src/http.rs"]
mod http;

use std::net::{Ipv4Addr, TcpListener};
use std::thread;

/// The port the server listens on.
const PORT: u16 = 8080;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, PORT))?;
    println!("std-http: listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || connection::serve(stream, heap_use));
            }
            Err(error) => eprintln!("std-http: accept: {error}"),
        }
    }
    Ok(())
}

/// The heap's bytes and allocations in use, for `GET /stats`.
fn heap_use() -> (usize, usize) {
    let heap = unik::heap::stats();
    (heap.in_use, heap.allocations)
}
