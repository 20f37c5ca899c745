//! A small persistent key-value service over HTTP, with std: each value is a file on the
//! ext2 volume mounted at /data (the manifest's `volumes`; `unik run --volume
//! kv.img:/data:size=64M`), written to a temporary file, synced, renamed into place and
//! the folder synced, so an answered PUT survives a power cut. The index page is a packed
//! file (/srv/index.html).
//!
//! - `GET /`: the index page.
//! - `GET /keys`: the names, one per line.
//! - `PUT /keys/NAME` (body: the value), `GET /keys/NAME`, `DELETE /keys/NAME`.
//!
//! Names are 1 to 64 letters, digits, `.`, `-` or `_` (not starting with `.`). One thread
//! per connection, one request per connection.
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

/// Where the values are.
const KEYS: &str = "/data/keys";
/// The largest value and request head accepted.
const MAX_VALUE: usize = 1 << 20;
const MAX_HEAD: usize = 16 << 10;

fn main() -> std::io::Result<()> {
    match fs::create_dir(KEYS) {
        Err(error) if error.kind() != ErrorKind::AlreadyExists => {
            eprintln!("kv: cannot make {KEYS}: {error} (is a volume attached at /data?)");
            std::process::exit(1);
        }
        _ => {}
    }
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 8080))?;
    println!(
        "kv: {} keys, listening on {}",
        fs::read_dir(KEYS)?.count(),
        listener.local_addr()?
    );
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
    Ok(())
}

/// A response: status, reason, body.
type Response = (u16, &'static str, Vec<u8>);

fn text(status: u16, reason: &'static str, body: impl Into<Vec<u8>>) -> Response {
    (status, reason, body.into())
}

fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let response = match read_request(&mut stream) {
        Ok((method, path, body)) => handle(&method, &path, &body),
        Err(response) => response,
    };
    let (status, reason, body) = response;
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
}

/// Reads one request: method, path and body.
fn read_request(stream: &mut TcpStream) -> Result<(String, String, Vec<u8>), Response> {
    let mut buffer = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let read = stream
            .read(&mut chunk)
            .map_err(|_| text(400, "Bad Request", "unreadable request\n"))?;
        if read == 0 {
            return Err(text(400, "Bad Request", "incomplete request\n"));
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer) {
            Ok(httparse::Status::Complete(head)) => {
                let length = request
                    .headers
                    .iter()
                    .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                    .map(|header| {
                        std::str::from_utf8(header.value)
                            .ok()
                            .and_then(|v| v.trim().parse::<usize>().ok())
                    });
                let length = match length {
                    None => 0,
                    Some(Some(length)) if length <= MAX_VALUE => length,
                    Some(Some(_)) => return Err(text(413, "Content Too Large", "values are at most 1 MiB\n")),
                    Some(None) => return Err(text(400, "Bad Request", "bad Content-Length\n")),
                };
                let method = request.method.unwrap_or_default().to_string();
                let path = request.path.unwrap_or_default().to_string();
                let mut body = buffer[head..].to_vec();
                while body.len() < length {
                    let read = stream
                        .read(&mut chunk)
                        .map_err(|_| text(400, "Bad Request", "body cut short\n"))?;
                    if read == 0 {
                        return Err(text(400, "Bad Request", "body cut short\n"));
                    }
                    body.extend_from_slice(&chunk[..read]);
                }
                body.truncate(length);
                return Ok((method, path, body));
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => {}
            _ => return Err(text(400, "Bad Request", "not an HTTP request\n")),
        }
    }
}

/// Whether `name` may name a key.
fn valid(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn handle(method: &str, path: &str, body: &[u8]) -> Response {
    match (method, path) {
        ("GET", "/") => match fs::read("/srv/index.html") {
            Ok(page) => (200, "OK", page),
            Err(error) => text(500, "Internal Server Error", format!("{error}\n")),
        },
        ("GET", "/keys") => match names() {
            Ok(names) => text(
                200,
                "OK",
                names.iter().map(|name| format!("{name}\n")).collect::<String>(),
            ),
            Err(error) => text(500, "Internal Server Error", format!("{error}\n")),
        },
        (_, path) => {
            let Some(name) = path.strip_prefix("/keys/").filter(|name| valid(name)) else {
                return text(404, "Not Found", "no such resource\n");
            };
            let file = format!("{KEYS}/{name}");
            let result = match method {
                "GET" => fs::read(&file).map(|value| (200, "OK", value)),
                "PUT" => store(name, body).map(|()| text(201, "Created", "stored\n")),
                "DELETE" => fs::remove_file(&file)
                    .and_then(|()| File::open(KEYS)?.sync_all())
                    .map(|()| text(200, "OK", "deleted\n")),
                _ => return text(405, "Method Not Allowed", "GET, PUT or DELETE\n"),
            };
            result.unwrap_or_else(|error| match error.kind() {
                ErrorKind::NotFound => text(404, "Not Found", "no such key\n"),
                ErrorKind::StorageFull => text(507, "Insufficient Storage", "the volume is full\n"),
                _ => text(500, "Internal Server Error", format!("{error}\n")),
            })
        }
    }
}

/// Stores `value` under `name`: durable when this returns.
fn store(name: &str, value: &[u8]) -> std::io::Result<()> {
    let temporary = format!("{KEYS}/.{name}.new");
    let mut file = File::create(&temporary)?;
    file.write_all(value)?;
    file.sync_all()?;
    fs::rename(&temporary, format!("{KEYS}/{name}"))?;
    File::open(KEYS)?.sync_all()
}

fn names() -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(KEYS)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}
