//! A small HTTP/1.1 keep-alive client for the network tests and the benchmark: requests
//! over long-lived connections, responses read by their `Content-Length`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One keep-alive connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// A response: status code and body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: String,
    /// The `Connection` header said `close`.
    pub close: bool,
}

impl Connection {
    /// Connects to `address`, with `timeout` on every read and write.
    pub fn open(address: SocketAddr, timeout: Duration) -> std::io::Result<Connection> {
        let stream = TcpStream::connect_timeout(&address, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// `GET path` on this connection.
    pub fn get(&mut self, path: &str) -> std::io::Result<Response> {
        write!(self.writer, "GET {path} HTTP/1.1\r\nHost: unik\r\n\r\n")?;
        self.read_response()
    }

    /// Reads one response.
    pub fn read_response(&mut self) -> std::io::Result<Response> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid("no status code"))?;
        let (mut length, mut close) = (0, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').ok_or_else(|| invalid("bad header"))?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().map_err(|_| invalid("bad length"))?,
                "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            close,
        })
    }

    /// The socket, for tests that misbehave on purpose.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.writer
    }
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Requests answered with 200 and the expected body.
    pub ok: usize,
    /// Requests that failed (connection errors, wrong status or body).
    pub errors: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Latency of each successful request.
    pub latencies: Vec<Duration>,
    /// The first failures, as text.
    pub first_errors: Vec<String>,
}

impl LoadReport {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile latency (0..=100).
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

/// Runs `per_connection` requests on each of `connections` keep-alive connections at
/// once. At each of `checkpoints` (a number of requests per connection, up to
/// `per_connection`, in increasing order), every connection pauses, with its connection
/// open, while `at_checkpoint` runs on the calling thread.
///
/// The connections are opened one after another, each with its first request answered
/// before the next opens: QEMU's user network accepts forwarded connections with a
/// backlog of one, and a burst of simultaneous connects overflows the host kernel's
/// accept queue (those connections are reset without ever reaching the guest).
pub fn load(
    address: SocketAddr,
    connections: usize,
    per_connection: usize,
    checkpoints: &[usize],
    mut at_checkpoint: impl FnMut(usize),
) -> LoadReport {
    use std::sync::{Arc, Barrier};
    let barrier = Arc::new(Barrier::new(connections + 1));
    let start = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections {
        let mut report = LoadReport::default();
        let mut connection = Connection::open(address, Duration::from_secs(20));
        let mut request = 0;
        let ask = move |connection: &mut std::io::Result<Connection>, request: usize, report: &mut LoadReport| {
            let text = format!("w{worker}r{request}");
            let sent = Instant::now();
            let answer = match connection.as_mut() {
                Ok(connection) => connection.get(&format!("/echo?{text}")),
                Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
            };
            match answer {
                Ok(response) if response.status == 200 && response.body == format!("{text}\n") => {
                    report.ok += 1;
                    report.latencies.push(sent.elapsed());
                }
                failure => {
                    report.errors += 1;
                    if report.first_errors.is_empty() {
                        report
                            .first_errors
                            .push(format!("connection {worker}, request {request}: {failure:?}"));
                    }
                }
            }
        };
        if per_connection > 0 && !checkpoints.contains(&0) {
            ask(&mut connection, 0, &mut report);
            request = 1;
        }
        let barrier = barrier.clone();
        let checkpoints = checkpoints.to_vec();
        workers.push(std::thread::spawn(move || {
            for request in request..=per_connection {
                if checkpoints.contains(&request) {
                    barrier.wait();
                    barrier.wait();
                }
                if request < per_connection {
                    ask(&mut connection, request, &mut report);
                }
            }
            report
        }));
    }
    for &checkpoint in checkpoints.iter().filter(|&&c| c <= per_connection) {
        barrier.wait();
        at_checkpoint(checkpoint);
        barrier.wait();
    }
    let mut total = LoadReport::default();
    for worker in workers {
        let report = worker.join().expect("a load worker");
        total.ok += report.ok;
        total.errors += report.errors;
        total.latencies.extend(report.latencies);
        if total.first_errors.len() < 5 {
            total.first_errors.extend(report.first_errors);
        }
    }
    total.elapsed = start.elapsed();
    total
}
