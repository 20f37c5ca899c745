//! An HTTPS server: axum behind rustls (ring), on tokio's multi-thread runtime.
//!
//! At start it makes a self-signed certificate for the names given on the command line
//! (default `localhost`), prints it (PEM, between `-----BEGIN CERTIFICATE-----` lines) so
//! a client can trust it (`curl --cacert`), and serves on port 8443:
//!
//! - `GET /` — a greeting naming the TLS version
//! - `GET /echo?TEXT` — `TEXT` and a newline

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A self-signed certificate for `names` and the TLS configuration that serves it.
fn tls_config(names: Vec<String>) -> (String, rustls::ServerConfig) {
    let certified = rcgen::generate_simple_self_signed(names).expect("a self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let pem = certified.cert.pem();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("the certificate and its key");
    (pem, config)
}

#[tokio::main]
async fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        names.push("localhost".into());
    }
    let (pem, mut config) = tls_config(names);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    print!("{pem}");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let app = Router::new()
        .route("/", get(|| async { "hello over TLS from axum and rustls on unik\n" }))
        .route(
            "/echo",
            get(|RawQuery(text): RawQuery| async move { format!("{}\n", text.unwrap_or_default()) }),
        );
    let listener = TcpListener::bind("0.0.0.0:8443").await.expect("bind 8443");
    println!("https: listening on {}", listener.local_addr().expect("address"));
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(stream) => stream,
                Err(error) => return eprintln!("https: {peer}: handshake: {error}"),
            };
            let service = TowerToHyperService::new(app);
            if let Err(error) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("https: {peer}: {error}");
            }
        });
    }
}
