//! One connection of a blocking std server: requests in, responses out, until the client
//! closes, asks to close, misbehaves or stays idle too long. (`cargo xtask bench` builds
//! this same file into its Linux server, next to the same `http` module.)

use std::io::{Read, Write};
use std::net::TcpStream;

use super::http;

/// Serves `stream`; `heap_use` answers `GET /stats`.
pub fn serve(mut stream: TcpStream, heap_use: http::HeapUse) {
    let _ = stream.set_read_timeout(Some(http::IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(http::IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut connection = http::Connection::new(heap_use);
    loop {
        let read = match stream.read(connection.free_space()) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        connection.received(read);
        while let Some(response) = connection.next_response() {
            if stream.write_all(&response.bytes).is_err() || response.close {
                return;
            }
        }
    }
}
