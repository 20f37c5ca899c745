//! A TCP echo server on tokio's multi-thread runtime, as tokio's own example writes it:
//! every connection a task; each line (or any bytes) comes back as it was sent.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("0.0.0.0:7777").await?;
    println!("tokio-echo: listening on {}", listener.local_addr()?);
    loop {
        let (mut socket, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            loop {
                match socket.read(&mut buffer).await {
                    Ok(0) => return,
                    Ok(n) => {
                        if socket.write_all(&buffer[..n]).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        eprintln!("tokio-echo: {peer}: {error}");
                        return;
                    }
                }
            }
        });
    }
}
