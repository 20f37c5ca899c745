//! The server's HTTP logic, independent of sockets and of the library OS: bytes in,
//! responses out. (`cargo xtask bench` builds this same file into a Linux server, for
//! comparison.)

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

/// A connection idle for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head accepted.
const MAX_HEAD: usize = 8 * 1024;
/// The most header lines a request may have.
const MAX_HEADERS: usize = 32;

const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>unik</title></head>\n<body><h1>Hello from a unik unikernel!</h1></body></html>\n";

/// What `GET /stats` reports: the heap's bytes and allocations in use.
pub type HeapUse = fn() -> (usize, usize);

/// A response, and whether the connection closes after it.
pub struct Response {
    /// Status line, headers and body.
    pub bytes: Vec<u8>,
    /// Close the connection once it is sent.
    pub close: bool,
}

/// What has arrived on one connection and not been answered yet.
pub struct Connection {
    buffer: Vec<u8>,
    filled: usize,
    closed: bool,
    heap_use: HeapUse,
}

impl Connection {
    /// A connection with nothing received; `heap_use` answers `GET /stats`.
    pub fn new(heap_use: HeapUse) -> Connection {
        Connection {
            buffer: vec![0; MAX_HEAD],
            filled: 0,
            closed: false,
            heap_use,
        }
    }

    /// Where the next bytes from the client go.
    pub fn free_space(&mut self) -> &mut [u8] {
        &mut self.buffer[self.filled..]
    }

    /// Records that `count` bytes arrived in [`Connection::free_space`].
    pub fn received(&mut self, count: usize) {
        self.filled = (self.filled + count).min(self.buffer.len());
    }

    /// The response to the next complete request, if one has arrived (or to a broken
    /// one: then the connection closes).
    pub fn next_response(&mut self) -> Option<Response> {
        if self.closed {
            return None;
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let response = match request.parse(&self.buffer[..self.filled]) {
            Ok(httparse::Status::Complete(length)) => {
                let response = respond(&request, self.heap_use);
                self.buffer.copy_within(length..self.filled, 0);
                self.filled -= length;
                response
            }
            Ok(httparse::Status::Partial) if self.filled < self.buffer.len() => return None,
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                error(431, "Request Header Fields Too Large")
            }
            Err(_) => error(400, "Bad Request"),
        };
        self.closed = response.close;
        Some(response)
    }
}

fn header<'a>(request: &httparse::Request<'_, 'a>, name: &str) -> Option<&'a [u8]> {
    request
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case(name))
        .map(|header| header.value)
}

/// Whether the client keeps the connection open: HTTP/1.1 unless it says `close`,
/// HTTP/1.0 only if it says `keep-alive`.
fn keeps_alive(request: &httparse::Request<'_, '_>) -> bool {
    let connection = header(request, "connection").unwrap_or_default();
    let says = |word: &[u8]| {
        connection
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(word))
    };
    match request.version {
        Some(1) => !says(b"close"),
        _ => says(b"keep-alive"),
    }
}

fn respond(request: &httparse::Request<'_, '_>, heap_use: HeapUse) -> Response {
    let has_body = header(request, "content-length").is_some_and(|length| length != b"0")
        || header(request, "transfer-encoding").is_some();
    if request.method != Some("GET") || has_body {
        return error(405, "Method Not Allowed");
    }
    let path = request.path.unwrap_or("/");
    let (status, content_type, body) = match path.split_once('?').unwrap_or((path, "")) {
        ("/", _) => ("200 OK", "text/html", Vec::from(PAGE)),
        ("/echo", query) => ("200 OK", "text/plain", format!("{query}\n").into_bytes()),
        ("/stats", _) => {
            let (in_use, allocations) = heap_use();
            let stats = format!("heap_in_use={in_use} allocations={allocations}\n");
            ("200 OK", "text/plain", stats.into_bytes())
        }
        _ => ("404 Not Found", "text/plain", Vec::from("not found\n")),
    };
    let close = !keeps_alive(request);
    Response {
        bytes: message(status, content_type, &body, close),
        close,
    }
}

fn error(code: u16, reason: &str) -> Response {
    let status = format!("{code} {reason}");
    Response {
        bytes: message(&status, "text/plain", format!("{reason}\n").as_bytes(), true),
        close: true,
    }
}

fn message(status: &str, content_type: &str, body: &[u8], close: bool) -> Vec<u8> {
    let connection = if close { "close" } else { "keep-alive" };
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\nServer: unik\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
