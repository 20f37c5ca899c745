//! `https-client URL`: fetches `URL` with ureq and rustls, trusting only the certificate
//! authority in `CA_DER_HEX` (DER, in hexadecimal: the command line carries it), and
//! prints the status and the body's first line.

use std::sync::Arc;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

fn main() {
    let url = std::env::args().nth(1).expect("usage: https-client URL");
    let hex = std::env::var("CA_DER_HEX").expect("CA_DER_HEX: the certificate authority");
    let der: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hexadecimal"))
        .collect();
    let roots = RootCerts::Specific(Arc::new(vec![Certificate::from_der(&der).to_owned()]));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build()
        .into();
    match agent.get(&url).call() {
        Ok(mut response) => {
            let status = response.status();
            let body = response.body_mut().read_to_string().unwrap_or_default();
            println!("status {}", status.as_u16());
            println!("{}", body.lines().find(|line| !line.trim().is_empty()).unwrap_or(""));
        }
        Err(error) => {
            println!("error: {error}");
            std::process::exit(1);
        }
    }
}
